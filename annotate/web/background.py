"""Background work for the dashboard: an executor of daemon threads, and the Job that ties a future to the
data version it computes something for."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any


class DaemonExecutor(Executor):
    """Runs each job in a daemon thread of its own.

    Not ThreadPoolExecutor: it joins its workers at interpreter exit, so Ctrl+C on `annotate serve` would wait
    for a running read or report (a minute on 10,000 documents) whose result nobody is going to look at.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()

        def run() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # noqa: BLE001 - the future hands it to the page that asks
                    future.set_exception(exc)

        threading.Thread(target=run, name=f"dashboard-{getattr(fn, '__name__', 'job')}", daemon=True).start()
        return future


@dataclass(frozen=True)
class Job:
    """The future computing something for one data version, and when it was started."""

    version: Any
    future: Future
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started
