"""Files -> Article: decoding, normalisation, furniture removal, stable ids, duplicate reports.

Inputs are read lazily, one article at a time; a bad file or record is rejected with a one-line
error naming the file (and line) and the rest of the batch goes on. The article text is the input as
given (a UTF-8 BOM removed) minus the furniture pieces, so every offset in the tool maps back to the
input with `records.to_source` and the article's source map. The id of a text without one is the
SHA-256 of `normalise_text` of it (before furniture removal), so re-ingesting the same file, or the same
story with \\r\\n line ends or trailing spaces, gives the same id.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ConfigError, InputError, OffsetError
from ..records import Article
from .furniture import LINE_END, strip_furniture
from .neardup import NearDuplicateIndex
from .sources import RawRecord, expand_paths, parse_json_line, read_records

__all__ = ["IngestReport", "load_articles", "normalise_text", "strip_furniture", "article_to_dict", "read_articles"]

log = logging.getLogger(__name__)

_HEADLINE_MAX = 200
STDIN = "-"  # as an input: read standard input (JSON lines, or one article's text)
STDIN_NAME = "<stdin>"  # how errors and meta["source_file"] name standard input


def normalise_text(raw: str) -> str:
    """The text ids and exact duplicates are computed on (never shown): no BOM, \\n line ends, no trailing
    spaces, no leading/trailing blank lines."""
    text = raw.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def content_id(text: str) -> str:
    """Stable id of a normalised text: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class IngestReport:
    """What an ingest run accepted, rejected and found duplicated."""

    rejected: list[InputError] = field(default_factory=list)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (id, first source, duplicate source)
    near_duplicates: list[tuple[str, str, float]] = field(default_factory=list)  # (id_a, id_b, similarity)
    accepted: int = 0

    def summary(self) -> str:
        """A one-line count, then one line per rejected input, duplicate and near-duplicate pair."""
        parts = [f"{self.accepted} article(s) accepted", f"{len(self.rejected)} input(s) rejected",
                 f"{len(self.duplicates)} exact duplicate(s) skipped",
                 f"{len(self.near_duplicates)} near-duplicate pair(s) reported"]
        shown = InputError.printable  # file names and given ids may hold newlines or escape sequences
        lines = [", ".join(parts) + "."]
        lines += [f"  rejected: {err}" for err in self.rejected]
        lines += [shown(f"  duplicate: {aid} ({dup} repeats {first})") for aid, first, dup in self.duplicates]
        lines += [shown(f"  near-duplicate: {a} ~ {b} (similarity {s:.2f})") for a, b, s in self.near_duplicates]
        return "\n".join(lines)


def _headline(text: str) -> str | None:
    """The first line, if it reads like a headline: short, several words, no closing punctuation."""
    first, rest = (LINE_END.split(text, maxsplit=1) + [""])[:2]
    first = first.strip()
    if rest.strip() and len(first) <= _HEADLINE_MAX and len(first.split()) >= 3 and first[-1] not in ".,;:!?\"”":
        return first
    return None


def source_name(path: str | Path, root: str | Path | None = None) -> str:
    """The file name kept in meta: relative to `root` (default: the working folder), '/'-separated, UTF-8.

    Never an absolute path of this machine, so the dataset means the same on another one; bytes that
    are not UTF-8 are shown as \\xNN, so the JSONL stays UTF-8.
    """
    return _relative(os.path.abspath(path), os.path.abspath(root if root is not None else os.curdir))


@functools.lru_cache(maxsize=256)  # called for every record of a file: realpath costs system calls
def _relative(path: str, start: str) -> str:
    relative = os.path.relpath(path, start)
    if relative.startswith(os.pardir):  # maybe the same folder reached through a symbolic link
        resolved = os.path.relpath(os.path.realpath(path), os.path.realpath(start))
        relative = relative if resolved.startswith(os.pardir) else resolved
    return os.fsencode(Path(relative).as_posix()).decode("utf-8", "backslashreplace")


def _build(raw: RawRecord, max_chars: int, root: str | Path | None) -> tuple[Article, str] | InputError:
    """The article and its normalised original text (kept for hashing: original_text() is slow)."""
    if raw.furniture is not None:
        text, furniture = raw.text, raw.furniture
        try:
            Article("", text, {}, furniture).check_furniture()
        except OffsetError as exc:
            return InputError(str(exc), raw.path, raw.line)
        original = normalise_text(Article("", text, {}, furniture).original_text())
    else:
        # The text annotators see is the input as given minus the furniture; only the id and duplicate
        # detection use the normalised text, so ids stay what they were before texts were kept as given.
        text, furniture = strip_furniture(raw.text)
        original = normalise_text(raw.text)
    if not original.strip():
        return InputError("empty text", raw.path, raw.line)
    if len(original) > max_chars:
        return InputError(f"article is {len(original)} characters, over the limit of {max_chars} "
                          "(--max-chars / max_article_chars)", raw.path, raw.line)
    if not text.strip():
        return InputError("nothing is left once page furniture is removed "
                          f"({', '.join(sorted({f.kind for f in furniture}))})", raw.path, raw.line)
    meta = dict(raw.meta)
    if raw.furniture is None or "source_file" not in meta:  # our own output keeps its original provenance
        source = raw.path if raw.path == STDIN_NAME else source_name(raw.path, root)
        meta.update({"source_file": source, **({} if raw.line is None else {"line": raw.line})})
    if (raw.path.lower().endswith(".txt") or raw.path == STDIN_NAME and raw.line is None) and "title" not in meta and (title := _headline(text)):
        meta["title"] = title
    # Derived from the furniture every time (a stale map read back is replaced), and carried in meta so it
    # travels through pre-annotation into Label Studio's task meta and the exports.
    meta.pop("source_map", None)
    if source_map := Article("", text, {}, furniture).source_map:
        meta["source_map"] = [list(pair) for pair in source_map]
    return Article(raw.given_id or content_id(original), text, meta, furniture), original


