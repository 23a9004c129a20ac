"""Exports stack: spans.parquet and events.parquet have one schema whatever the data; spans.csv matches it."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from annotate.export.build import export_gold
from annotate.export.tables import EVENT_SCHEMA, SPAN_COLUMNS, SPAN_SCHEMA
from annotate.gold.decide import make_decision
from annotate.gold.decisions import append_decision
from tests.gold_fixtures import ann, project, span, task


@pytest.fixture
def two_exports(tmp_path):
    """Two exports unlike each other: different metadata keys; lead decisions in one only (null in the other)."""
    agreed = [span(0, 6, "ACTOR"), span(7, 13, "OUTCOME")]
    plain = task(1, [ann(1, "a@x", agreed), ann(1, "b@x", agreed)], meta={"title": "first", "n": 7})
    first = export_gold([plain], project(tmp_path / "a"), source="a")
    settings = project(tmp_path / "b")
    split = task(1, [ann(1, "a@x", [*agreed, span(64, 69, "LOCATION")]), ann(1, "b@x", agreed)],
                 meta={"publisher": "wire", "tags": ["x", "y"]})
    append_decision(settings.exports_dir / "decisions.jsonl",
                    make_decision(split, 64, 69, "LOCATION", "accept", "lead@x", "1.1.0", at="2025-01-01T00:00:00Z"))
    second = export_gold([split], settings, source="b")
    return first.folder, second.folder


@pytest.mark.parametrize(("name", "schema"), [("spans.parquet", SPAN_SCHEMA), ("events.parquet", EVENT_SCHEMA)])
def test_every_export_has_the_one_schema(two_exports, name, schema):
    for folder in two_exports:
        assert pq.read_schema(folder / name) == schema
        assert not pq.read_schema(folder / name).metadata  # no pandas metadata: the file's schema is the schema


@pytest.mark.parametrize("name", ["spans.parquet", "events.parquet"])
def test_two_different_exports_stack_with_pandas_and_pyarrow_dataset(two_exports, name):
    paths = [str(folder / name) for folder in two_exports]
    stacked = pd.read_parquet(paths)
    table = ds.dataset(paths, format="parquet").to_table()
    assert len(stacked) == table.num_rows == sum(pq.read_metadata(p).num_rows for p in paths)
    if name == "spans.parquet":
        assert sorted(stacked["lead_action"].dropna()) == ["accept"]
        assert [json.loads(m) for m in stacked["meta"].drop_duplicates()] == [
            {"n": 7, "title": "first"},
            {"publisher": "wire", "tags": ["x", "y"]}]


def test_spans_csv_has_the_parquet_columns_and_meta_as_json(two_exports):
    for folder in two_exports:
        csv = pd.read_csv(folder / "spans.csv")
        parquet = pd.read_parquet(folder / "spans.parquet")
        assert list(csv.columns) == list(parquet.columns) == SPAN_COLUMNS
        assert list(csv["meta"]) == list(parquet["meta"])
        assert all(isinstance(json.loads(m), dict) for m in csv["meta"])


def test_gold_jsonl_names_character_offsets_as_such(two_exports):
    row = json.loads((two_exports[0] / "gold.jsonl").read_text(encoding="utf-8").splitlines()[0])
    first = row["spans"][0]
    # token_start/token_end mean token indices in Prodigy-style JSONL: gold.jsonl does not use those names.
    assert "token_start" not in first and "token_end" not in first
    assert (first["aligned_start"], first["aligned_end"], first["token_aligned"]) == (0, 6, True)


def test_card_documents_the_gold_fields_and_the_spans_schema(two_exports):
    card = (two_exports[0] / "README.md").read_text(encoding="utf-8")
    assert "`aligned_start`/`aligned_end` are the character offsets" in card and "Prodigy-style" in card
    assert all(f"| `{name}` |" in card for name in SPAN_COLUMNS)
    assert "pd.read_parquet([a, b])" in card
