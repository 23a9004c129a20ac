"""Pre-annotation in worker processes: same order and content as one process, bounded memory."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, Protocol

from ..records import Article, Document


class Annotator(Protocol):
    """What a worker runs: the rule pre-annotator (annotator.Preannotator), rebuilt from its settings and model."""

    settings: Any
    model: str | None

    def annotate(self, articles: Iterable[Article], processes: int = 1, batch_size: int = 32) -> Iterator[Document]: ...


Build = Callable[[Any, "str | None"], Annotator]  # (settings, model) -> the pre-annotator, in a spawned worker
_WORKER: Annotator | None = None  # the pre-annotator inside a worker process


def _init(build: Build, settings: object, model: str | None) -> None:
    global _WORKER
    if _WORKER is None:  # spawn: rebuild from settings; fork: inherited from the parent
        _WORKER = build(settings, model)


def _run(batch: list[Article]) -> list[Document]:
    assert _WORKER is not None, "worker not initialised"
    return list(_WORKER.annotate(batch, processes=1, batch_size=len(batch)))


def _batches(articles: Iterable[Article], size: int) -> Iterator[list[Article]]:
    it = iter(articles)
    while batch := list(islice(it, size)):
        yield batch


def annotate_parallel(pre: Annotator, build: Build, articles: Iterable[Article], processes: int,
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
        with context.Pool(processes, initializer=_init, initargs=(build, pre.settings, pre.model)) as pool:
            pending: deque = deque()
            for batch in _batches(articles, batch_size):
                pending.append(pool.apply_async(_run, (batch,)))
                if len(pending) >= 2 * processes:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()
    finally:
        _WORKER = None