def load_articles(paths: Iterable[str | Path], *, text_column: str = "text", max_chars: int = 100_000,
                  report: IngestReport | None = None,
                  near_threshold: float = Settings.near_duplicate_threshold,
                  root: str | Path | None = None) -> Iterator[Article]:
    """Stream Articles from .txt/.jsonl/.csv files and folders, each exact duplicate once.

    Rejected inputs, duplicates and near-duplicates go into `report`; without a report the first
    rejected input raises its InputError (strict mode for callers that cannot show a report).
    `meta["source_file"]` is relative to `root`, the project folder (default: the working folder).
    """
    near = NearDuplicateIndex(near_threshold)  # refuses a threshold outside (0, 1]
    if max_chars < 1:
        raise ConfigError(f"max_chars must be at least 1, got {max_chars}")
    seen: dict[bytes, tuple[str, str]] = {}  # content digest -> (id, where first seen)
    ids: set[str] = set()  # an id already seen whose text is not in `seen` was given to another text

    def reject(err: InputError) -> None:
        if report is None:
            raise err
        log.info("rejected %s", err)  # the report shows it; -v logs it as it happens
        report.rejected.append(err)

    for path in _inputs(paths):
        if isinstance(path, InputError):
            reject(path)
            continue
        records = read_stdin(max_chars) if path == STDIN else read_records(Path(path), text_column, max_chars)
        for raw in records:
            built = raw if isinstance(raw, InputError) else _build(raw, max_chars, root)
            if isinstance(built, InputError):
                reject(built)
                continue
            assert isinstance(raw, RawRecord)
            article, original = built
            digest = hashlib.blake2b(original.encode("utf-8"), digest_size=16).digest()
            if digest in seen:
                first_id, first_where = seen[digest]
                log.info("%s", InputError.printable(f"{raw.where} repeats {first_where} (id {first_id}); skipped"))
                if report is not None:
                    report.duplicates.append((first_id, first_where, raw.where))
                continue
            if article.id in ids:
                reject(InputError(f"id {article.id!r} is already used by a different text; ids must be unique",
                                  raw.path, raw.line))
                continue
            seen[digest] = (article.id, raw.where)
            ids.add(article.id)
            for other, score in near.add(article.id, article.text):
                if report is not None:
                    report.near_duplicates.append((other, article.id, score))
            if report is not None:
                report.accepted += 1
            yield article


def _inputs(paths: Iterable[str | Path]) -> Iterator[Path | str | InputError]:
    """The files to read, with "-" (standard input) kept in its place among them."""
    for given in paths:
        if str(given) == STDIN:
            yield STDIN
        else:
            yield from expand_paths([given])


def read_stdin(max_chars: int, stream: Any = None) -> Iterator[RawRecord | InputError]:
    """Standard input's records, as they arrive: JSON lines (`annotate ingest` output or {"text": ...}) when
    the first non-blank character is "{", else the whole input as one article's text."""
    lines = iter(stream if stream is not None else sys.stdin.buffer)
    head: list[bytes] = []
    for line in lines:
        head.append(line)
        if line.strip():
            break
    first = b"".join(head).lstrip().removeprefix(b"\xef\xbb\xbf")
    if not first:
        yield InputError("empty input", STDIN_NAME)
    elif first.startswith(b"{"):
        for number, line in enumerate(itertools.chain(head, lines), 1):  # streamed: a pipe is read as it fills
            if line.strip():
                yield parse_json_line(line, STDIN_NAME, number)
    else:
        yield from _stdin_text(b"".join(itertools.chain(head, lines)), max_chars)


def _stdin_text(data: bytes, max_chars: int) -> Iterator[RawRecord | InputError]:
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        yield InputError(f"not valid UTF-8 ({exc.reason} at byte {exc.start}); send UTF-8 text", STDIN_NAME)
        return
    if "\x00" in text:
        yield InputError("binary data (contains NUL bytes); expected UTF-8 text or JSON lines", STDIN_NAME)
        return
    if len(text) > max_chars:
        yield InputError(f"input is {len(text)} characters, over the limit of {max_chars} "
                         "(--max-chars / max_article_chars)", STDIN_NAME)
        return
    yield RawRecord(text, STDIN_NAME, None, {})


def article_to_dict(article: Article) -> dict[str, Any]:
    """The JSONL shape written by `annotate ingest`: id, text, meta, furniture [{kind, start, text}]."""
    return {"id": article.id, "text": article.text, "meta": article.meta,
            "furniture": [{"kind": f.kind, "start": f.start, "text": f.text} for f in article.furniture]}


def read_articles(path: str | Path, report: IngestReport | None = None) -> Iterator[Article]:
    """Stream Articles back from a file written by `annotate ingest` (ids, meta and furniture kept)."""
    # No size limit here: the file was already checked against the limit in force when it was written.
    yield from load_articles([path], report=report, max_chars=sys.maxsize)
