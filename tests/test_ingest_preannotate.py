"""Pre-annotation of texts kept as given: \\r\\n line ends and trailing spaces change no rule span."""

from __future__ import annotations

from pathlib import Path

import pytest
from preannotate_fixtures import PROJECT_ROOT

from annotate.config import load_settings
from annotate.ingest.load import load_articles
from annotate.preannotate import build_preannotator
from annotate.records import Document, to_source

SEEDS = PROJECT_ROOT / "seeds"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pre():
    return build_preannotator(load_settings(env={}, root=PROJECT_ROOT))


@pytest.fixture(scope="module")
def clean(pre) -> dict[str, Document]:
    return {doc.id: doc for doc in pre.annotate(list(load_articles([SEEDS])))}


def annotate_rewritten(pre, tmp_path: Path, line_end: str) -> dict[str, Document]:
    for path in sorted(SEEDS.glob("*.txt")):
        (tmp_path / path.name).write_bytes(path.read_text(encoding="utf-8").replace("\n", line_end).encode())
    return {doc.id: doc for doc in pre.annotate(list(load_articles([tmp_path])))}


def in_seed_file(doc: Document, source: str) -> set[tuple[int, int, str, str]]:
    """The spans as offsets into the seed file as given, so texts with other line ends compare."""
    source_map = doc.meta.get("source_map", [])
    return {(*to_source(source_map, s.start, s.end), s.label, s.source or "") for s in doc.spans
            if s.source is not None and s.source.startswith(source)}


def shifted(spans: set[tuple[int, int, str, str]], text: str, extra: int) -> set[tuple[int, int, str, str]]:
    """Offsets in the \\n seed file -> offsets in the same file with `extra` more characters per line end."""
    return {(s + extra * text.count("\n", 0, s), e + extra * text.count("\n", 0, e), label, src)
            for s, e, label, src in spans}


def test_crlf_texts_get_exactly_the_spans_of_the_clean_texts(pre, clean, tmp_path: Path) -> None:
    crlf = annotate_rewritten(pre, tmp_path, "\r\n")
    assert sorted(crlf) == sorted(clean)  # same ids
    for doc_id, doc in crlf.items():
        doc.check()
        assert "\r\n" in doc.text
        original = (SEEDS / clean[doc_id].meta["source_file"].split("/")[-1]).read_text(encoding="utf-8")
        assert in_seed_file(doc, "") == shifted(in_seed_file(clean[doc_id], ""), original, 1)


def test_trailing_spaces_change_no_rule_span(pre, clean, tmp_path: Path) -> None:
    # The statistical model sees "  \r\n" as other whitespace tokens than "\n" and may differ on a word or
    # two (measured: 2 extra ORG guesses in 337 spans); the rules must not differ at all.
    spaced = annotate_rewritten(pre, tmp_path, "  \r\n")
    for doc_id, doc in spaced.items():
        doc.check()
        original = (SEEDS / clean[doc_id].meta["source_file"].split("/")[-1]).read_text(encoding="utf-8")
        assert in_seed_file(doc, "rule") == shifted(in_seed_file(clean[doc_id], "rule"), original, 3)
        assert in_seed_file(doc, "rule")
