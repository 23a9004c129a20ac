"""Input files -> raw records: .txt (one article), .jsonl (one per line), .csv (one per row) (stdlib only).

Each reader is a generator that yields a RawRecord or, in place of an unusable file or record, an
InputError naming the file (and line), so one bad input never stops the batch.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..records import Furniture

SUFFIXES = (".txt", ".jsonl", ".csv")
_SURROGATE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (decoded with surrogateescape)
# json.loads joins an escaped surrogate pair into one character, so any surrogate left is half a pair,
# which no UTF-8 writer can encode: the article would crash ingest, preannotate or push later.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class RawRecord:
    """One record as read from a file, before normalisation; `where` names its file and line."""

    text: str
    path: str
    line: int | None
    meta: dict[str, Any]
    given_id: str | None = None
    furniture: tuple[Furniture, ...] | None = None  # set when re-reading our own output

    @property
    def where(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path | InputError]:
    """Files to read, in order: folders walked sorted (hidden entries skipped); errors for the rest."""
    for given in paths:
        path = Path(given)
        try:
            is_dir, is_file = path.is_dir(), path.is_file()
        except OSError as exc:  # e.g. a parent folder that may not be searched
            yield InputError(f"cannot read: {exc.strerror or exc}", str(path))
            continue
        if is_dir:
            yield from _walk(path)
        elif is_file:
            yield _check_suffix(path)
        else:
            yield InputError("no such file or folder", str(path))


def _walk(folder: Path) -> Iterator[Path | InputError]:
    """The files under a folder in path order, and an error in place of each folder that cannot be listed."""
    # os.walk, not Path.rglob: rglob skips a folder it cannot list without a word, losing its files unseen.
    found: list[tuple[Path, InputError | None]] = []

    def unlisted(exc: OSError) -> None:
        where = exc.filename if exc.filename is not None else str(folder)
        found.append((Path(where), InputError(f"cannot read folder: {exc.strerror or exc}; nothing in it was read",
                                              str(where))))

    for top, dirs, files in os.walk(folder, onerror=unlisted):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(top, name)
            if name.startswith("."):
                continue
            try:
                if path.is_file():  # not FIFOs, sockets or broken links
                    found.append((path, None))
            except OSError as exc:
                found.append((path, InputError(f"cannot read: {exc.strerror or exc}", str(path))))
    for path, error in sorted(found, key=lambda item: item[0]):
        yield error or _check_suffix(path)


def _check_suffix(path: Path) -> Path | InputError:
    if path.suffix.lower() in SUFFIXES:
        return path
    return InputError(f"unsupported file type {path.suffix or '(none)'!r}; valid: {', '.join(SUFFIXES)}", str(path))


def _read_txt(path: Path, max_chars: int) -> Iterator[RawRecord | InputError]:
    # UTF-8 uses at most 4 bytes per character, so a bigger file is over the limit without reading it.
    if path.stat().st_size > 4 * max_chars + 3:
        yield InputError(f"file is {path.stat().st_size} bytes, more than {max_chars} characters "
                         f"(the max_article_chars limit)", str(path))
        return
    data = path.read_bytes()
    if b"\x00" in data:
        yield InputError("binary file (contains NUL bytes); expected UTF-8 text", str(path))
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield InputError(f"not valid UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8", str(path))
        return
    yield RawRecord(text.removeprefix("\ufeff"), str(path), None, {})  # a BOM is encoding, not text


def _read_jsonl(path: Path) -> Iterator[RawRecord | InputError]:
    seen_any = False
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if b"\x00" in raw:
                yield InputError("binary data (NUL bytes); expected UTF-8 JSON lines", str(path), number)
                return
            if not raw.strip():
                continue
            seen_any = True
            yield parse_json_line(raw, str(path), number)
    if not seen_any:
        yield InputError("empty file (no JSON lines)", str(path))


def parse_json_line(raw: bytes, path: str, number: int) -> RawRecord | InputError:
    try:
        record = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return InputError(f"not valid UTF-8 ({exc.reason} at byte {exc.start} of the line)", path, number)
    except json.JSONDecodeError as exc:
        return InputError(f"not valid JSON ({exc.msg} at column {exc.colno})", path, number)
    if not isinstance(record, dict):
        return InputError(f"expected a JSON object with a 'text' field, got {type(record).__name__}", path, number)
    if (problem := _lone_surrogate(record, "")) is not None:
        return InputError(f"{problem}: a \\uXXXX escape for half of a UTF-16 surrogate pair; "
                          "JSON strings must hold whole characters", path, number)
    text, given_id = record.get("text"), record.get("id")
    if not isinstance(text, str):
        return InputError(f"no 'text' string (keys: {', '.join(sorted(record)) or 'none'}); "
                          "each line needs \"text\" plus optional id, title, url, date, source", path, number)
    if given_id is not None and (isinstance(given_id, bool) or not isinstance(given_id, str | int)
                                 or not str(given_id).strip()):
        return InputError(f"'id' must be a non-empty string or integer, got {given_id!r}", path, number)
    meta = dict(record.get("meta") or {}) if isinstance(record.get("meta"), dict) else {}
    meta.update({k: v for k, v in record.items() if k not in ("text", "id", "meta", "furniture")})
    furniture = None
    if isinstance(record.get("furniture"), list):  # our own output: text is already furniture-free
        pieces = [_furniture(piece) for piece in record["furniture"]]
        if problem := next((p for p in pieces if isinstance(p, str)), None):
            return InputError(f"'furniture' must be a list of {{kind, start, text}}: {problem}", path, number)
        furniture = tuple(p for p in pieces if isinstance(p, Furniture))
    return RawRecord(text, path, number, meta, None if given_id is None else str(given_id).strip(), furniture)


def _furniture(piece: Any) -> Furniture | str:
    """One {kind, start, text} piece of our own output, or what is wrong with it."""
    if not isinstance(piece, dict):
        return f"a piece is {type(piece).__name__}, not an object"
    missing = [key for key in ("kind", "start", "text") if key not in piece]
    if missing:
        return f"a piece has no {', '.join(repr(k) for k in missing)}"
    kind, start, text = piece["kind"], piece["start"], piece["text"]
    if isinstance(start, bool) or not isinstance(start, int):
        return f"'start' must be an integer, got {start!r}"
    if not isinstance(kind, str) or not isinstance(text, str):
        return "'kind' and 'text' must be strings"
    return Furniture(kind, start, text)


def _lone_surrogate(value: Any, name: str) -> str | None:
    """Where a JSON value holds a lone surrogate ("field 'meta.tags[1]' has ... at character 3"), else None."""
    if isinstance(value, str):
        found = _LONE_SURROGATE.search(value)
        return None if found is None else f"field {name!r} has a lone surrogate \\u{ord(found.group()):04x} at character {found.start()}"
    items: Iterable[tuple[str, Any]] = ()
    if isinstance(value, dict):
        for key in value:
            if _LONE_SURROGATE.search(key):
                return f"a key of {f'field {name!r}' if name else 'the record'} has a lone surrogate"
        items = ((f"{name}.{key}" if name else key, item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{name}[{i}]", item) for i, item in enumerate(value))
    return next((problem for key, item in items if (problem := _lone_surrogate(item, key))), None)


class _Lines:
    """A file's lines for csv.reader, keeping those of the current record so a broken one can be re-read."""

    def __init__(self, handle: Iterator[str]):
        self.handle = handle
        self.pending: deque[str] = deque()  # lines to read again before the rest of the file
        self.taken: list[str] = []  # lines read since the current record began

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.pending.popleft() if self.pending else next(self.handle)
        self.taken.append(line)
        return line


