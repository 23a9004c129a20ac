"""Every CSV the tool writes neutralises cells a spreadsheet would run as formulas (OWASP CSV injection):
spans.csv, events.csv and `annotate agreement --csv`. Numbers stay numbers; the Parquet keeps the exact text."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from click.testing import CliRunner
from gold_fixtures import ann, project, span, task

from annotate.cli import main
from annotate.csvsafe import safe_cell
from annotate.export import export_gold
from annotate.records import Relation

TEXT = "=HYPERLINK(x) seized @Home -5 killed +1 fled"
# offsets: 0-13 =HYPERLINK(x), 14-20 seized, 21-26 @Home, 27-36 -5 killed, 37-44 +1 fled


@pytest.mark.parametrize(("value", "safe"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-5 killed", "'-5 killed"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Rebels", "Rebels"), ("a=b", "a=b"), ("", ""),
    (-5, -5), (3.5, 3.5), (None, None), (True, True),
])
def test_safe_cell(value, safe):
    assert safe_cell(value) == safe


def _reader(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_span_and_event_tables_neutralise_formulas_and_keep_numbers(tmp_path):
    spans = [span(0, 13, "ACTOR", TEXT, "a"), span(14, 20, "OUTCOME", TEXT, "o"), span(21, 26, "LOCATION", TEXT, "l"),
             span(27, 36, "OUTCOME", TEXT), span(37, 44, "OUTCOME", TEXT)]
    rels = (Relation("a", "o", "agent_of"), Relation("o", "l", "located_at"))
    t = task(1, [ann(1, "=evil@x", spans, relations=rels)], text=TEXT, meta={"title": "=cmd|' /C calc'!A0", "n": 7})
    result = export_gold([t], project(tmp_path))
    rows = _reader(result.folder / "spans.csv")
    assert [r["text"] for r in rows] == ["'=HYPERLINK(x)", "seized", "'@Home", "'-5 killed", "'+1 fled"]
    assert {r["annotators"] for r in rows} == {"'=evil@x"}
    # Metadata is one JSON column: it starts with "{", so the formula-like title inside it is no formula.
    assert {r["meta"] for r in rows} == {json.dumps({"n": 7, "title": "=cmd|' /C calc'!A0"})}
    assert [(r["start"], r["end"]) for r in rows[:1]] == [("0", "13")]  # numbers untouched
    assert pd.read_csv(result.folder / "spans.csv")["start"].dtype.kind == "i"
    event, *_ = _reader(result.folder / "events.csv")  # one row per OUTCOME: "seized" comes first
    assert (event["outcome"], event["agent_of"], event["located_at"]) == ("seized", "'=HYPERLINK(x)", "'@Home")
    assert event["outcome_start"] == "14"
    # The Parquet and the JSON keep the exact text.
    parquet = pd.read_parquet(result.folder / "spans.parquet")
    assert list(parquet["text"]) == ["=HYPERLINK(x)", "seized", "@Home", "-5 killed", "+1 fled"]
    gold = json.loads((result.folder / "gold.jsonl").read_text())
    assert gold["spans"][0]["text"] == "=HYPERLINK(x)" and gold["meta"]["title"] == "=cmd|' /C calc'!A0"


def test_agreement_csv_neutralises_annotator_names(tmp_path):
    project(tmp_path)
    export = tmp_path / "export.json"
    region = {"id": "r", "type": "labels", "from_name": "label", "to_name": "text",
              "value": {"start": 14, "end": 20, "text": "seized", "labels": ["OUTCOME"]}}
    export.write_text(json.dumps([{"id": 1, "data": {"text": TEXT, "doc_id": "=doc"}, "annotations": [
        {"id": n, "completed_by": {"id": n, "email": who}, "result": [region]}
        for n, who in ((1, "=a@x"), (2, "+b@x"))]}]))
    out = CliRunner().invoke(main, ["--root", str(tmp_path), "agreement", "--from-export", str(export), "--csv",
                                    str(tmp_path / "tables"), "--bootstrap", "10"])
    assert out.exit_code == 0, out.output
    pairs = _reader(tmp_path / "tables" / "span_f1.csv")
    assert {(r["annotator_a"], r["annotator_b"]) for r in pairs} == {("'+b@x", "'=a@x")}
    assert {r["value"] for r in pairs if r["label"] == "OUTCOME" and r["mode"] == "exact"} == {"1.0"}
    documents = _reader(tmp_path / "tables" / "documents.csv")
    assert [(d["article_id"], d["n_annotators"]) for d in documents] == [("'=doc", "2")]
