"""What the ML backend keeps between requests: the model it serves, and the background retraining.

Label Studio calls the webhook synchronously with a short timeout, so a retraining only ever starts a
thread and returns; a trigger that arrives while one runs is remembered and runs once after it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Annotator(Protocol):
    """What the backend needs of a pre-annotator (annotate.preannotate.build_preannotator's Preannotator)."""

    model_version: str

    def annotate(self, articles: Any, processes: int = 1, batch_size: int = 32) -> Any: ...


class ModelHolder:
    """The pre-annotator currently served; `swap` loads a new model first, then replaces the old one at once."""

    def __init__(self, build: Callable[[str | None], Annotator], model: str | None = None):
        self._build = build
        self._lock = threading.Lock()
        self._current: Annotator | None = None
        self.model = model

    def get(self) -> Annotator:
        """The served pre-annotator, loaded on first use."""
        with self._lock:
            if self._current is None:
                self._current = self._build(self.model)
            return self._current

    def swap(self, model: str) -> Annotator:
        """Load `model` (while the old one keeps serving), then serve it."""
        loaded = self._build(model)
        with self._lock:
            self._current, self.model = loaded, model
        log.info("now serving %s (%s)", loaded.model_version, model)
        return loaded


@dataclass
class TrainingRun:
    reason: str
    started: float
    finished: float | None = None
    model: str | None = None
    error: str | None = None


@dataclass
class Retrainer:
    """Counts new annotations and runs `train` (returns a model folder) in a background thread, one at a time."""

    train: Callable[[], Path | str | None]
    on_trained: Callable[[str], Any]
    every: int = 0  # retrain after this many ANNOTATION_CREATED/UPDATED events; 0 = only when asked
    count: int = 0
    runs: list[TrainingRun] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _pending: str | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def note_annotation(self) -> bool:
        """Count one new or updated annotation; start a retraining when `every` is reached. True if started."""
        with self._lock:
            self.count += 1
            due = self.every > 0 and self.count >= self.every
            if due:
                self.count = 0
        return self.start(f"{self.every} new annotation(s)") if due else False

    def start(self, reason: str) -> bool:
        """Start a retraining in the background; if one is running, run once more after it. True if started now."""
        with self._lock:
            if self.running:
                self._pending = reason
                return False
            self._launch(reason)
            return True

    def _launch(self, reason: str) -> None:
        """Start a run's thread; the caller holds the lock."""
        run = TrainingRun(reason, time.time())
        self.runs.append(run)
        self._thread = threading.Thread(target=self._run, args=(run,), name="annotate-retrain", daemon=True)
        self._thread.start()

    def _run(self, run: TrainingRun) -> None:
        try:
            folder = self.train()
            if folder is not None:
                run.model = str(folder)
                self.on_trained(str(folder))
        except Exception as exc:  # noqa: BLE001 - a failed retraining must not kill the server; it is reported
            log.exception("retraining failed")
            run.error = f"{type(exc).__name__}: {exc}"
        finally:
            run.finished = time.time()
        with self._lock:
            pending, self._pending = self._pending, None
            if pending:
                self._launch(pending)  # replaces this thread: `running` never flickers off in between
            else:
                self._thread = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running retraining (tests, shutdown); True when none is running any more."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            thread = self._thread
            if thread is None or thread is threading.current_thread():
                return True
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False

    def status(self) -> dict[str, Any]:
        """Counts and the last runs, for GET /training."""
        last = self.runs[-1] if self.runs else None
        return {"running": self.running, "annotations_since_training": self.count, "every": self.every,
                "runs": len(self.runs),
                "last": None if last is None else {"reason": last.reason, "model": last.model, "error": last.error,
                                                   "seconds": None if last.finished is None
                                                   else round(last.finished - last.started, 1)}}
