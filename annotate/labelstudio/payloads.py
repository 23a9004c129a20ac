"""What we send Label Studio, without the SDK: task data, predictions and gold annotations as its import JSON.

Each task keeps the article id in `data.doc_id` (filterable in Label Studio, unlike task meta) and a hash of the
text. The same result items serve a push's predictions and the gold's Label Studio export (`labelstudio.json`),
so gold imported into any Label Studio instance and pulled again gives the same gold.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from ..records import Document
from .labelconfig import FROM_NAME, TO_NAME

ID_KEY = "doc_id"  # the article id inside task data: filterable in Label Studio, unlike task meta
TITLE_WORDS = 10  # words of the text that make a title when the article has no headline


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def prediction_result(doc: Document) -> list[dict[str, Any]]:
    """Label Studio result items for a document's spans and the relations between them (offsets as they are:
    Label Studio 1.23 stores Python code-point indices, see tests/test_browser_offsets.py).

    A relation item names its regions by the spans' ids (`records.span_id`, e.g. "20-28-OUTCOME"): Label Studio
    1.23.2 keys a region as "<id>#<annotation>" and writes back the part before "#", so any id without "#" keeps;
    accepting the prediction copies its regions with their ids, so the annotation's relations still point at them.
    """
    spans = [
        {
            "id": span.id or f"p{i}",
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "origin": "prediction",
            "value": {"start": span.start, "end": span.end, "text": span.text,
                      "labels": [span.label]},
            **({"score": span.score} if span.score is not None else {}),
            **({"meta": {"source": span.source}} if span.source else {}),
        }
        for i, span in enumerate(doc.spans)
    ]
    # "right" is from_id -> to_id, how records.Relation points (source -> target).
    links = [{"type": "relation", "from_id": rel.from_id, "to_id": rel.to_id, "direction": "right",
              "labels": [rel.label]} for rel in doc.relations]
    return spans + links


def prediction_version(doc: Document) -> str | None:
    """The model version of the prediction a new task for `doc` carries, or None when it carries none."""
    return (doc.model_version or "unknown") if doc.spans or doc.model_version else None


def prediction_payload(doc: Document) -> dict[str, Any]:
    scores = [s.score for s in doc.spans if s.score is not None]
    return {
        "model_version": prediction_version(doc) or "unknown",
        "score": round(sum(scores) / len(scores), 4) if scores else 0.0,
        "result": prediction_result(doc),
    }


def task_payload(doc: Document) -> dict[str, Any]:
    """One Label Studio task: text and article id in `data` (what the editor and filters see)."""
    meta = dict(doc.meta)
    title = task_title(doc)
    # `title` feeds the editor's <Header>, `headline` the Data Manager's column: the header stays empty when the text
    # already starts with the title, so an annotator never reads the headline twice. (The config keeps `$title`:
    # Label Studio refuses a config naming a data field that the project's existing tasks lack.)
    data = {"text": doc.text, ID_KEY: doc.id, "text_sha": text_sha(doc.text), "title": header_text(doc.text, title),
            "headline": title}
    data.update({k: v for k, v in meta.items() if k in ("url", "date", "source", "source_file")})
    task: dict[str, Any] = {"data": data, "meta": meta}
    if prediction_version(doc) is not None:
        task["predictions"] = [prediction_payload(doc)]
    return task


def task_title(doc: Document) -> str:
    """The article's headline (its `title`), or a readable one from its first words; never a file name."""
    title = " ".join(str(doc.meta.get("title") or "").split())
    if title:
        return title
    words = doc.text.split()
    return " ".join(words[:TITLE_WORDS]) + (" …" if len(words) > TITLE_WORDS else "")


def header_text(text: str, title: str) -> str:
    """The title for the editor's header, or "" when the text itself starts with it (whitespace aside)."""
    start = title.removesuffix(" …")
    return "" if " ".join(text.split()).startswith(start) else title


def gold_task(doc: Document) -> dict[str, Any]:
    """One gold record as a Label Studio import task: its spans and relations as a ground-truth annotation.

    Label Studio 1.23.2 imports `annotations` with the task (tasks/serializers.py add_annotations: ground_truth
    defaults to True, completed_by to the importing user); the regions keep our span ids, so relations hold.
    """
    task = task_payload(replace(doc, model_version=None, spans=(), relations=()))
    result = [dict(item, origin="manual") for item in prediction_result(doc)]
    for item in result:
        item.pop("score", None)
    task["annotations"] = [{"result": result, "ground_truth": True}]
    return task
