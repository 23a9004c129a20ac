"""Progress bars on stderr, shown only to a person watching a terminal (never in pipes, logs or CI)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm

PROGRESS_MIN = 20  # no bar for a handful of items


def progress(desc: str, total: int, unit: str = "task", min_total: int = PROGRESS_MIN) -> Callable[[int], None]:
    """A stderr progress bar (total -1: unknown); a no-op when stderr is not a terminal or total < min_total."""
    # Without the tty check tqdm leaves "pull: 0task" and carriage returns in a redirected stderr.
    if 0 <= total < min_total or not _is_terminal():
        return lambda _n: None
    bar = tqdm(total=None if total < 0 else total, desc=desc, unit=unit, file=sys.stderr, leave=False,
               mininterval=0.5)
    return bar.update


def _is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())
