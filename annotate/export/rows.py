"""Gold records as JSON-able rows: the lines of gold.jsonl and disagreements.jsonl (stdlib only)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath
from typing import Any

from ..gold.adjudicate import GoldSpan, Open, TaskGold
from ..records import SpanKey, to_source

Aligned = Mapping[SpanKey, tuple[int, int] | None]
# spans.csv / spans.parquet, in order: (name, kind); tables.py makes the Arrow schema, the card documents it.
SPAN_FIELDS = (("article_id", "string"), ("task_id", "int"), ("split", "string"), ("status", "string"),
               ("span_id", "string"), ("start", "int"), ("end", "int"), ("source_start", "int"), ("source_end", "int"),
               ("label", "string"), ("text", "string"), ("annotators", "string"), ("n_annotators", "int"),
               ("origin", "string"), ("correction", "string"), ("model_version", "string"),
               ("lead_action", "string"), ("decided_by", "string"), ("token_aligned", "bool"), ("in_ents", "bool"),
               ("meta", "string"))


def portable(value: Any, roots: tuple[str, ...]) -> Any:
    """`value` with every path under a project root made relative to it, and any other absolute `source_file`-like
    path cut to its file name: an export is shared, and must not carry the machine's folders."""
    if isinstance(value, dict):
        return {k: _portable_path(v, roots, str(k) == "source_file") if isinstance(v, str) else portable(v, roots)
                for k, v in value.items()}
    if isinstance(value, list):
        return [portable(v, roots) for v in value]
    return _portable_path(value, roots, False) if isinstance(value, str) else value


def _portable_path(text: str, roots: tuple[str, ...], is_path: bool) -> str:
    for root in roots:
        if text == root or text.startswith(root.rstrip(os.sep) + os.sep):
            return PurePath(os.path.relpath(text, root)).as_posix()
    # Ingest records the input path as given on the command line: absolute outside the project, keep the name.
    return PurePath(text).name if is_path and os.path.isabs(text) else text


def scrub(text: str, roots: tuple[str, ...]) -> str:
    """Free text (the source description) with the project folder's path taken out of any path in it."""
    for root in roots:
        text = text.replace(root.rstrip(os.sep) + os.sep, "")
    return text


def project_roots(root: Path) -> tuple[str, ...]:
    """The project folder as given and resolved (symlinks), longest first, for `portable`."""
    return tuple(sorted({str(root.absolute()), str(root.resolve())}, key=len, reverse=True))


def source_map_of(meta: Mapping[str, Any]) -> tuple[tuple[int, int], ...]:
    """Where ingest removed furniture from the article (meta["source_map"]); none when absent or not that shape."""
    raw = meta.get("source_map") if isinstance(meta, Mapping) else None
    try:
        pairs = tuple((int(offset), int(length)) for offset, length in raw or ())
    except (TypeError, ValueError):
        return ()
    ordered = all(a[0] < b[0] for a, b in zip(pairs, pairs[1:], strict=False))
    return pairs if ordered and all(o >= 0 and n > 0 for o, n in pairs) else ()


def span_row(span: GoldSpan, aligned: Aligned, in_ents: frozenset[SpanKey],
             source_map: tuple[tuple[int, int], ...] = ()) -> dict[str, Any]:
    """One gold span with provenance, its offsets in the input as given, and where it landed in the token formats."""
    origin, decision = span.origin, span.decision
    token = aligned.get(span.key, (span.start, span.end))
    source_start, source_end = to_source(source_map, span.start, span.end)
    return {
        "id": span.id,
        "start": span.start,
        "end": span.end,
        # Offsets in the user's input text as given (before page furniture was removed): joins back to their corpus.
        "source_start": source_start,
        "source_end": source_end,
        "label": span.label,
        "text": span.text,
        "annotators": list(span.annotators),
        "lead_decision": None
        if decision is None
        else {"action": decision.action, "by": decision.by, "at": decision.at, "note": decision.note,
              "guideline_version": decision.guideline_version},
        "origin": origin.origin,
        "correction": origin.correction,
        "model_version": origin.model_version,
        "predicted": None if origin.predicted is None else dict(zip(("start", "end", "label"), origin.predicted, strict=True)),
        # Character offsets as the DocBin and CoNLL hold the span: start/end unless it cuts through a token (then
        # expanded). Not named token_start/token_end: in Prodigy-style JSONL, which spaCy users know, those are
        # token indices.
        "aligned_start": None if token is None else token[0],
        "aligned_end": None if token is None else token[1],
        "token_aligned": token == (span.start, span.end),
        "in_ents": span.key in in_ents,
    }


def gold_row(gold: TaskGold, side: str, guideline_version: str, aligned: Aligned,
             in_ents: frozenset[SpanKey]) -> dict[str, Any]:
    """One article: text, metadata, adjudication status, gold spans and relations (Document-compatible)."""
    return {
        "id": gold.article_id,
        "task_id": gold.task_id,
        "text": gold.text,
        "meta": gold.meta,
        "status": gold.status,
        "single_annotated": gold.single_annotated,
        "annotators": list(gold.annotators),
        "guideline_version": guideline_version,
        "split": side,
        "spans": [span_row(s, aligned, in_ents, source_map_of(gold.meta)) for s in gold.spans],
        "relations": [{"from_id": r.from_id, "to_id": r.to_id, "label": r.label} for r in gold.relations],
        "open_disagreements": len(gold.disagreements),
    }


def dumps_lines(rows: Iterable[Mapping[str, Any]]) -> str:
    """JSON lines with sorted keys, so the same rows always give the same bytes."""
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)


def disagreement_rows(items: Iterable[Open]) -> list[dict[str, Any]]:
    """Open disagreements (spans and relations) in task and offset order."""
    return [d.to_dict() for d in sorted(items, key=lambda d: (d.task_id, d.start, d.end, d.label))]
