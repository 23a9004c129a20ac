"""The seed gold: up to date with its source, offsets exact, nothing in furniture, builder fails loudly."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest

from annotate.errors import InputError
from annotate.gold.seed import GOLD_FILE, SOURCE_FILE, build_seed_gold, render_seed_gold, write_seed_gold
from annotate.ingest.load import load_articles
from annotate.records import Article, read_documents
from annotate.schema import load_schema

ROOT = Path(__file__).resolve().parent.parent
GUIDELINES = ROOT / "guidelines"
SEEDS = ROOT / "seeds"


@cache
def gold_documents():
    return tuple(read_documents(GUIDELINES / GOLD_FILE))


@cache
def articles() -> dict[str, Article]:
    return {a.id: a for a in load_articles([SEEDS])}


def test_jsonl_is_up_to_date_with_the_source():
    rebuilt = render_seed_gold(build_seed_gold(GUIDELINES, SEEDS))
    assert (GUIDELINES / GOLD_FILE).read_text(encoding="utf-8") == rebuilt, \
        "guidelines/seed-gold.jsonl is stale: run .venv/bin/annotate seed-gold"


def test_every_seed_has_gold_with_the_ingested_text():
    docs = gold_documents()
    assert sorted(d.id for d in docs) == sorted(articles())
    for doc in docs:
        assert doc.text == articles()[doc.id].text


def test_every_span_selects_its_text():
    for doc in gold_documents():
        for span in doc.spans:
            assert doc.text[span.start : span.end] == span.text


def test_gold_records_the_guidelines_version():
    version = load_schema(GUIDELINES).version
    assert {d.meta["guidelines_version"] for d in gold_documents()} == {version}


def _to_original(article: Article, pos: int) -> int:
    """Offset in the furniture-free text -> offset in the normalised original (furniture put back)."""
    shift = 0
    for piece in sorted(article.furniture, key=lambda f: f.start):
        if piece.start <= pos + shift:
            shift += len(piece.text)
    return pos + shift


def test_no_gold_span_lies_in_removed_furniture():
    for doc in gold_documents():
        article = articles()[doc.id]
        original = article.original_text()
        removed = [(f.start, f.start + len(f.text)) for f in article.furniture]
        for span in doc.spans:
            start = _to_original(article, span.start)
            end = start + (span.end - span.start)
            assert original[start:end] == span.text
            assert not any(start < stop and end > begin for begin, stop in removed), span


def test_spans_do_not_overlap_and_relations_point_at_spans():
    for doc in read_documents(GUIDELINES / GOLD_FILE):
        spans = sorted(doc.spans, key=lambda s: s.start)
        assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    gold = build_seed_gold(GUIDELINES, SEEDS)
    for g in gold:
        labels = {s.id: s.label for s in g.document.spans}
        for rel in g.relations:
            expected = ("OUTCOME", "LOCATION") if rel.label == "located_at" else ("ACTOR", "OUTCOME")
            assert (labels[rel.from_id], labels[rel.to_id]) == expected


def test_every_seed_has_all_three_labels():
    names = set(load_schema(GUIDELINES).label_names)
    for doc in gold_documents():
        assert {s.label for s in doc.spans} == names, doc.id


# A tiny project: one seed, its own source file, so each failure is exercised on its own.
SEED = "Rebels seized Marea.\nRebels seized Azaz.\n"


def _project(tmp_path: Path, text: str, relations: str = "[]") -> tuple[Path, Path]:
    guidelines, seeds = tmp_path / "guidelines", tmp_path / "seeds"
    guidelines.mkdir()
    seeds.mkdir()
    shutil.copy(GUIDELINES / "schema.toml", guidelines / "schema.toml")
    (seeds / "s.txt").write_text(SEED, encoding="utf-8")
    (guidelines / SOURCE_FILE).write_text(
        f"[[seed]]\nfile = \"s.txt\"\ntext = '''\n{text}\n'''\nrelations = {relations}\n", encoding="utf-8")
    return guidelines, seeds


def test_builder_resolves_offsets_and_relations(tmp_path):
    guidelines, seeds = _project(
        tmp_path, "[[Rebels|ACTOR#a]] [[seized|OUTCOME#o]] [[Marea|LOCATION#l]].\nRebels [[seized|OUTCOME]] Azaz.",
        '["a agent_of o", "o located_at l"]')
    path, gold = write_seed_gold(guidelines, seeds)
    (doc,) = read_documents(path)
    assert [(s.start, s.end, s.label, s.text, s.id) for s in doc.spans] == [
        (0, 6, "ACTOR", "Rebels", "a"), (7, 13, "OUTCOME", "seized", "o"), (14, 19, "LOCATION", "Marea", "l"),
        (28, 34, "OUTCOME", "seized", "outcome-28"),
    ]
    assert [(r.from_id, r.label, r.to_id) for r in gold[0].relations] == [("a", "agent_of", "o"), ("o", "located_at", "l")]


@pytest.mark.parametrize(
    ("text", "relations", "message"),
    [
        ("[[Rebels|ACTOR]] seized Marea.\nRebels seized Azaz. Extra.", "[]", "line not found"),
        ("[[Rebels|ACTOR]] seized\nRebels seized Marea.\nRebels seized Azaz.", "[]", "occurs more than once"),
        ("[[Rebels|ACTOR]] seized Marea.", "[]", "article line not listed in the source (add it, marked or not): 'Rebels seized Azaz.'"),
        ("[[Rebels|WEAPON]] seized Marea.\nRebels seized Azaz.", "[]", "unknown label 'WEAPON'"),
        ("[[Rebels|ACTOR#a]] seized Marea.\nRebels seized Azaz.", '["a agent_of x"]', "no span with id 'x'"),
        ("[[Rebels|ACTOR#a]] [[seized|OUTCOME#o]] Marea.\nRebels seized Azaz.", '["o agent_of a"]',
         "agent_of goes ACTOR -> OUTCOME, not OUTCOME -> ACTOR"),
        ("[[Rebels|ACTOR#a]] [[seized|OUTCOME#o]] Marea.\nRebels seized Azaz.", '["a helps o"]', "unknown type 'helps'"),
        ("[[Rebels|ACTOR#a]] seized Marea.\n[[Rebels|ACTOR#a]] seized Azaz.", "[]", "span id 'a' is used twice"),
    ],
)
def test_builder_fails_loudly_naming_the_problem(tmp_path, text, relations, message):
    guidelines, seeds = _project(tmp_path, text, relations)
    with pytest.raises(InputError, match="s.txt") as info:
        build_seed_gold(guidelines, seeds)
    assert message in str(info.value)
    assert not (guidelines / GOLD_FILE).exists()


def test_spans_start_and_end_on_word_characters():
    # Label Studio's word granularity and spaCy tokens both need spans that begin and end inside words.
    for doc in gold_documents():
        text = doc.text
        for span in doc.spans:
            assert text[span.start].isalnum() and text[span.end - 1].isalnum(), span
            assert span.start == 0 or not text[span.start - 1].isalnum(), span
            assert span.end == len(text) or not text[span.end].isalnum(), span
