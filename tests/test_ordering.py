"""`annotate push --order uncertain`: least sure documents first, stable and reproducible."""

from __future__ import annotations

import pytest

from annotate.errors import ConfigError
from annotate.labelstudio.ordering import confidence, order_documents
from annotate.records import Document, Span


def _doc(doc_id: str, *scores: float | None) -> Document:
    text = "word " * max(1, len(scores))
    spans = tuple(Span(5 * i, 5 * i + 4, "ACTOR", "word", s) for i, s in enumerate(scores))
    return Document(doc_id, text, spans)


@pytest.mark.parametrize(("scores", "expected"), [
    ((0.9, 0.5, 0.7), (0.5, 0.7)),
    ((1.0,), (1.0, 1.0)),
    ((), (0.0, 0.0)),
    ((None, 0.8), (0.8, 0.8)),  # unscored spans (hand-made) do not count
])
def test_confidence_is_lowest_then_mean_score(scores, expected):
    low, mean = confidence(_doc("d", *scores))
    assert (low, round(mean, 6)) == expected


def test_uncertain_order_sorts_by_lowest_then_mean_score():
    docs = [_doc("sure", 0.99, 0.95), _doc("one-doubt", 0.2, 1.0), _doc("mixed", 0.2, 0.4), _doc("mid", 0.6)]
    assert [d.id for d in order_documents(docs, "uncertain")] == ["mixed", "one-doubt", "mid", "sure"]


def test_documents_without_predictions_come_first():
    docs = [_doc("a", 0.3), _doc("empty")]
    assert [d.id for d in order_documents(docs, "uncertain")] == ["empty", "a"]


def test_ties_keep_input_order():
    docs = [_doc("b", 0.5), _doc("a", 0.5), _doc("c", 0.5)]
    assert [d.id for d in order_documents(docs, "uncertain")] == ["b", "a", "c"]


def test_input_order_is_unchanged():
    docs = [_doc("sure", 0.99), _doc("unsure", 0.1)]
    assert [d.id for d in order_documents(docs, "input")] == ["sure", "unsure"]


def test_unknown_order_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown order 'random'; valid: input, uncertain"):
        order_documents([], "random")
