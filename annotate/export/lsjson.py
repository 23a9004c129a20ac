"""labelstudio.json: the gold as Label Studio's import JSON, to load into any Label Studio instance."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..labelstudio.payloads import gold_task
from ..records import Document, Relation, Span


def labelstudio_json(rows: Iterable[Mapping[str, Any]]) -> str:
    """Every gold record as an import task (data, meta) whose gold is one ground-truth annotation: its spans, and its
    relations by span id."""
    tasks = []
    for row in rows:
        doc = Document(row["id"], row["text"], tuple(Span(s["start"], s["end"], s["label"], s["text"], id=s["id"])
                                                     for s in row["spans"]),
                       dict(row["meta"]), relations=tuple(Relation.from_dict(r) for r in row["relations"]))
        tasks.append(gold_task(doc))
    return json.dumps(tasks, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
