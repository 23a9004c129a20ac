"""Gold rows -> event rows: one per gold OUTCOME, with its actors, place, type and casualty count (stdlib only).

The columns are defined once here (name, kind, description); the exporter turns the kinds into a fixed Parquet
schema and the dataset card prints the descriptions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .counts import Count, combine, count_before, read_count
from .lexicon import EventLexicon

INTERNAL_META = ("source_map",)  # kept in gold.jsonl's meta; the tables carry source_start/source_end instead


def meta_json(meta: Mapping[str, Any] | None) -> str:
    """An article's metadata as one JSON text (sorted keys), without the keys only gold.jsonl needs."""
    return json.dumps({k: v for k, v in (meta or {}).items() if k not in INTERNAL_META}, sort_keys=True,
                      ensure_ascii=False)
DATE_KEYS = ("date", "published", "published_at", "publication_date", "pub_date", "date_published", "datetime")
SOURCE_KEYS = ("source", "publisher", "site", "site_name", "url")
DATE_FORMATS = ("%d %B %Y", "%B %d, %Y", "%B %d,%Y", "%b %d, %Y", "%b %d,%Y", "%d %b %Y")
ROLE_COLUMNS = {"agent": "agent_of", "target": "target_of", "location": "located_at"}
JOINS = {"or", "and", "and/or", ",", "or were", "and were"}  # between "killed" and "injured" sharing one count
WINDOW = 80  # characters before a victims' name searched for their count


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # string, int, date, strings (a list)
    description: str


COLUMNS = (
    Column("event_id", "string", "`<article_id>:<span_id>`, unique in the export"),
    Column("article_id", "string", "the article (gold.jsonl `id`)"),
    Column("task_id", "int", "its Label Studio task"),
    Column("split", "string", "train or dev"),
    Column("status", "string", "the article's adjudication status"),
    Column("event_date", "date", "the article's date from its metadata (`date`, `published`, ...), else empty"),
    Column("source", "string", "the article's source, publisher or url from its metadata, else its source_file"),
    Column("span_id", "string", "the OUTCOME span's id: joins spans.parquet `span_id` and gold.jsonl `spans[].id`"),
    Column("outcome", "string", "the OUTCOME span's text"),
    Column("outcome_start", "int", "its start offset in the article text"),
    Column("outcome_end", "int", "its end offset"),
    Column("outcome_source_start", "int", "its start in the input as given (spans.parquet `source_start`)"),
    Column("outcome_source_end", "int", "its end in the input as given"),
    Column("outcome_type", "string", "change_of_control, casualties or other, from guidelines/rules/events.toml"),
    Column("casualty_kind", "string", "killed, injured or killed_or_injured (casualties only)"),
    Column("count", "int", "the number of victims the text states for a casualties outcome (empty when none)"),
    Column("count_qualifier", "string", "exact, at least, about, at most or range"),
    Column("count_rule", "string", "where and how the count was read: `span:` or `target:` + digits, words, "
                                    "vague_plural, range, sum or vague"),
    Column("fatalities", "int", "`count` when casualty_kind is killed"),
    Column("injured", "int", "`count` when casualty_kind is injured"),
    Column("agent_of_ids", "strings", "span ids of the actors tied by agent_of"),
    Column("agent_of", "strings", "their texts"),
    Column("target_of_ids", "strings", "span ids of the actors tied by target_of"),
    Column("target_of", "strings", "their texts"),
    Column("located_at_ids", "strings", "span ids of the locations tied by located_at"),
    Column("located_at", "strings", "their texts"),
    Column("sentence", "string", "the sentence holding the outcome (line breaks end sentences)"),
    Column("meta", "string", "the article's metadata as JSON text"),
    Column("guideline_version", "string", "the guidelines version the gold follows"),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)


