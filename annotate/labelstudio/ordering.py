"""Task order for `annotate push --order`: the documents the model is least sure about go first (stdlib only).

Label Studio's default queue hands tasks out in import order, so sorting before the push is enough.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigError
from ..records import Document

ORDERS = ("input", "uncertain")


def confidence(doc: Document) -> tuple[float, float]:
    """(lowest, mean) span score of a document; a document with no scored span counts as (0, 0).

    Nothing predicted is treated as least certain: either the model missed everything or there is nothing to
    find, and only an annotator can tell which.
    """
    scores = [s.score for s in doc.spans if s.score is not None]
    if not scores:
        return (0.0, 0.0)
    return (min(scores), sum(scores) / len(scores))


def order_documents(docs: Sequence[Document], order: str = "input") -> list[Document]:
    """Documents in `order`: "input" keeps them as given, "uncertain" sorts by (lowest, mean) score ascending."""
    if order not in ORDERS:
        raise ConfigError(f"unknown order {order!r}; valid: {', '.join(ORDERS)}")
    if order == "input":
        return list(docs)
    # sorted() is stable: equally sure documents keep their input order, so the result is reproducible.
    return sorted(docs, key=confidence)
