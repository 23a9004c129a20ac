"""Honest numbers: intervals over too few tasks are withheld with the reason; model-vs-gold carries its caveat."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from agreement_fixtures import ACTOR, IDLIB, SOLDIERS, annotation, span, task

from annotate.agreement import agreement_report
from annotate.agreement.coefficients import MIN_INTERVAL_TASKS
from annotate.agreement.model_vs_gold import gold_origins
from annotate.agreement.render import render_report
from annotate.records import Document, Prediction
from annotate.schema import load_schema

ROOT = Path(__file__).resolve().parent.parent
TOO_FEW = "n = 2 tasks: too few for an interval"


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def tasks_of(n: int) -> list:
    """n shared tasks where the annotators disagree on one span in every other task (the F1 varies over tasks)."""
    return [task(i, (annotation(i, "a", (ACTOR, IDLIB)),
                     annotation(i, "b", (ACTOR, span(14, 22, "LOCATION")) if i % 2 else (ACTOR, IDLIB))))
            for i in range(n)]


def pooled(report: dict, section: str = "span_f1") -> dict:
    return next(r for r in report[section] if r["label"] == "all" and r.get("mode", "exact") == "exact")


@pytest.mark.parametrize("section", ["span_f1", "token_alpha"])
def test_two_tasks_give_no_interval_but_the_reason(schema, section):
    report = agreement_report(tasks_of(2), schema, bootstrap=200, seed=0)
    row = pooled(report, section)
    assert row["value"] is not None
    assert (row["ci_low"], row["ci_high"], row["ci_reason"]) == (None, None, TOO_FEW)
    assert json.loads(json.dumps(report))[section][0]["ci_reason"] is not None  # --json: null interval, the reason


def test_enough_tasks_keep_their_interval(schema):
    row = pooled(agreement_report(tasks_of(MIN_INTERVAL_TASKS), schema, bootstrap=200, seed=0))
    assert row["ci_reason"] is None and row["ci_low"] < row["ci_high"]


def test_text_report_says_too_few_instead_of_an_interval(schema):
    text = render_report(agreement_report(tasks_of(2), schema, bootstrap=200, seed=0))
    assert TOO_FEW in text and "[0." not in text and " nan " not in text
    wide = render_report(agreement_report(tasks_of(12), schema, bootstrap=200, seed=0))
    assert "too few for an interval" not in wide.split("Span F1")[1].split("\n\n")[0] and "95% CI" in wide


def _gold_case(tmp_path: Path):
    pred = Prediction("v1", (ACTOR, IDLIB, SOLDIERS), prediction_id=1)
    tasks = [task(1, (annotation(1, "a", (ACTOR,)),), (pred,))]
    gold = [Document("art1", tasks[0].text, (ACTOR, IDLIB, span(14, 22, "LOCATION")))]
    path = tmp_path / "gold.jsonl"
    spans = [{"start": s.start, "end": s.end, "label": s.label, "text": s.text, "origin": o}
             for s, o in zip(gold[0].spans, ("prediction", "prediction", "hand"), strict=True)]
    path.write_text(json.dumps({"id": "art1", "text": tasks[0].text, "spans": spans}) + "\n", encoding="utf-8")
    return tasks, gold, path


def test_model_vs_gold_states_how_much_gold_is_accepted_prefill(schema, tmp_path):
    tasks, gold, path = _gold_case(tmp_path)
    report = agreement_report(tasks, schema, gold, bootstrap=50, gold_origins=gold_origins(path))
    provenance = report["gold_provenance"]
    assert (provenance["accepted_unchanged"], provenance["n_spans"]) == (2, 3)
    assert provenance["caveat"].startswith("Caveat: 2 of 3 gold spans (67%) are model predictions accepted unchanged")
    text = render_report(report)
    section = text.split("Model versions against the gold standard")[1]
    assert provenance["caveat"] in section.split("\n\n")[0]


def test_gold_without_provenance_says_it_cannot_tell(schema, tmp_path):
    tasks, gold, _ = _gold_case(tmp_path)
    provenance = agreement_report(tasks, schema, gold, bootstrap=50)["gold_provenance"]
    assert provenance["accepted_unchanged"] is None and "records no provenance" in provenance["caveat"]
    assert agreement_report(tasks, schema, bootstrap=50)["gold_provenance"] is None


def test_cli_json_gives_null_interval_with_reason_and_the_gold_caveat(schema, tmp_path, monkeypatch):
    from click.testing import CliRunner

    import annotate.pipeline
    from annotate.cli import main

    tasks, _, path = _gold_case(tmp_path)
    small = tasks_of(2)
    monkeypatch.setattr(annotate.pipeline, "read_tasks",
                        lambda settings, from_export=None, *args, **kwargs: annotate.pipeline.TaskSource(
                            small, [], from_export))
    export = tmp_path / "export.json"
    export.write_text("[]")
    args = ["--root", str(ROOT), "agreement", "--from-export", str(export), "--bootstrap", "50"]
    report = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    row = pooled(report)
    assert (row["ci_low"], row["ci_high"], row["ci_reason"]) == (None, None, TOO_FEW)
    assert TOO_FEW in CliRunner().invoke(main, args).stdout
    monkeypatch.setattr(annotate.pipeline, "read_tasks",
                        lambda settings, from_export=None, *args, **kwargs: annotate.pipeline.TaskSource(
                            tasks, [], from_export))
    text = CliRunner().invoke(main, [*args, "--gold", str(path)])
    assert text.exit_code == 0, text.output
    assert "Caveat: 2 of 3 gold spans (67%) are model predictions accepted unchanged" in text.stdout


# --- the dashboard ---------------------------------------------------------------------------------------------


def test_dashboard_agreement_page_says_too_few_for_an_interval(logged_in):
    html = logged_in.get("/agreement").get_data(as_text=True)  # the fixture's pairs share 2 tasks
    assert TOO_FEW in html and not re.search(r"\[\d\.\d\d, \d\.\d\d\]", html)


def test_dashboard_model_page_shows_model_vs_gold_with_its_caveat(settings, password, monkeypatch):
    from web_fixtures import LEAD, login

    from annotate import agreement
    from annotate.web import create_app

    real = agreement.agreement_report
    origins = {"prediction": 1, "hand": 1}

    def with_gold(tasks, schema, *args, **kwargs):  # the task with predictions (art1) scored against a 2-span gold
        first = next(t for t in tasks if t.predictions)
        gold = {first.article_id: [s for s in first.annotations[0].spans][:2]}
        return real(tasks, schema, gold, *args, gold_origins=origins, **kwargs)
    monkeypatch.setattr(agreement, "agreement_report", with_gold)
    app = create_app(settings, {"TESTING": True, "SECRET_KEY": "t", "REPORT_BOOTSTRAP": 20, "DATA_WAIT": True,
                               "ISOLATE_WORK": False})  # the monkeypatch above lives in this process
    client = app.test_client()
    login(client, LEAD, password)
    app.extensions["annotate.data"].report(wait=True)
    html = client.get("/model").get_data(as_text=True)
    assert 'id="model-vs-gold"' in html
    caveat = re.search(r'<p class="caveat" id="gold-caveat">([^<]+)</p>', html)
    assert caveat and caveat.group(1).startswith("Caveat: 1 of 2 gold spans (50%) are model predictions accepted")
    assert "n = 1 task: too few for an interval" in html


def test_dashboard_shows_an_undefined_f1_as_na_with_its_reason(settings, password, monkeypatch):
    from dataclasses import replace

    from web_fixtures import LEAD, login

    from annotate import agreement
    from annotate.web import create_app

    real = agreement.agreement_report

    def blank(tasks, schema, *args, **kwargs):  # nobody marked a span; the gold of the predicted task is empty
        tasks = [replace(t, annotations=tuple(replace(a, spans=(), relations=()) for a in t.annotations))
                 for t in tasks]
        gold = {next(t for t in tasks if t.predictions).article_id: []}
        return real(tasks, schema, gold, *args, **kwargs)
    monkeypatch.setattr(agreement, "agreement_report", blank)
    app = create_app(settings, {"TESTING": True, "SECRET_KEY": "t", "REPORT_BOOTSTRAP": 20, "DATA_WAIT": True,
                               "ISOLATE_WORK": False})  # the monkeypatch above lives in this process
    client = app.test_client()
    login(client, LEAD, password)
    app.extensions["annotate.data"].report(wait=True)
    html = client.get("/agreement").get_data(as_text=True)
    spans = html.split("Exact span F1</th>")[1].split("</table>")[0]
    assert '<td class="n">n/a</td>' in spans and "neither side has any span on the shared tasks" in spans
    assert "a grey – is n/a" in html
    gold = client.get("/model").get_data(as_text=True).split('id="model-vs-gold"')[1].split("</table>")[0]
    assert '<td class="n">n/a</td>' in gold and "no gold span, so recall is n/a" in gold


# --- the dataset card ------------------------------------------------------------------------------------------


def test_card_says_too_few_for_an_interval_and_how_much_gold_is_accepted_prefill(tmp_path):
    from gold_fixtures import ann, project
    from gold_fixtures import span as gold_span
    from gold_fixtures import task as gold_task

    from annotate.export.build import export_gold

    agreed = [gold_span(0, 6, "ACTOR"), gold_span(7, 13, "OUTCOME")]
    pred = Prediction("rules-1", (gold_span(0, 6, "ACTOR"),), prediction_id=5)
    tasks = [gold_task(i, [ann(i, "a@x", agreed, parent=5), ann(i, "b@x", agreed, parent=5)], predictions=(pred,))
             for i in (1, 2)]
    card = (export_gold(tasks, project(tmp_path), source="t").folder / "README.md").read_text(encoding="utf-8")
    assert "| a@x | b@x | exact | 2 | 1.000 | n = 2 tasks: too few for an interval |" in card
    assert "Caveat: 2 of 4 gold spans (50%) are model predictions accepted unchanged" in card
