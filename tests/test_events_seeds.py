"""The events export of the seed gold (guidelines/seed-gold.jsonl as ground-truth tasks): one row per gold OUTCOME,
casualty counts against a hand-checked list, every span id joining spans.parquet and gold.jsonl, relations in
the DocBin."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import spacy
from gold_fixtures import project
from spacy.tokens import DocBin

from annotate.export import export_gold
from annotate.records import Annotation, Span, Task, read_documents

ROOT = Path(__file__).resolve().parents[1]
SEED_GOLD = ROOT / "guidelines" / "seed-gold.jsonl"

# Every casualty OUTCOME in the five seeds, read by hand from seeds/*.txt (not from the code's output), with what
# a careful analyst records: (seed file, OUTCOME text, count, qualifier, fatalities, injured).
# Conventions: ACLED's "dozens" 12 and, by the same one-unit rule, "scores" 20; "killed or injured" with one
# shared count goes to count only (it is no count of deaths, nor of injuries); "several", "many", "multiple"
# give no number; a count outside the OUTCOME span is read before its target ACTOR ("eight Islamic State fighters").
HAND_CHECKED = [
    # 000: "Dozens of ISIL fighters were killed or injured in the fighting for Saraqeb"
    ("000", "killed", 12, "at least", None, None),
    ("000", "injured", 12, "at least", None, None),
    # "... which in two weeks has killed nearly 1,100 people"
    ("000", "killed nearly 1,100 people", 1100, "about", 1100, None),
    # "Scores of rebels and civilians have died as a result."
    ("000", "died", 20, "at least", 20, None),
    # "ISIL summarily executed several rebels": no number
    ("000", "executed", None, None, None, None),
    # "Assad loyalists shelled Madira, northeast of Damascus, killing 11 people"
    ("000", "killing 11 people", 11, "exact", 11, None),
    # "Syria's nearly three-year war has killed more than 130,000 people"
    ("000", "killed more than 130,000 people", 130000, "at least", 130000, None),
    # 001: "The fighting since the start of January has killed over 1,000 people"
    ("001", "killed over 1,000 people", 1000, "at least", 1000, None),
    # "their kidnapping and killing of opponents": no number
    ("001", "killing", None, None, None, None),
    # 002: headline "Ten dead in air strikes"
    ("002", "Ten dead", 10, "exact", 10, None),
    # "Air strikes ... have killed at least 10 people and left many others wounded"
    ("002", "killed at least 10 people", 10, "at least", 10, None),
    ("002", "many others wounded", None, None, None, None),
    # "said at least 10 were killed, including children"
    ("002", "at least 10 were killed", 10, "at least", 10, None),
    # "saying they resulted in multiple casualties": no number, killed or injured
    ("002", "multiple casualties", None, None, None, None),
    # 003: "The clashes left at least 39 fighters dead"
    ("003", "at least 39 fighters dead", 39, "at least", 39, None),
    # "31 rebel fighters and eight Islamic State fighters were killed": 31 + 8
    ("003", "killed", 39, "exact", 39, None),
    # "More than 170,000 people have been killed in Syria since the conflict began there in March 2011."
    ("003", "More than 170,000 people have been killed", 170000, "at least", 170000, None),
    # 004 reports no casualty outcome ("does not hesitate to kill civilians" is a habit, not an event).
]


def seed_tasks() -> list[Task]:
    """The seed gold as one ground-truth annotation per article (its spans and relations by the seed's ids)."""
    tasks = []
    for number, doc in enumerate(read_documents(SEED_GOLD), 1):
        spans = tuple(Span(s.start, s.end, s.label, s.text, id=s.id) for s in doc.spans)
        annotation = Annotation(number, doc.id, "seed@gold", spans, doc.relations, annotation_id=number,
                                ground_truth=True)
        tasks.append(Task(number, doc.id, doc.text, doc.meta, (), (annotation,)))
    return tasks


@pytest.fixture(scope="module")
def seed_export(tmp_path_factory):
    return export_gold(seed_tasks(), project(tmp_path_factory.mktemp("seeds")), source="seed gold")


@pytest.fixture(scope="module")
def events(seed_export):
    return pd.read_parquet(seed_export.folder / "events.parquet")


def _seed(row) -> str:
    return json.loads(row["meta"])["source_file"].split("/")[-1][:3]


def test_one_row_per_gold_outcome(seed_export, events):
    outcomes = [(d.id, s.start, s.end) for d in read_documents(SEED_GOLD) for s in d.spans if s.label == "OUTCOME"]
    assert len(outcomes) == 84  # the seed gold's OUTCOME spans (guidelines/seed-gold.src.toml)
    assert sorted(zip(events["article_id"], events["outcome_start"], events["outcome_end"], strict=True)) == sorted(
        outcomes)
    assert len(pd.read_csv(seed_export.folder / "events.csv")) == 84 == seed_export.counts["events"]
    assert events["event_id"].is_unique


def test_casualty_counts_match_the_hand_checked_list(events):
    casualties = events[events["outcome_type"] == "casualties"]
    found = [(_seed(r), r["outcome"], *(None if pd.isna(r[c]) else r[c] for c in
                                        ("count", "count_qualifier", "fatalities", "injured")))
             for r in casualties.to_dict("records")]
    assert sorted(found, key=repr) == sorted(HAND_CHECKED, key=repr)


def test_outcomes_other_than_casualties_carry_no_count(events):
    others = events[events["outcome_type"] != "casualties"]
    assert len(others) == 84 - len(HAND_CHECKED)
    assert others[["count", "fatalities", "injured", "casualty_kind"]].isna().all().all()


def test_every_span_id_joins_spans_parquet_and_gold_jsonl(seed_export, events):
    spans = pd.read_parquet(seed_export.folder / "spans.parquet")
    in_parquet = set(zip(spans["article_id"], spans["span_id"], strict=True))
    gold = [json.loads(line) for line in (seed_export.folder / "gold.jsonl").read_text().splitlines()]
    in_gold = {(row["id"], s["id"]) for row in gold for s in row["spans"]}
    assert in_parquet == in_gold
    for row in events.to_dict("records"):
        ids = [row["span_id"], *row["agent_of_ids"], *row["target_of_ids"], *row["located_at_ids"]]
        assert {(row["article_id"], i) for i in ids} <= in_gold
    # gold.jsonl carries the relations by those same span ids: all 157 of the seed gold
    relations = [(row["id"], r["from_id"], r["to_id"]) for row in gold for r in row["relations"]]
    assert len(relations) == 157
    assert all((a, f) in in_gold and (a, t) in in_gold for a, f, t in relations)


def test_tied_spans_follow_the_relations(events):
    madira = events[events["outcome"] == "killing 11 people"].iloc[0]
    assert (list(madira["agent_of"]), list(madira["located_at"]), list(madira["target_of"])) == (
        ["Assad loyalists"], ["Madira"], [])
    assert madira["agent_of_ids"][0].endswith("-ACTOR") and madira["located_at_ids"][0].endswith("-LOCATION")
    withdrew = events[events["outcome_start"] == 20].iloc[0]  # "Jihadists on Friday withdrew from Saraqeb, ..."
    assert list(withdrew["located_at"]) == ["Saraqeb", "province of Idlib"]
    assert (list(withdrew["target_of"]), list(withdrew["agent_of"])) == (["Jihadists"], ["local rebels"])


def test_docbin_relations_index_spans_sc(seed_export):
    nlp = spacy.blank("en")
    docs = [d for side in ("train", "dev") for d in DocBin().from_disk(seed_export.folder / f"{side}.spacy")
            .get_docs(nlp.vocab)]
    gold = {row["id"]: row for row in map(json.loads, (seed_export.folder / "gold.jsonl").read_text().splitlines())}
    total = 0
    for doc in docs:
        row = gold[doc.user_data["id"]]
        by_id = {s["id"]: (s["aligned_start"], s["aligned_end"], s["label"]) for s in row["spans"]}
        group = [(s.start_char, s.end_char, s.label_) for s in doc.spans["sc"]]
        found = {(group[h], group[c], kind) for h, c, kind in doc.user_data["relations"]}
        assert found == {(by_id[r["from_id"]], by_id[r["to_id"]], r["label"]) for r in row["relations"]}
        total += len(doc.user_data["relations"])
    assert total == 157


def test_card_documents_every_events_column_with_the_real_madira_row(seed_export):
    from annotate.events.table import COLUMN_NAMES
    from annotate.export.eventcard import EXAMPLE

    card = (seed_export.folder / "README.md").read_text()
    assert "## Events (events.csv, events.parquet)" in card
    assert all(f"| `{name}` |" in card for name in COLUMN_NAMES)
    csv = pd.read_csv(seed_export.folder / "events.csv", keep_default_na=False, dtype=str)
    row = csv[csv["outcome"] == "killing 11 people"].iloc[0].to_dict()
    assert set(COLUMN_NAMES) - set(EXAMPLE) == {"task_id", "split", "status"}  # these depend on the export
    assert {k: row[k] for k in EXAMPLE} == EXAMPLE
    assert "| `outcome` | killing 11 people |" in card
