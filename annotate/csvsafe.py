"""CSV files a spreadsheet can open safely: the one writer every CSV the tool makes goes through (stdlib only).

A spreadsheet runs a cell starting with `=`, `+`, `-` or `@` as a formula (and tab or CR can hide one), so a span
text or article title such as `=HYPERLINK(...)` would run on the analyst's machine (OWASP "CSV injection"). Such
string cells get a leading `'`, which spreadsheets show as text. Numbers stay numbers; the Parquet and JSON outputs
keep the exact text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .files import atomic_write

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` with a leading `'` when it is a string a spreadsheet would read as a formula; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write `frame` atomically as UTF-8 CSV (no index, `\\n` line ends) with its string cells made safe."""
    safe = frame.copy()
    for column in safe.columns:
        # Element-wise, so a column mixing numbers and text keeps its numbers.
        safe[column] = safe[column].map(safe_cell)
    with atomic_write(path) as handle:
        safe.to_csv(handle, index=False, lineterminator="\n")
    return Path(path)
