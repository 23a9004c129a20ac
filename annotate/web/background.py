"""Background work for the dashboard: an executor of daemon threads, the Job that ties a future to the data
version it computes something for, and `run_in_child`, which keeps work that reads every task (a summary, the
agreement report) out of the dashboard's own memory."""

from __future__ import annotations

import multiprocessing
import os
import pickle
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


class WorkerStopped(RuntimeError):
    """A worker process ended by a signal (the dashboard stopping stops its daemon children): not a failure."""


def run_in_child(fn: Callable[..., Any], /, *args: Any) -> Any:
    """`fn(*args)` in a fresh Python process (spawn), its result or its exception handed back; for work whose
    memory peak must not stay with the dashboard (a process never gives freed memory back to the system).

    The child is a daemon (stopped when the dashboard exits) and also stops itself when the dashboard is killed."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, os.getpid(), fn, args), daemon=True,
                            name=f"dashboard-{getattr(fn, '__name__', 'work')}")
    child.start()
    send.close()
    try:
        status, value = receive.recv()
    except EOFError:
        child.join()
        name = getattr(fn, "__name__", "work")
        if child.exitcode is None or child.exitcode < 0:  # a signal, or the dashboard exiting: not a failure
            how = "as the dashboard exits" if child.exitcode is None else f"by signal {-child.exitcode}"
            raise WorkerStopped(f"the dashboard's worker process for {name} was stopped {how}") from None
        raise RuntimeError(f"the dashboard's worker process for {name} ended without an answer (exit code "
                           f"{child.exitcode})") from None
    finally:
        receive.close()
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
            child.join()
    if status == "error":
        raise value
    return value


def run_work(isolate: bool, fn: Callable[..., Any], /, *args: Any) -> Any:
    """`fn(*args)`: in a worker process (run_in_child) when `isolate` (the app's ISOLATE_WORK), else right here."""
    return run_in_child(fn, *args) if isolate else fn(*args)


def _child(send: Any, parent: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    try:
        answer: tuple[str, Any] = ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it where it waits
        try:
            pickle.dumps(exc)
            answer = ("error", exc)
        except Exception:  # noqa: BLE001 - an exception that cannot travel: its text does
            answer = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
    send.send(answer)
    send.close()


def _exit_with(parent: int) -> None:
    """Stop this child when the dashboard that started it is gone (killed, so it could not stop us itself)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)
