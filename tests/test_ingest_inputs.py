"""Ingest of awkward inputs: lone surrogates, unreadable files and folders, broken CSV quoting,
bad furniture offsets, control characters in file names, and project-relative source paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotate.ingest import IngestReport, load_articles

GOOD = "Rebels shelled the town of Marea on Monday, a monitor said."


def ingest(*paths: Path | str, **kwargs) -> tuple[list, IngestReport]:
    report = IngestReport()
    return list(load_articles(paths, report=report, **kwargs)), report


# --- 1. lone surrogate escapes in JSON ---------------------------------------------------------

@pytest.mark.parametrize(("line", "field"), [
    (r'{"text": "Rebels \ud800 shelled Marea."}', "'text'"),
    (r'{"text": "Rebels shelled Marea.", "title": "Marea \udfff"}', "'title'"),
    (r'{"text": "Rebels shelled Marea.", "meta": {"tags": ["ok", "\udc80"]}}', "'meta.tags[1]'"),
    (r'{"text": "Rebels shelled Marea.", "\ud83d": "key"}', "a key of the record"),
])
def test_a_lone_surrogate_rejects_its_line_and_the_rest_goes_on(tmp_path: Path, line: str, field: str) -> None:
    path = tmp_path / "wire.jsonl"
    good = json.dumps({"text": GOOD})
    path.write_text(f"{good}\n{line}\n" + json.dumps({"text": GOOD + " Again."}) + "\n", encoding="utf-8")
    articles, report = ingest(path)
    assert [a.meta["line"] for a in articles] == [1, 3]
    (error,) = report.rejected
    message = str(error)
    assert message.startswith(f"{path}:2: ") and "\n" not in message
    assert field in message and "lone surrogate" in message
    for article in articles:  # what is accepted can be written out as UTF-8
        json.dumps(article.meta, ensure_ascii=False).encode("utf-8")


def test_a_surrogate_pair_escape_is_one_valid_character(tmp_path: Path) -> None:
    path = tmp_path / "emoji.jsonl"
    path.write_text(r'{"text": "Rebels shelled Marea \ud83d\ude00."}' + "\n", encoding="utf-8")
    (article,), report = ingest(path)
    assert report.rejected == [] and article.text == "Rebels shelled Marea \U0001f600."