def event_date(meta: Mapping[str, Any]) -> date | None:
    """The first date-like metadata value that reads as a date (ISO, or "1 November 2014"-like), else None."""
    for key in DATE_KEYS:
        value = meta.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        text = value.strip()
        if re.match(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                continue
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                pass
    return None


def event_source(meta: Mapping[str, Any]) -> str | None:
    """Who published the article (source, publisher, site or url in its metadata), else its source file."""
    for key in (*SOURCE_KEYS, "source_file"):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _sentence(text: str, bounds: Sequence[tuple[int, int]], offset: int) -> str:
    found = next(((s, e) for s, e in bounds if s <= offset < e), None)
    return " ".join(text[found[0]:found[1]].split()) if found else ""


def _before(text: str, start: int) -> str:
    """The words before `start` in its sentence (at most WINDOW characters)."""
    window = text[max(0, start - WINDOW):start]
    cut = max(window.rfind("\n"), window.rfind(". "), window.rfind("? "), window.rfind("! "))
    return window[cut + 1:] if cut >= 0 else window


def _count(text: str, outcome: Mapping[str, Any], targets: Sequence[Mapping[str, Any]]) -> tuple[Count | None, str]:
    """The casualty count: in the OUTCOME span, else before its target actors (summed), else a vague reading."""
    own = read_count(outcome["text"])
    if own is not None and own.value is not None:
        return own, "span"
    by_target = combine([count_before(_before(text, t["start"])) for t in targets]) if targets else None
    if by_target is not None and by_target.value is not None:
        return by_target, "target"
    return (own, "span") if own is not None else (by_target, "target")


def _shared_counts(text: str, outcomes: Sequence[Mapping[str, Any]], kinds: dict[str, str | None]) -> None:
    """Mark a killed and an injured outcome joined by "or"/"and", neither with a number of its own, as
    killed_or_injured: their one count covers both, so it is no count of either."""
    for a, b in zip(outcomes, outcomes[1:], strict=False):
        pair = {kinds.get(a["id"]), kinds.get(b["id"])}
        gap = " ".join(text[a["end"]:b["start"]].lower().split())
        own = [read_count(s["text"]) for s in (a, b)]
        if pair == {"killed", "injured"} and gap in JOINS and not any(c and c.value is not None for c in own):
            kinds[a["id"]] = kinds[b["id"]] = "killed_or_injured"


def _tied(row: Mapping[str, Any], anchor: str, roles: Mapping[str, str]) -> dict[str, dict[str, list[str]]]:
    """outcome span id -> role column -> ids of the spans tied to it, in text order."""
    spans = {s["id"]: s for s in row["spans"]}
    column_of = {relation: ROLE_COLUMNS[role] for role, relation in roles.items()}
    tied: dict[str, dict[str, list[str]]] = {}
    for rel in row["relations"]:
        a, b = spans.get(rel["from_id"]), spans.get(rel["to_id"])
        if a is None or b is None or rel["label"] not in column_of:
            continue
        outcome, other = (a, b) if a["label"] == anchor else (b, a)
        if outcome["label"] == anchor:
            tied.setdefault(outcome["id"], {}).setdefault(column_of[rel["label"]], []).append(other["id"])
    for columns in tied.values():
        for ids in columns.values():
            ids.sort(key=lambda i: (spans[i]["start"], spans[i]["end"]))
    return tied


def article_events(row: Mapping[str, Any], lexicon: EventLexicon | None,
                   sentences: Sequence[tuple[int, int]] = ()) -> list[dict[str, Any]]:
    """One event row per anchor (OUTCOME) span of one gold row (a gold.jsonl line), in text order."""
    anchor = lexicon.anchor if lexicon else "OUTCOME"
    roles = lexicon.roles if lexicon else {role: column for role, column in ROLE_COLUMNS.items()}
    spans = {s["id"]: s for s in row["spans"]}
    outcomes = sorted((s for s in row["spans"] if s["label"] == anchor), key=lambda s: (s["start"], s["end"]))
    tied = _tied(row, anchor, roles)
    types = {o["id"]: lexicon.outcome_type(o["text"], bool(tied.get(o["id"], {}).get("target_of")),
                                           bool(tied.get(o["id"], {}).get("located_at"))) if lexicon else None
             for o in outcomes}
    kinds = {i: lexicon.casualty_kind(spans[i]["text"]) if lexicon and t == "casualties" else None
             for i, t in types.items()}
    _shared_counts(row["text"], [o for o in outcomes if types[o["id"]] == "casualties"], kinds)
    meta = row.get("meta") or {}
    shown_meta = meta_json(meta)
    out = []
    for outcome in outcomes:
        ties = tied.get(outcome["id"], {})
        count, where = (None, "")
        if types[outcome["id"]] == "casualties":
            count, where = _count(row["text"], outcome, [spans[i] for i in ties.get("target_of", [])])
        kind = kinds[outcome["id"]]
        value = count.value if count else None
        out.append({
            "event_id": f"{row['id']}:{outcome['id']}", "article_id": row["id"], "task_id": row.get("task_id"),
            "split": row.get("split"), "status": row.get("status"), "event_date": event_date(meta),
            "source": event_source(meta), "span_id": outcome["id"], "outcome": outcome["text"],
            "outcome_start": outcome["start"], "outcome_end": outcome["end"],
            "outcome_source_start": outcome.get("source_start", outcome["start"]),
            "outcome_source_end": outcome.get("source_end", outcome["end"]),
            "outcome_type": types[outcome["id"]], "casualty_kind": kind, "count": value,
            "count_qualifier": count.qualifier if count else None,
            "count_rule": f"{where}:{count.how}" if count else None,
            "fatalities": value if kind == "killed" else None, "injured": value if kind == "injured" else None,
            **{key: value for column in ROLE_COLUMNS.values() for key, value in (
                (f"{column}_ids", list(ties.get(column, []))),
                (column, [spans[i]["text"] for i in ties.get(column, [])]))},
            "sentence": _sentence(row["text"], sentences, outcome["start"]), "meta": shown_meta,
            "guideline_version": row.get("guideline_version"),
        })
    return out


def event_rows(rows: Sequence[Mapping[str, Any]], lexicon: EventLexicon | None,
               sentences: Mapping[str, Sequence[tuple[int, int]]] | None = None) -> list[dict[str, Any]]:
    """Event rows for every gold row, keyed by COLUMN_NAMES (lists for the `strings` columns)."""
    sentences = sentences or {}
    return [event for row in rows for event in article_events(row, lexicon, sentences.get(row["id"], ()))]
