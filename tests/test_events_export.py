"""events.parquet has one fixed schema whatever the data, so exports stack; events.csv holds the same rows."""

from __future__ import annotations

import datetime

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from gold_fixtures import ann, project, span, task

from annotate.events.table import COLUMN_NAMES
from annotate.export import export_gold
from annotate.export.tables import EVENT_SCHEMA
from annotate.records import Relation

KILLED = "Rebels killed 11 people and wounded 4 soldiers in Homs."
# offsets: 0-6 Rebels, 7-23 killed 11 people, 28-45 wounded 4 soldiers, 49-53 Homs


def _casualties():
    rel = (Relation("r", "k", "agent_of"), Relation("k", "h", "located_at"), Relation("r", "w", "agent_of"))
    spans = [span(0, 6, "ACTOR", KILLED, "r"), span(7, 23, "OUTCOME", KILLED, "k"),
             span(28, 45, "OUTCOME", KILLED, "w"), span(49, 53, "LOCATION", KILLED, "h")]
    return [task(1, [ann(1, "a@x", spans, relations=rel)], text=KILLED,
                 meta={"publisher": "Wire", "published": "2014-11-01T08:00:00Z", "tags": ["a", "b"]})]


def _no_outcome():
    return [task(2, [ann(2, "a@x", [span(0, 6, "ACTOR")])], meta={"feed": "x"})]


def _no_counts():
    # One OUTCOME, no relation, no date, no count: every optional column empty.
    return [task(3, [ann(3, "b@x", [span(7, 13, "OUTCOME")])], meta={})]


@pytest.fixture
def folders(tmp_path):
    made = {}
    for name, tasks in (("casualties", _casualties()), ("no_outcome", _no_outcome()), ("no_counts", _no_counts())):
        made[name] = export_gold(tasks, project(tmp_path / name), source=name).folder / "events.parquet"
    return made


def test_every_export_has_the_same_explicit_schema(folders):
    for path in folders.values():
        schema = pq.read_schema(path)
        assert schema.remove_metadata() == EVENT_SCHEMA
        assert tuple(schema.names) == COLUMN_NAMES
        assert all(str(field.type) != "null" for field in schema)


def test_exports_stack_with_pandas_and_pyarrow_dataset(folders):
    paths = [str(p) for p in folders.values()]
    stacked = pd.read_parquet(paths)
    assert len(stacked) == 3 and list(stacked.columns) == list(COLUMN_NAMES)
    table = ds.dataset(paths, format="parquet").to_table()
    assert table.num_rows == 3 and table.schema.remove_metadata() == EVENT_SCHEMA


def test_casualty_row_values(folders):
    rows = pd.read_parquet(folders["casualties"], dtype_backend="numpy_nullable").to_dict("records")
    killed, wounded = rows
    assert (killed["outcome"], killed["outcome_type"], killed["casualty_kind"], killed["fatalities"],
            killed["count_qualifier"], killed["count_rule"]) == (
        "killed 11 people", "casualties", "killed", 11, "exact", "span:digits")
    assert pd.isna(killed["injured"])
    assert (wounded["casualty_kind"], wounded["injured"], wounded["count"]) == ("injured", 4, 4)
    assert pd.isna(wounded["fatalities"])
    assert (killed["event_date"], killed["source"]) == (datetime.date(2014, 11, 1), "Wire")
    assert (list(killed["agent_of"]), list(killed["located_at_ids"])) == (["Rebels"], ["49-53-LOCATION"])
    assert killed["meta"] == '{"published": "2014-11-01T08:00:00Z", "publisher": "Wire", "tags": ["a", "b"]}'


def test_csv_joins_lists_with_a_bar_and_keeps_integers(tmp_path):
    rel = (Relation("r", "k", "agent_of"), Relation("s", "k", "agent_of"))
    text = "Rebels and Soldiers killed 11 people."
    spans = [span(0, 6, "ACTOR", text, "r"), span(11, 19, "ACTOR", text, "s"), span(20, 36, "OUTCOME", text, "k")]
    result = export_gold([task(1, [ann(1, "a@x", spans, relations=rel)], text=text)], project(tmp_path))
    row = pd.read_csv(result.folder / "events.csv", keep_default_na=False).to_dict("records")[0]
    assert (row["agent_of"], row["agent_of_ids"], row["fatalities"], row["injured"]) == (
        "Rebels|Soldiers", "0-6-ACTOR|11-19-ACTOR", 11, "")
    assert pd.read_csv(result.folder / "events.csv")["fatalities"].dtype.kind == "i"


def test_a_missing_events_lexicon_is_reported_and_leaves_the_type_columns_empty(tmp_path):
    settings = project(tmp_path)
    (settings.guidelines_dir / "rules" / "events.toml").unlink()
    result = export_gold(_casualties(), settings)
    [problem] = [p for p in result.problems if p.kind == "events"]
    assert "guidelines/rules/events.toml: not found" in problem.message and str(tmp_path) not in problem.message
    events = pd.read_parquet(result.folder / "events.parquet")
    assert len(events) == 2 and events["outcome_type"].isna().all() and events["fatalities"].isna().all()
    assert list(events["agent_of"].map(list)) == [["Rebels"], ["Rebels"]]  # relations still tie the spans
