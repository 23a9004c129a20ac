"""agreement_report end to end on hand-built tasks: values, edge cases with reasons, JSON, CSV, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from agreement_fixtures import ACTOR, ALEPPO, IDLIB, KILLING, SEIZED, SOLDIERS, annotation, span, task
from click.testing import CliRunner

from annotate.agreement import agreement_report
from annotate.agreement.render import render_report
from annotate.agreement.report import SECTIONS, write_csv
from annotate.preannotate.tokens import tokenize_offsets
from annotate.records import Document, Prediction
from annotate.schema import load_schema

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def report_for(tasks, schema, **kwargs):
    kwargs.setdefault("bootstrap", 50)
    return agreement_report(tasks, schema, **kwargs)


def row(rows, **match):
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


TWO_AGREEING = [task(i, (annotation(i, "ann1", (ACTOR, IDLIB, KILLING)), annotation(i, "ann2", (ACTOR, IDLIB, KILLING))))
                for i in range(3)]


def test_report_is_strict_json_with_every_section(schema):
    report = report_for(TWO_AGREEING, schema)
    json.dumps(report, allow_nan=False)
    assert set(SECTIONS) <= set(report)
    assert report["data"]["n_tasks_shared"] == 3


def test_identical_annotators_agree_perfectly(schema):
    report = report_for(TWO_AGREEING, schema)
    assert row(report["token_alpha"], label="all")["value"] == 1.0
    assert row(report["cohen_kappa"], annotator_a="ann1")["value"] == 1.0
    assert row(report["span_f1"], label="all", mode="exact")["value"] == 1.0
    assert row(report["unitizing_alpha"], label="all")["value"] == 1.0


def test_token_alpha_matches_krippendorff_package(schema):
    tasks = [task(1, (annotation(1, "a", (ACTOR, IDLIB)), annotation(1, "b", (SOLDIERS, IDLIB, KILLING)),
                      annotation(1, "c", (ACTOR, SEIZED)))),
             task(2, (annotation(2, "a", (ALEPPO,)), annotation(2, "b", (span(57, 63, "ACTOR"),))))]
    report = report_for(tasks, schema)
    tokens = np.asarray(tokenize_offsets([tasks[0].text])[0])
    values = {"ACTOR": 1, "LOCATION": 2, "OUTCOME": 3}

    def code(spans):
        out = np.zeros(len(tokens))
        for s in spans:
            out[(tokens[:, 0] < s.end) & (tokens[:, 1] > s.start)] = values[s.label]
        return out

    data = np.full((3, 2 * len(tokens)), np.nan)
    for t_index, tk in enumerate(tasks):
        for ann in tk.annotations:
            data["abc".index(ann.annotator), t_index * len(tokens):(t_index + 1) * len(tokens)] = code(ann.spans)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert row(report["token_alpha"], label="all")["value"] == pytest.approx(expected, abs=1e-12)
    assert row(report["token_alpha"], label="all")["n_annotators"] == 3


def test_one_annotator_only_gives_reasons_not_numbers(schema):
    report = report_for([task(1, (annotation(1, "solo", (ACTOR,)),))], schema)
    assert "only one annotator" in report["reasons"]["token_alpha"]
    assert row(report["token_alpha"], label="all")["value"] is None
    assert row(report["token_alpha"], label="all")["reason"]
    assert report["span_f1"] == [] and report["cohen_kappa"] == []


def test_no_overlapping_tasks(schema):
    report = report_for([task(1, (annotation(1, "a", (ACTOR,)),)), task(2, (annotation(2, "b", (ACTOR,)),))], schema)
    assert "no task was completed by two" in report["reasons"]["span_f1"]
    assert row(report["token_alpha"], label="all")["value"] is None
    assert row(report["cohen_kappa"], annotator_a="a")["reason"] == "the two annotators share no coded unit"
    assert row(report["unitizing_alpha"], label="all")["reason"].startswith("no task was completed by all")


def test_no_spans_at_all(schema):
    report = report_for([task(1, (annotation(1, "a", ()), annotation(1, "b", ())))], schema)
    alpha = row(report["token_alpha"], label="all")
    assert alpha["value"] is None and "undefined" in alpha["reason"]
    f1 = row(report["span_f1"], label="all", mode="exact")
    assert f1["value"] is None and f1["reason"] == ("neither side has any span on the shared tasks"
                                                 ", so F1 is n/a (undefined: neither 1 nor 0)")
    assert row(report["cohen_kappa"], annotator_a="a")["value"] is None
    doc = row(report["documents"], task_id=1)
    assert (doc["exact_f1"], doc["overlap_f1"]) == (None, None)
    assert doc["reason"].startswith("neither side has any span on this task, so F1 is n/a")
    section = render_report(report).split("Span F1 between annotators")[1].split("Relation F1")[0]
    assert "n/a" in section and "neither side has any span on the shared tasks" in section
    assert "nan" not in section.lower()


def test_label_nobody_used(schema):
    tasks = [task(1, (annotation(1, "a", (ACTOR, IDLIB)), annotation(1, "b", (ACTOR,))))]
    report = report_for(tasks, schema)
    outcome = row(report["token_alpha"], label="OUTCOME")
    assert outcome["value"] is None and "no annotator used OUTCOME" in outcome["reason"]
    assert row(report["span_f1"], label="OUTCOME", mode="overlap")["reason"] == (
        "neither side has any OUTCOME span on the shared tasks, so F1 is n/a (undefined: neither 1 nor 0)")
    assert row(report["unitizing_alpha"], label="OUTCOME")["value"] is None


def test_span_f1_counts_and_bootstrap_interval(schema):
    tasks = [task(i, (annotation(i, "a", (ACTOR, IDLIB)), annotation(i, "b", (ACTOR, span(14, 22, "LOCATION")) if i % 2
                                                                       else (ACTOR, IDLIB))))
             for i in range(12)]  # at least MIN_INTERVAL_TASKS: fewer get no interval (test_agreement_small)
    report = report_for(tasks, schema, bootstrap=200, seed=1)
    exact = row(report["span_f1"], label="all", mode="exact")
    assert (exact["tp"], exact["n_spans_a"], exact["n_spans_b"]) == (18, 24, 24)
    assert exact["value"] == pytest.approx(0.75)
    assert exact["ci_low"] <= exact["value"] <= exact["ci_high"] and exact["ci_low"] < exact["ci_high"]
    assert row(report["span_f1"], label="all", mode="overlap")["value"] == 1.0
    again = report_for(tasks, schema, bootstrap=200, seed=1)
    assert row(again["span_f1"], label="all", mode="exact")["ci_low"] == exact["ci_low"]


def test_per_document_rows(schema):
    tasks = [*TWO_AGREEING[:1], task(9, (annotation(9, "a", (ACTOR,)),))]
    docs = {d["task_id"]: d for d in report_for(tasks, schema)["documents"]}
    assert docs[0]["token_alpha"] == 1.0 and docs[0]["exact_f1"] == 1.0
    assert docs[9]["token_alpha"] is None and docs[9]["reason"] == "only one annotator completed this task"


def test_model_vs_gold_precision_recall(schema):
    pred = Prediction("v1", (ACTOR, IDLIB, SOLDIERS), prediction_id=1)
    tasks = [task(1, (annotation(1, "a", (ACTOR,)),), (pred,))]
    gold = [Document("art1", tasks[0].text, (ACTOR, span(14, 22, "LOCATION")))]
    rows = report_for(tasks, schema, gold=gold)["model_vs_gold"]
    exact = row(rows, label="all", mode="exact")
    assert (exact["tp"], exact["precision"], exact["recall"]) == (1, pytest.approx(1 / 3), 0.5)
    assert row(rows, label="all", mode="overlap")["tp"] == 2


def test_model_vs_gold_undefined_scores_are_na_with_the_reason(schema):
    pred = Prediction("v1", (ACTOR,), prediction_id=1)
    tasks = [task(1, (annotation(1, "a", (ACTOR,)),), (pred,))]
    gold = [Document("art1", tasks[0].text, (ACTOR, span(14, 22, "LOCATION")))]
    report = report_for(tasks, schema, gold=gold)
    location = row(report["model_vs_gold"], label="LOCATION", mode="exact")  # in gold, never predicted
    assert (location["precision"], location["recall"], location["f1"]) == (None, 0.0, 0.0)
    assert location["reason"] == "no predicted LOCATION span, so precision is n/a"
    outcome = row(report["model_vs_gold"], label="OUTCOME", mode="exact")  # on neither side
    assert (outcome["precision"], outcome["recall"], outcome["f1"]) == (None, None, None)
    assert outcome["reason"] == "neither side has any OUTCOME span, so F1 is n/a (undefined: neither 1 nor 0)"
    json.dumps(report, allow_nan=False)
    section = render_report(report).split("Model versions against the gold standard")[1]
    assert "n/a" in section and "no predicted LOCATION span" in section and not re.search(r"\bnan\b", section.lower())


def test_gold_mapping_by_article_id_is_accepted(schema):
    pred = Prediction("v1", (ACTOR,), prediction_id=1)
    tasks = [task(1, (annotation(1, "a", (ACTOR,)),), (pred,))]
    rows = report_for(tasks, schema, gold={"art1": [ACTOR]})["model_vs_gold"]
    assert row(rows, label="ACTOR", mode="exact")["f1"] == 1.0


def test_text_and_csv_renderings(schema, tmp_path):
    report = report_for(TWO_AGREEING, schema)
    text = render_report(report)
    assert "Krippendorff's alpha" in text and "no gold standard was given" in text
    written = write_csv(report, tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{name}.csv" for name in SECTIONS)
    assert (tmp_path / "span_f1.csv").read_text().startswith("annotator_a,annotator_b,label,mode")


def test_cli_json_uses_read_tasks(monkeypatch, tmp_path):
    import annotate.pipeline
    from annotate.cli import main

    seen = {}

    def fake_read_tasks(settings, from_export=None, refresh=False, progress=None):
        seen["from_export"] = from_export
        return annotate.pipeline.TaskSource(TWO_AGREEING, [], from_export)

    monkeypatch.setattr(annotate.pipeline, "read_tasks", fake_read_tasks)
    export = tmp_path / "export.json"
    export.write_text("[]")
    result = CliRunner().invoke(main, ["--root", str(ROOT), "agreement", "--from-export", str(export), "--json",
                                       "--bootstrap", "20", "--csv", str(tmp_path / "tables")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert seen["from_export"] == export
    assert row(report["token_alpha"], label="all")["value"] == 1.0
    assert (tmp_path / "tables" / "token_alpha.csv").exists()


def test_report_from_label_studio_export_file(schema):
    # Two tasks, amal and bilal on both, chen's annotations cancelled (skipped) and so not counted.
    from annotate.labelstudio.convert import read_export, tasks_from_export

    tasks, quarantine = tasks_from_export(read_export(ROOT / "tests/data/agreement/export.json"), schema)
    assert quarantine == []
    report = report_for(tasks, schema)
    assert report["data"]["annotators"] == ["amal@example.org", "bilal@example.org"]
    exact = row(report["span_f1"], label="all", mode="exact")
    assert (exact["tp"], exact["n_spans_a"], exact["n_spans_b"], exact["n_tasks"]) == (2, 6, 4, 2)
    outcomes = row(report["model_vs_human"], group_by="annotator", group="bilal@example.org")
    assert (outcomes["accepted"], outcomes["boundary_changed"], outcomes["added"]) == (2, 2, 0)
    assert row(report["time_per_task"], annotator="amal@example.org")["median_seconds"] == 30.5


def test_cli_tables_from_real_export_file():
    from annotate.cli import main

    result = CliRunner().invoke(main, ["--root", str(ROOT), "agreement", "--from-export",
                                       str(ROOT / "tests/data/agreement/export.json"), "--bootstrap", "10"])
    assert result.exit_code == 0, result.output
    assert "Cohen's kappa on tokens" in result.stdout and "amal@example.org" in result.stdout


def test_cli_bad_export_is_one_line_error(tmp_path):
    from annotate.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(main, ["--root", str(ROOT), "agreement", "--from-export", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.output