def _read_csv(path: Path, text_column: str, max_chars: int) -> Iterator[RawRecord | InputError]:
    with path.open("rb") as probe:
        if b"\x00" in probe.read(1 << 16):
            yield InputError("binary file (contains NUL bytes); expected UTF-8 CSV", str(path))
            return
    # The csv module refuses fields over its limit (128 KiB by default); allow any article we accept.
    csv.field_size_limit(max(csv.field_size_limit(), min(4 * max_chars + 1, sys.maxsize)))
    # utf-8-sig: spreadsheet programs start CSV files with a BOM, which would otherwise rename the first column.
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        lines = _Lines(handle)
        try:
            columns = next(csv.reader(lines, strict=True), None)
        except csv.Error as exc:
            yield InputError(f"not valid CSV header ({exc})", str(path), 1)
            return
        if not columns:
            yield InputError("empty file (no header row)", str(path))
            return
        if text_column not in columns:
            yield InputError(f"no column {text_column!r} (columns: {', '.join(columns)}); choose the text "
                             "column with --text-column or csv_text_column", str(path), 1)
            return
        yield from _csv_records(lines, columns, text_column, str(path), len(lines.taken) + 1)


def _csv_records(lines: _Lines, columns: list[str], text_column: str, path: str,
                 line: int) -> Iterator[RawRecord | InputError]:
    """The rows after the header; a broken record is rejected and the lines it swallowed are read again."""
    # Strict mode turns a quote left open into an error (text after the quote that closes it, or the end of
    # the file) where the default mode silently merges the next rows into one field of this one.
    reader = csv.reader(lines, strict=True)
    while True:
        lines.taken = []
        try:
            row = next(reader, None)
        except csv.Error as exc:
            last = line + len(lines.taken) - 1
            if str(exc).startswith("field larger than field limit"):  # cannot resynchronise inside a huge field
                yield InputError(f"not valid CSV ({exc}), maybe an unclosed quote; the rest of this file was "
                                 "skipped", path, line)
                return
            yield InputError(f"not valid CSV ({exc}) in the record from here to line {last}, probably an unclosed "
                             "quote; the record was skipped and the lines after its first read again", path, line)
            lines.pending.extendleft(reversed(lines.taken[1:]))
            reader, line = csv.reader(lines, strict=True), line + 1
            continue
        if row is None:
            return
        if row and len(row) != len(columns):
            yield InputError(f"the row has {len(row)} fields but the header has {len(columns)}; "
                             "check its quotes and commas", path, line)
        elif row:  # blank lines are skipped
            yield _csv_row(dict(zip(columns, row, strict=True)), text_column, path, line)
        line += len(lines.taken)


def _csv_row(row: dict[str, Any], text_column: str, path: str, line: int) -> RawRecord | InputError:
    values = {k: v for k, v in row.items() if isinstance(v, str)}
    if any(_SURROGATE.search(v) for v in values.values()):
        return InputError("not valid UTF-8; save the file as UTF-8", path, line)
    text = values.pop(text_column, "")
    given_id = values.pop("id", "").strip() or None
    return RawRecord(text, path, line, {k: v for k, v in values.items() if v.strip()}, given_id)


def read_records(path: Path, text_column: str, max_chars: int) -> Iterator[RawRecord | InputError]:
    """The records of one file, lazily, with an InputError in place of each unusable one."""
    try:
        if path.stat().st_size == 0:
            yield InputError("empty file", str(path))
        elif path.suffix.lower() == ".txt":
            yield from _read_txt(path, max_chars)
        elif path.suffix.lower() == ".jsonl":
            yield from _read_jsonl(path)
        else:
            yield from _read_csv(path, text_column, max_chars)
    except OSError as exc:  # unreadable (permissions), vanished, or failing disk: this file only
        yield InputError(f"cannot read: {exc.strerror or exc}", str(path))
