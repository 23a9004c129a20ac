"""Token-level coding: each token of each task gets, per annotator, the label covering it, `O`, or missing.

Units are tokens of the task text; a token's value is the label of the annotator's span that overlaps it
(any character), `O` if none does, and missing if the annotator did not complete the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import tables as t
from .coefficients import MISSING

OUTSIDE = "O"


@dataclass(frozen=True)
class TokenCoding:
    """Coders x tokens value codes; value 0 is `O`, value i is labels[i - 1]; `doc` maps tokens to tasks."""

    codes: np.ndarray  # int8, shape (n_coders, n_tokens), MISSING where the coder did not annotate the task
    doc: np.ndarray  # int64, shape (n_tokens,): index into Tables.tasks
    values: tuple[str, ...]  # ("O", *labels)


def ragged_ranges(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the integer ranges [starts[i], stops[i]); also return which range each integer came from."""
    lengths = np.maximum(stops - starts, 0)
    owner = np.repeat(np.arange(len(starts)), lengths)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts, lengths) + (np.arange(lengths.sum()) - offsets[owner]), owner


def code_tokens(tables: t.Tables, token_offsets: Sequence[np.ndarray], labels: Sequence[str]) -> TokenCoding:
    """Code every token of every task for every annotator (labels outside `labels` count as `O`)."""
    n_docs, n_coders = len(tables.texts), len(tables.annotators)
    n_tokens = np.array([len(o) for o in token_offsets], dtype=np.int64)
    doc = np.repeat(np.arange(n_docs), n_tokens)
    # Shift each task's character offsets by the running text length so one searchsorted serves all tasks.
    widths = np.array([len(text) + 1 for text in tables.texts], dtype=np.int64)
    char_base = np.cumsum(widths) - widths
    pieces = [np.asarray(o, dtype=np.int64).reshape(-1, 2) for o in token_offsets]
    flat = np.concatenate(pieces) if pieces else np.zeros((0, 2), dtype=np.int64)
    tok_start, tok_end = flat[:, 0] + char_base[doc], flat[:, 1] + char_base[doc]

    annotated = np.zeros((n_coders, n_docs), dtype=bool)
    annotated[tables.annotations[t.CODER].to_numpy(), tables.annotations[t.DOC].to_numpy()] = True
    codes = np.where(annotated[:, doc], 0, MISSING).astype(np.int8)

    spans = tables.spans[tables.spans[t.LABEL].isin(labels)]
    # Longer spans first so that a nested shorter span of the same annotator wins its tokens.
    spans = spans.assign(_len=spans[t.END] - spans[t.START]).sort_values([t.DOC, "_len"], ascending=[True, False],
                                                                          kind="stable")
    base = char_base[spans[t.DOC].to_numpy()]
    lo = np.searchsorted(tok_end, spans[t.START].to_numpy() + base, side="right")
    hi = np.searchsorted(tok_start, spans[t.END].to_numpy() + base, side="left")
    index, owner = ragged_ranges(lo, hi)
    value_of = {label: i + 1 for i, label in enumerate(labels)}
    span_values = spans[t.LABEL].map(value_of).to_numpy(dtype=np.int8)
    codes[spans[t.CODER].to_numpy()[owner], index] = span_values[owner]
    return TokenCoding(codes=codes, doc=doc, values=(OUTSIDE, *labels))
