"""Analyst tables through pandas: one row per gold span, and one row per event (outcome + actors + place)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..preannotate.docbin import DocView, sentence_of
from ..schema import Schema

SPAN_COLUMNS = ["article_id", "task_id", "split", "status", "span_id", "start", "end", "source_start", "source_end",
                "label", "text",
                "annotators", "n_annotators", "origin", "correction", "model_version", "lead_action", "decided_by",
                "token_aligned", "in_ents"]
EVENT_BASE = ["article_id", "task_id", "split", "event_id", "outcome", "outcome_start", "outcome_end",
              "outcome_source_start", "outcome_source_end"]
INTERNAL_META = ("source_map",)  # kept in gold.jsonl's meta; the tables carry source_start/source_end instead


def _meta_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({f"meta_{k}" for row in rows for k in row["meta"] if k not in INTERNAL_META})


def _meta_values(row: Mapping[str, Any]) -> dict[str, Any]:
    # Nested metadata becomes JSON text so every cell of the table is a scalar.
    return {f"meta_{k}": v if v is None or isinstance(v, str | int | float | bool) else json.dumps(v, sort_keys=True)
            for k, v in row["meta"].items() if k not in INTERNAL_META}


def span_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per gold span, with its article's status, split and metadata (meta_* columns)."""
    records = []
    for row in rows:
        for span in row["spans"]:
            decision = span["lead_decision"] or {}
            records.append({
                "article_id": row["id"], "task_id": row["task_id"], "split": row["split"], "status": row["status"],
                "span_id": span["id"], "start": span["start"], "end": span["end"],
                "source_start": span["source_start"], "source_end": span["source_end"], "label": span["label"],
                "text": span["text"], "annotators": "|".join(span["annotators"]),
                "n_annotators": len(span["annotators"]), "origin": span["origin"], "correction": span["correction"],
                "model_version": span["model_version"], "lead_action": decision.get("action"),
                "decided_by": decision.get("by"), "token_aligned": span["token_aligned"], "in_ents": span["in_ents"],
                **_meta_values(row),
            })
    return pd.DataFrame(records, columns=SPAN_COLUMNS + _meta_columns(rows))


def event_anchor(schema: Schema) -> str | None:
    """The label every relation type touches (OUTCOME in our schema): what an event is built around."""
    if not schema.relations:
        return None
    common = set.intersection(*({r.source, r.target} for r in schema.relations))
    return min(common) if len(common) == 1 else None


def event_table(rows: Sequence[Mapping[str, Any]], views: Mapping[str, DocView], schema: Schema) -> pd.DataFrame:
    """One row per anchor span (outcome) with relations: the spans tied to it by each relation type, and its sentence."""
    anchor = event_anchor(schema)
    names = [r.name for r in schema.relations]
    records = []
    for row in rows if anchor else ():
        spans = {s["id"]: s for s in row["spans"]}
        tied: dict[str, dict[str, list[str]]] = {}
        for rel in row["relations"]:
            a, b = spans[rel["from_id"]], spans[rel["to_id"]]
            outcome, other = (a, b) if a["label"] == anchor else (b, a)
            if outcome["label"] == anchor:
                tied.setdefault(outcome["id"], {}).setdefault(rel["label"], []).append(other["text"])
        for span_id in sorted(tied, key=lambda i: (spans[i]["start"], spans[i]["end"])):
            span = spans[span_id]
            bounds = sentence_of(views[row["id"]], span["start"]) if row["id"] in views else None
            sentence = row["text"][bounds[0]:bounds[1]].strip() if bounds else ""
            records.append({
                "article_id": row["id"], "task_id": row["task_id"], "split": row["split"],
                "event_id": f"{row['id']}:{span_id}", "outcome": span["text"], "outcome_start": span["start"],
                "outcome_end": span["end"], "outcome_source_start": span["source_start"],
                "outcome_source_end": span["source_end"],
                **{name: " | ".join(tied[span_id].get(name, [])) for name in names},
                "sentence": " ".join(sentence.split()), **_meta_values(row),
            })
    return pd.DataFrame(records, columns=EVENT_BASE + names + ["sentence"] + _meta_columns(rows))
