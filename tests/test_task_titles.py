"""Task titles in Label Studio: the headline, or the first words; never a file name, never the headline twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate.ingest.load import load_articles
from annotate.labelstudio.payloads import header_text, task_payload, task_title
from annotate.records import Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TEXT = "Rebels seized the town of Kidal on Monday after two days of fighting with the army, officials said."


def doc(text: str = TEXT, **meta: str) -> Document:
    return Document("a1", text, (), {"source_file": "inbox/000_d73790f0d0b3e06f.txt", **meta})


def test_a_headline_is_the_title_and_the_header_when_the_text_does_not_carry_it():
    data = task_payload(doc(title="Rebels take Kidal"))["data"]
    assert (data["headline"], data["title"]) == ("Rebels take Kidal", "Rebels take Kidal")


def test_a_headline_the_text_starts_with_is_not_shown_twice():
    text = "Rebels take Kidal\n\n" + TEXT
    data = task_payload(doc(text, title="Rebels  take Kidal"))["data"]
    assert (data["headline"], data["title"]) == ("Rebels take Kidal", "")


def test_without_a_headline_the_first_words_make_the_title_and_no_file_name_appears():
    data = task_payload(doc())["data"]
    assert data["headline"] == "Rebels seized the town of Kidal on Monday after two …"
    assert data["title"] == ""  # the text starts with those words
    assert ".txt" not in repr(data["headline"]) + repr(data["title"])


@pytest.mark.parametrize(("text", "expected"), [("Kidal falls.", "Kidal falls."), ("", "")])
def test_short_and_empty_texts(text, expected):
    assert task_title(doc(text)) == expected
    assert header_text(text, expected) == ""


def test_every_seed_gets_a_readable_title_once():
    articles = list(load_articles([SEEDS]))
    assert len(articles) == 5
    for article in articles:
        data = task_payload(Document(article.id, article.text, (), dict(article.meta)))["data"]
        assert data["headline"] and not data["headline"].endswith(".txt"), data["headline"]
        first = " ".join(article.text.split()[:3])
        assert data["title"] == "" or not data["title"].startswith(first), (data["title"], first)
