"""Pre-annotation in worker processes: same order and content as one process, bounded memory."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

from ..records import Article, Document

if TYPE_CHECKING:
    from .pipeline import Preannotator

_WORKER: Preannotator | None = None  # the pre-annotator inside a worker process


def _init(settings: object, model: str | None) -> None:
    global _WORKER
    if _WORKER is None:  # spawn: rebuild from settings; fork: inherited from the parent
        from .pipeline import build_preannotator

        _WORKER = build_preannotator(settings, model)  # type: ignore[arg-type]


def _run(batch: list[Article]) -> list[Document]:
    assert _WORKER is not None, "worker not initialised"
    return list(_WORKER.annotate(batch, processes=1, batch_size=len(batch)))


def _batches(articles: Iterable[Article], size: int) -> Iterator[list[Article]]:
    it = iter(articles)
    while batch := list(islice(it, size)):
        yield batch


def annotate_parallel(pre: Preannotator, articles: Iterable[Article], processes: int,
                      batch_size: int) -> Iterator[Document]:
    """Yield Documents in input order, parsing batches in `processes` workers.

    At most 2 batches per worker are in flight, so memory stays flat however long the input is
    (Pool.imap would read the whole input ahead).
    """
    global _WORKER
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    _WORKER = pre if context.get_start_method() == "fork" else None
    try:
        with context.Pool(processes, initializer=_init, initargs=(pre.settings, pre.model)) as pool:
            pending: deque = deque()
            for batch in _batches(articles, batch_size):
                pending.append(pool.apply_async(_run, (batch,)))
                if len(pending) >= 2 * processes:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()
    finally:
        _WORKER = None
