"""export_gold: the files, their round trips, determinism, atomicity and quality gates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import spacy
from gold_fixtures import TEXT, ann, project, span, task
from spacy.tokens import DocBin

from annotate.errors import ExportError, QualityGateError
from annotate.export import export_gold, pooled_span_f1
from annotate.gold.decide import make_decision
from annotate.gold.decisions import append_decision
from annotate.records import Prediction, Relation
from annotate.training.docbin import SPAN_KEY

TEXT2 = "Militants killed 11 people in Kabul. Police arrested two men."
TEXT3 = "The army shelled Homs overnight, residents said."


def read_docbin(path: Path | str) -> list[dict[str, object]]:
    """An exported DocBin read back with spaCy alone: per doc its id, spans in spans["sc"] and entities as sorted
    (start, end, label) lists, and relations as (from span, to span, type) with the spans as (start, end, label)."""
    nlp = spacy.blank("en")
    out = []
    for doc in DocBin().from_disk(path).get_docs(nlp.vocab):
        group = list(doc.spans.get(SPAN_KEY, []))
        keys = [(s.start_char, s.end_char, s.label_) for s in group]
        out.append({
            "id": doc.user_data.get("id"),
            "text": doc.text,
            "spans": sorted((s.start_char, s.end_char, s.label_) for s in doc.spans.get(SPAN_KEY, [])),
            "ents": sorted((e.start_char, e.end_char, e.label_) for e in doc.ents),
            "relations": sorted((keys[h], keys[c], kind) for h, c, kind in doc.user_data.get("relations", [])),
        })
    return out


def rich_tasks():
    """Majority task with a relation-tied event, a single-annotated task, a task with a misaligned span."""
    rel = (Relation("r", "o", "agent_of"), Relation("o", "l", "located_at"))
    event = [span(0, 6, "ACTOR", id="r"), span(7, 13, "OUTCOME", id="o"), span(14, 20, "LOCATION", id="l")]
    pred = Prediction("sm-1", (span(0, 6, "ACTOR"), span(14, 20, "OUTCOME")), prediction_id=3)
    return [
        task(1, [ann(1, "a@x", event, relations=rel, parent=3), ann(1, "b@x", event, relations=rel, parent=3),
                 ann(1, "c@x", [span(0, 6, "ACTOR"), span(64, 69, "LOCATION")], parent=3)], predictions=(pred,),
             meta={"source": "wire", "date": "2024-01-02"}),
        task(2, [ann(2, "a@x", [span(0, 9, "ACTOR", TEXT2), span(10, 26, "OUTCOME", TEXT2),
                                span(10, 16, "OUTCOME", TEXT2), span(30, 35, "LOCATION", TEXT2)])], text=TEXT2),
        # "Hom" cuts through the token "Homs": kept in gold.jsonl, expanded in DocBin/CoNLL, reported.
        task(3, [ann(3, "b@x", [span(4, 8, "ACTOR", TEXT3), span(17, 20, "LOCATION", TEXT3)])], text=TEXT3),
    ]


@pytest.fixture
def settings(tmp_path):
    return project(tmp_path, dev_ratio=0.34)


@pytest.fixture
def exported(settings):
    return export_gold(rich_tasks(), settings, source="fixture")


def gold_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "gold.jsonl").read_text().splitlines()]


def test_export_writes_every_file(exported):
    names = sorted(p.name for p in exported.folder.iterdir())
    assert names == ["README.md", "dev.spacy", "disagreements.jsonl", "events.csv", "events.parquet", "gold.conll",
                     "gold.jsonl", "labelstudio.json", "manifest.json", "problems.jsonl", "spans.csv", "spans.parquet",
                     "train.spacy"]


def test_latest_points_at_the_new_folder(exported, settings):
    latest = settings.exports_dir / "gold" / "latest"
    assert latest.is_symlink() and latest.resolve() == exported.folder.resolve()


def test_docbin_round_trip_yields_the_gold_spans(exported):
    docs = {d["id"]: d for side in ("train", "dev") for d in read_docbin(exported.folder / f"{side}.spacy")}
    for row in gold_lines(exported.folder):
        expected = sorted((s["aligned_start"], s["aligned_end"], s["label"]) for s in row["spans"]
                          if s["aligned_start"] is not None)
        assert docs[row["id"]]["spans"] == expected
        assert docs[row["id"]]["text"] == row["text"]


def test_docbin_carries_the_gold_relations_over_spans_sc(exported):
    docs = {d["id"]: d for side in ("train", "dev") for d in read_docbin(exported.folder / f"{side}.spacy")}
    assert docs["art-1"]["relations"] == [((0, 6, "ACTOR"), (7, 13, "OUTCOME"), "agent_of"),
                                          ((7, 13, "OUTCOME"), (14, 20, "LOCATION"), "located_at")]
    assert docs["art-2"]["relations"] == []


def test_aligned_spans_round_trip_unchanged(exported):
    docs = {d["id"]: d for side in ("train", "dev") for d in read_docbin(exported.folder / f"{side}.spacy")}
    row = next(r for r in gold_lines(exported.folder) if r["id"] == "art-2")
    assert docs["art-2"]["spans"] == sorted((s["start"], s["end"], s["label"]) for s in row["spans"])


def test_overlapping_spans_stay_in_sc_but_not_in_ents(exported):
    doc = next(d for side in ("train", "dev") for d in read_docbin(exported.folder / f"{side}.spacy")
               if d["id"] == "art-2")
    assert (10, 16, "OUTCOME") in doc["spans"] and (10, 16, "OUTCOME") not in doc["ents"]
    assert doc["ents"] == [(0, 9, "ACTOR"), (10, 26, "OUTCOME"), (30, 35, "LOCATION")]


def test_misaligned_span_is_reported_and_expanded_not_dropped(exported):
    row = next(r for r in gold_lines(exported.folder) if r["id"] == "art-3")
    hom = next(s for s in row["spans"] if s["label"] == "LOCATION")
    assert (hom["text"], hom["aligned_start"], hom["aligned_end"], hom["token_aligned"]) == ("Hom", 17, 21, False)
    assert any(p.kind == "alignment" and "'Homs'" in p.message for p in exported.problems)


def test_gold_jsonl_provenance(exported):
    row = next(r for r in gold_lines(exported.folder) if r["id"] == "art-1")
    by_id = {s["id"]: s for s in row["spans"]}
    assert (row["status"], row["single_annotated"]) == ("majority", False)
    assert by_id["0-6-ACTOR"]["annotators"] == ["a@x", "b@x", "c@x"]
    assert (by_id["0-6-ACTOR"]["origin"], by_id["0-6-ACTOR"]["model_version"]) == ("prediction", "sm-1")
    assert (by_id["14-20-LOCATION"]["origin"], by_id["14-20-LOCATION"]["correction"]) == ("corrected", "label")
    assert by_id["7-13-OUTCOME"]["origin"] == "hand"


def test_disagreements_file_lists_minority_spans(exported):
    rows = [json.loads(x) for x in (exported.folder / "disagreements.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["start"], r["end"], r["label"], r["support"]) for r in rows] == [
        (1, 64, 69, "LOCATION", ["c@x"])]


def test_events_table_ties_actor_and_location_to_outcome(exported):
    events = pd.read_csv(exported.folder / "events.csv", keep_default_na=False)
    columns = ["article_id", "outcome", "agent_of", "agent_of_ids", "located_at", "sentence", "event_date", "source"]
    assert events[columns].to_dict("records")[0] == {
        "article_id": "art-1", "outcome": "seized", "agent_of": "Rebels", "agent_of_ids": "0-6-ACTOR",
        "located_at": "Aleppo", "sentence": "Rebels seized Aleppo on Monday.", "event_date": "2024-01-02",
        "source": "wire"}


def test_events_table_has_a_row_for_every_outcome_relations_or_not(exported):
    events = pd.read_csv(exported.folder / "events.csv", keep_default_na=False)
    assert [(r["article_id"], r["span_id"], r["outcome_type"], r["fatalities"], r["agent_of"]) for r in
            events.to_dict("records")] == [
        ("art-1", "7-13-OUTCOME", "change_of_control", "", "Rebels"),
        ("art-2", "10-16-OUTCOME", "casualties", "", ""),
        ("art-2", "10-26-OUTCOME", "casualties", "11", "")]
    assert exported.counts["events"] == 3


def test_span_table_csv_and_parquet_agree(exported):
    csv = pd.read_csv(exported.folder / "spans.csv")
    parquet = pd.read_parquet(exported.folder / "spans.parquet")
    assert len(csv) == len(parquet) == exported.counts["spans"] == 9
    assert list(csv["span_id"]) == list(parquet["span_id"])


def test_rerun_gives_byte_identical_files(settings, exported):
    again = export_gold(rich_tasks(), settings, source="fixture")
    assert again.folder == exported.folder
    first = {p.name: p.read_bytes() for p in exported.folder.iterdir()}
    # Build into a second project to be sure the bytes, not just the folder name, repeat.
    other = export_gold(rich_tasks(), project(settings.root / "other", dev_ratio=0.34), source="fixture")
    assert {p.name: p.read_bytes() for p in other.folder.iterdir()} == first


def test_conll_is_accepted_by_spacy_convert(exported, tmp_path):
    out = tmp_path / "converted"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "spacy", "convert", str(exported.folder / "gold.conll"), str(out),
                           "--converter", "conll"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    docs = read_docbin(out / "gold.spacy")
    assert len(docs) == 3
    ents = [[(e[2], d["text"][e[0]:e[1]].strip()) for e in d["ents"]] for d in docs]
    assert ("ACTOR", "Rebels") in ents[0] and ("LOCATION", "Homs") in ents[2]


def test_bad_labels_leave_the_previous_export_untouched(settings, exported):
    before = sorted(p.name for p in (settings.exports_dir / "gold").iterdir())
    foreign = [task(9, [ann(9, "a@x", [span(0, 6, "PERSON")])])]
    with pytest.raises(ExportError, match="PERSON"):
        export_gold(foreign, settings, source="other project")
    assert sorted(p.name for p in (settings.exports_dir / "gold").iterdir()) == before
    assert (settings.exports_dir / "gold" / "latest").resolve() == exported.folder.resolve()


@pytest.mark.parametrize(("tasks", "message"), [
    ([], "no tasks to export"),
    ([task(1, [])], "none of the 1 tasks has a usable submitted annotation"),
])
def test_empty_project_is_a_clear_error(settings, tasks, message):
    with pytest.raises(ExportError, match=message):
        export_gold(tasks, settings)
    assert not (settings.exports_dir / "gold" / "latest").exists()


def test_min_agreement_gate_fails_before_publishing(settings):
    with pytest.raises(QualityGateError, match=r"agreement 0\.625 is below --min-agreement 0\.7") as info:
        export_gold(rich_tasks(), settings, min_agreement=0.7)
    assert info.value.exit_code == 3
    assert (info.value.result.folder / "gold.jsonl").exists()  # kept under its hash for the lead to look at
    assert "NOT published" in str(info.value) and str(info.value.result.folder) in str(info.value)
    assert not (settings.exports_dir / "gold" / "latest").exists()


def test_a_build_below_min_agreement_leaves_latest_where_it_was(settings, exported):
    worse = rich_tasks()
    worse[0] = task(1, [ann(1, "a@x", [span(0, 6, "ACTOR")]), ann(1, "b@x", [span(7, 13, "OUTCOME")])])
    with pytest.raises(QualityGateError, match=r"is below --min-agreement 0\.5.*NOT published.*still "
                                               + exported.folder.name) as info:
        export_gold(worse, settings, min_agreement=0.5)
    assert info.value.result.folder != exported.folder and (info.value.result.folder / "gold.jsonl").exists()
    assert (settings.exports_dir / "gold" / "latest").resolve() == exported.folder.resolve()


def test_unmeasurable_agreement_is_not_published_either(settings):
    with pytest.raises(QualityGateError, match="cannot be measured.*no task has annotations by two or more annotators.*NOT "
                                               "published"):
        export_gold([task(1, [ann(1, "a@x", [span(0, 6, "ACTOR")])])], settings, min_agreement=0.1)
    assert not (settings.exports_dir / "gold" / "latest").exists()


def test_min_agreement_gate_passes_when_met(settings):
    # Task 1: a, b = {ACTOR, OUTCOME, LOCATION}, c = {ACTOR, Idlib}; pairs ab 6/6, ac 2/5, bc 2/5 -> 10/16.
    assert export_gold(rich_tasks(), settings, min_agreement=0.625).agreement == 0.625


def test_quarantined_annotation_fails_the_gate_and_is_still_published(settings):
    with pytest.raises(QualityGateError, match="1 quarantined problem.*published as") as info:
        export_gold(rich_tasks(), settings, quarantined=["task 4 by d@x: unknown label ['PERSON']"])
    assert (settings.exports_dir / "gold" / "latest").resolve() == info.value.result.folder.resolve()


def test_offset_error_fails_the_gate(settings):
    from annotate.records import Span

    tasks = rich_tasks() + [task(7, [ann(7, "a@x", [Span(0, 6, "ACTOR", "wrong!")])])]
    with pytest.raises(QualityGateError, match="1 offset problem"):
        export_gold(tasks, settings)


def test_decisions_are_applied_and_recorded(settings):
    log = settings.exports_dir / "decisions.jsonl"
    t1 = rich_tasks()[0]
    append_decision(log, make_decision(t1, 64, 69, "LOCATION", "accept", "lead@x", "1.1.0", at="2025-01-01T00:00:00Z"))
    result = export_gold(rich_tasks(), settings)
    row = next(r for r in gold_lines(result.folder) if r["id"] == "art-1")
    idlib = next(s for s in row["spans"] if s["id"] == "64-69-LOCATION")
    assert (row["status"], idlib["lead_decision"]["by"], result.counts["open_disagreements"]) == (
        "adjudicated", "lead@x", 0)


def test_pooled_span_f1_hand_computed():
    # a: {A, B}, b: {A, C}: 2*1 / (2+2) = 0.5
    t = task(1, [ann(1, "a", [span(0, 6, "ACTOR"), span(7, 13, "OUTCOME")]),
                 ann(1, "b", [span(0, 6, "ACTOR"), span(14, 20, "LOCATION")])])
    assert pooled_span_f1([t]) == (0.5, None)
    assert pooled_span_f1([task(2, [ann(2, "a", [])])]) == (None, "no task has annotations by two or more annotators")


def test_pooled_span_f1_is_na_when_nobody_marked_a_span():
    # Was 1.0 ("two annotators who both marked nothing agree perfectly"), which passed any --min-agreement.
    value, reason = pooled_span_f1([task(1, [ann(1, "a", []), ann(1, "b", [])]), task(2, [ann(2, "a", [])])])
    assert (value, reason) == (None, "neither side has any span on the 1 task(s) with two or more annotations, so "
                                     "F1 is n/a (undefined: neither 1 nor 0)")


def test_pooled_span_f1_counts_a_span_drawn_twice_once():
    t = task(1, [ann(1, "a", [span(0, 6, "ACTOR"), span(0, 6, "ACTOR")]), ann(1, "b", [span(0, 6, "ACTOR")])])
    assert pooled_span_f1([t]) == (1.0, None)


def test_na_agreement_fails_the_gate_and_says_why(settings):
    tasks = [task(1, [ann(1, "a@x", []), ann(1, "b@x", [])]), task(2, [ann(2, "a@x", [span(0, 6, "ACTOR")])])]
    with pytest.raises(QualityGateError, match=r"agreement cannot be measured, so --min-agreement 0\.1 cannot be "
                                               r"met: neither side has any span on the 1 task\(s\) with two or more "
                                               r"annotations, so F1 is n/a.*NOT published") as info:
        export_gold(tasks, settings, min_agreement=0.1)
    assert (info.value.result.agreement, info.value.result.agreement_reason) == (
        None, pooled_span_f1(tasks)[1])
    card = (info.value.result.folder / "README.md").read_text()
    assert ("Pooled pairwise exact span F1 (the `--min-agreement` measure): n/a (neither side has any span on the 1 "
            "task(s) with two or more annotations") in card
    assert "| a@x | b@x | exact | 1 | n/a |  | neither side has any span on the shared tasks" in card
    assert not (settings.exports_dir / "gold" / "latest").exists()


def test_na_agreement_without_a_gate_publishes_and_the_card_says_why(settings):
    result = export_gold([task(1, [ann(1, "a@x", [span(0, 6, "ACTOR")])])], settings)
    assert (result.agreement, result.agreement_reason) == (None, "no task has annotations by two or more annotators")
    card = (result.folder / "README.md").read_text()
    assert "(the `--min-agreement` measure): n/a (no task has annotations by two or more annotators)" in card


def test_card_reports_counts_source_and_version(exported):
    card = (exported.folder / "README.md").read_text()
    assert "- Source: fixture" in card and "- Guidelines version: 1.1.0" in card
    assert "| ACTOR |" in card and "Pooled pairwise exact span F1 (the `--min-agreement` measure): 0.625" in card
    assert TEXT not in card


def test_reimported_article_is_exported_once_and_reported(settings):
    twice = [task(1, [ann(1, "a@x", [span(0, 6, "ACTOR")])], article="same"),
             task(2, [ann(2, "a@x", [span(0, 6, "ACTOR")]), ann(2, "b@x", [span(0, 6, "ACTOR")])], article="same")]
    result = export_gold(twice, settings)
    assert [r["task_id"] for r in gold_lines(result.folder)] == [2]
    assert [(p.kind, p.where) for p in result.problems] == [("duplicate", "task 1")]


def test_whitespace_only_span_is_reported_and_kept_out_of_docbin(settings):
    blank = task(1, [ann(1, "a@x", [span(0, 6, "ACTOR"), span(6, 7, "OUTCOME")])])
    result = export_gold([blank], settings)
    row = gold_lines(result.folder)[0]
    assert [(s["text"], s["aligned_start"]) for s in row["spans"]] == [("Rebels", 0), (" ", None)]
    (doc,) = [d for side in ("train", "dev") for d in read_docbin(result.folder / f"{side}.spacy")]
    assert doc["spans"] == [(0, 6, "ACTOR")]
    assert any(p.kind == "alignment" and "covers no token" in p.message for p in result.problems)


def test_corrupt_decision_log_leaves_the_previous_export_untouched(settings, exported):
    (settings.exports_dir / "decisions.jsonl").write_text('{"task_id": 1, "span"\n')
    with pytest.raises(Exception, match=r"decisions.jsonl:1: not a valid decision"):
        export_gold(rich_tasks(), settings)
    assert [p.name for p in (settings.exports_dir / "gold").iterdir() if not p.is_symlink()] == [exported.folder.name]


HEADLINE = "Rebels seize Idlib\nRebels seized Idlib on Friday, a monitor said."


def test_line_breaks_end_sentences_for_events_and_conll(settings):
    rel = (Relation("r", "o", "agent_of"), Relation("o", "l", "located_at"))
    spans = [span(19, 25, "ACTOR", HEADLINE, "r"), span(26, 32, "OUTCOME", HEADLINE, "o"),
             span(33, 38, "LOCATION", HEADLINE, "l")]
    result = export_gold([task(1, [ann(1, "a@x", spans, relations=rel)], text=HEADLINE)], settings)
    events = pd.read_csv(result.folder / "events.csv")
    assert list(events["sentence"]) == ["Rebels seized Idlib on Friday, a monitor said."]
    conll = (result.folder / "gold.conll").read_text()
    assert "Idlib _ _ O\n\nRebels _ _ B-ACTOR\n" in conll


def test_card_counts_a_task_decided_in_part_as_in_adjudication(settings):
    log = settings.exports_dir / "decisions.jsonl"
    two = task(4, [ann(4, "a@x", [span(0, 6, "ACTOR"), span(14, 20, "LOCATION")]), ann(4, "b@x", [span(7, 13, "OUTCOME")])])
    append_decision(log, make_decision(two, 0, 6, "ACTOR", "accept", "lead@x", "1.1.0", at="2025-01-01T00:00:00Z"))
    result = export_gold([two], settings)
    card = (result.folder / "README.md").read_text()
    assert "| adjudicated | 0 |" in card and "| in adjudication | 1 |" in card
    assert gold_lines(result.folder)[0]["status"] == "in_adjudication"


def test_card_says_when_no_task_had_predictions(settings):
    result = export_gold([task(1, [ann(1, "a@x", [span(0, 6, "ACTOR")])])], settings)
    assert "No task carried predictions" in (result.folder / "README.md").read_text()


def test_card_omits_that_note_when_predictions_exist(exported):
    assert "No task carried predictions" not in (exported.folder / "README.md").read_text()
