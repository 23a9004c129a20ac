"""The guidelines: in step with the schema and changelog, examples quoted from the seeds and matching the gold."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest

from annotate.errors import InputError
from annotate.guidelines import (
    changelog_version,
    check_guidelines,
    example_lines,
    instructions_html,
    load_guidelines,
    parse_marked,
    prose_quotes,
)
from annotate.ingest.load import load_articles
from annotate.records import read_documents
from annotate.schema import load_schema

ROOT = Path(__file__).resolve().parent.parent
GUIDELINES = ROOT / "guidelines"
SEEDS = ROOT / "seeds"


@cache
def seed_texts() -> tuple[str, ...]:
    """The seed articles exactly as ingest produces them (furniture removed)."""
    return tuple(a.text for a in load_articles([SEEDS]))


@cache
def gold_by_text() -> dict[str, set[tuple[int, int, str]]]:
    return {d.text: {s.key for s in d.spans} for d in read_documents(GUIDELINES / "seed-gold.jsonl")}


def _copy_guidelines(tmp_path: Path) -> Path:
    target = tmp_path / "guidelines"
    shutil.copytree(GUIDELINES, target)
    return target


def test_guidelines_agree_with_schema_and_changelog():
    guidelines = load_guidelines(GUIDELINES)
    assert check_guidelines(guidelines, load_schema(GUIDELINES)) == []


def test_version_is_the_schema_version():
    assert load_guidelines(GUIDELINES).version == load_schema(GUIDELINES).version


def test_a_label_without_a_section_is_reported(tmp_path):
    folder = _copy_guidelines(tmp_path)
    schema_file = folder / "schema.toml"
    schema_file.write_text(schema_file.read_text() + '\n[[labels]]\nname = "WEAPON"\ncolor = "#9467bd"\nhotkey = "w"\n')
    problems = check_guidelines(load_guidelines(folder), load_schema(folder))
    assert problems == [f"{folder / 'GUIDELINES.md'}: no section '## WEAPON' for schema label WEAPON"]


def test_a_version_bump_without_changelog_entry_is_reported(tmp_path):
    folder = _copy_guidelines(tmp_path)
    schema_file = folder / "schema.toml"
    version = load_schema(folder).version
    schema_file.write_text(schema_file.read_text().replace(f'version = "{version}"', 'version = "9.9.9"'))
    problems = check_guidelines(load_guidelines(folder), load_schema(folder))
    assert len(problems) == 1
    assert f"newest entry is {version} but schema.toml version is 9.9.9" in problems[0]


def test_missing_guidelines_file_is_an_input_error(tmp_path):
    folder = _copy_guidelines(tmp_path)
    (folder / "GUIDELINES.md").unlink()
    with pytest.raises(InputError, match="GUIDELINES.md: not found"):
        load_guidelines(folder)


@pytest.mark.parametrize("example", example_lines(load_guidelines(GUIDELINES).markdown))
def test_example_is_quoted_from_a_seed_and_shows_exactly_the_gold_spans(example):
    plain, marks = parse_marked(example)
    hits = [(text, text.find(plain)) for text in seed_texts() if plain in text]
    assert len(hits) == 1, f"example must occur in exactly one seed, found in {len(hits)}: {plain!r}"
    text, at = hits[0]
    assert text.count(plain) == 1, f"example occurs twice in its seed; quote more: {plain!r}"
    shown = {(at + m.start, at + m.end, m.label) for m in marks}
    # Gold spans touching the fragment at all: one crossing its edge fails too (quote a longer fragment).
    gold = {k for k in gold_by_text()[text] if k[0] < at + len(plain) and k[1] > at}
    assert shown == gold, f"example marks {sorted(shown - gold)} not in gold; gold spans {sorted(gold - shown)} not shown"


def test_there_are_examples_for_every_label():
    labels = {m.label for line in example_lines(load_guidelines(GUIDELINES).markdown) for m in parse_marked(line)[1]}
    assert labels == set(load_schema(GUIDELINES).label_names)


@pytest.mark.parametrize("quote", sorted(set(prose_quotes(load_guidelines(GUIDELINES).markdown))))
def test_prose_quote_occurs_in_a_seed(quote):
    # " ... " elides words: the parts must occur in order within one seed.
    assert any(_occurs_in_order(quote.split(" ... "), text) for text in seed_texts()), \
        f"quoted {quote!r} is not in any seed article"


def _occurs_in_order(parts: list[str], text: str) -> bool:
    pos = 0
    for part in parts:
        pos = text.find(part, pos)
        if pos < 0:
            return False
        pos += len(part)
    return True


def test_instructions_show_the_version_first():
    guidelines = load_guidelines(GUIDELINES)
    page = instructions_html(guidelines, load_schema(GUIDELINES))
    assert page.startswith('<div class="annotate-guidelines">\n<style>')
    first_text = page.split("</style>\n", 1)[1]
    assert first_text.startswith(f'<p class="guidelines-version"><strong>Guidelines version {guidelines.version}</strong>')
    assert '<h2 id="2-actor">2. ACTOR</h2>' in page
    assert 'data-label="OUTCOME" style="background:#2ca02c33;border-bottom:2px solid #2ca02c"' in page


SECTIONS = "# Guidelines\n\n## 2. ACTOR\n\n## LOCATION\n\n## OUTCOME\n\n"  # the case starts on line 9


@pytest.mark.parametrize(
    ("case", "found"),
    [
        ("> [[Assad loyalists|ACTOR]] shelled [[Madira|PLACE]].", ["9: example uses unknown label PLACE"]),
        ("Prose marks [[rebels|ACTOR]] and\na wrapped line [[fighters|TROOPS]].", ["10: example uses unknown label TROOPS"]),
        ("- one\n- an item with [[ISIL|GROUP]]", ["10: example uses unknown label GROUP"]),
        ("| a |\n|---|\n| [[IS\\|ARMY]] |", ["11: example uses unknown label ARMY"]),
        ("Written `[[text|LABEL]]` in code is no example.", []),
        ("> A quote [[with|ACTOR]]\n> on two [[lines|WHERE]] and [[two|WHO]]", ["10: example uses unknown label WHERE",
                                                                             "10: example uses unknown label WHO"]),
        # markdown-it reads these differently from the old line regexes, and rightly:
        ("```\n[[in a fence|ANY]]\n```", []),  # was reported: code is no example
        ("| a |\n|---|\n| [[IS|ARMY]] |", ["11: '[[IS' is not a mark: write [[text|LABEL]] with a label in capitals "
                                           "(in a table cell [[text\\|LABEL]])"]),  # was 'unknown label ARMY'
        ("Lower case [[rebels|actor]] here.", ["9: '[[rebels|actor]]' is not a mark: write [[text|LABEL]] with a label "
                                               "in capitals (in a table cell [[text\\|LABEL]])"]),  # was silent
    ],
)
def test_the_checker_finds_bad_marks(tmp_path, case, found):
    folder = _copy_guidelines(tmp_path)
    (folder / "GUIDELINES.md").write_text(SECTIONS + case + "\n", encoding="utf-8")
    problems = check_guidelines(load_guidelines(folder), load_schema(folder))
    assert problems == [f"{folder / 'GUIDELINES.md'}:{problem}" for problem in found]


@pytest.mark.parametrize(
    ("markdown", "missing"),
    [
        (SECTIONS.replace("## LOCATION", "## Places"), ["LOCATION"]),
        (SECTIONS.replace("## OUTCOME", "OUTCOME"), ["OUTCOME"]),
        (SECTIONS.replace("## OUTCOME", "## The OUTCOME"), ["OUTCOME"]),
        # Both were misread by the old line regex: a setext heading is a heading, a '#' line in a code fence is not.
        (SECTIONS.replace("## OUTCOME", "OUTCOME\n-------"), []),
        (SECTIONS.replace("## OUTCOME", "```\n## OUTCOME\n```"), ["OUTCOME"]),
    ],
)
def test_the_checker_finds_missing_sections(tmp_path, markdown, missing):
    folder = _copy_guidelines(tmp_path)
    (folder / "GUIDELINES.md").write_text(markdown, encoding="utf-8")
    problems = check_guidelines(load_guidelines(folder), load_schema(folder))
    assert problems == [f"{folder / 'GUIDELINES.md'}: no section '## {name}' for schema label {name}" for name in missing]


def test_the_newest_changelog_entry_is_the_first_version_heading(tmp_path):
    # The old line regex took the 9.9.9 in the code fence.
    folder = _copy_guidelines(tmp_path)
    (folder / "CHANGELOG.md").write_text("# Log\n\n```\n## 9.9.9\n```\n\n## Unreleased\n\n## [2.0.1]\n\n## 1.0.0\n")
    assert changelog_version(folder) == "2.0.1"
    (folder / "CHANGELOG.md").write_text("# Log\n\n### 2.0.1\n")
    with pytest.raises(InputError, match="no entry heading like '## 1.2.0' found"):
        changelog_version(folder)


@pytest.mark.parametrize(
    ("markdown", "examples", "quotes"),
    [
        # An example may wrap (it is one paragraph, one line here); the old line reader made two examples of it.
        ('> [[ISIL|ACTOR]] "took"\n> control\n\nThe "town" and `"code"`', ['[[ISIL|ACTOR]] "took" control'], ["town"]),
        ('A "quote that\nwraps" and **"bold"**\n\n```\n"fenced"\n```', [], ["quote that wraps", "bold"]),
        ('- "item"\n\n| "cell" |\n|---|\n| "row" |', [], ["item", "cell", "row"]),
    ],
)
def test_examples_and_prose_quotes_come_from_the_tokens(markdown, examples, quotes):
    assert example_lines(markdown) == examples
    assert prose_quotes(markdown) == quotes


def test_every_example_mark_is_rendered_as_a_mark():
    guidelines = load_guidelines(GUIDELINES)
    marks = sum(len(parse_marked(line)[1]) for line in example_lines(guidelines.markdown))
    # The intro shows the syntax in code, and the prose has no marks: the blockquotes hold every one.
    assert instructions_html(guidelines, load_schema(GUIDELINES)).count("<mark ") == marks > 0


def test_instructions_carry_their_colours_and_bullets_in_a_style_block_label_studio_keeps():
    """Label Studio's bleach keeps <style> and class but strips style=: the colours must not live only inline."""
    page = instructions_html(load_guidelines(GUIDELINES), load_schema(GUIDELINES))
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert ".annotate-guidelines mark.span-outcome { background: #2ca02c33; border-bottom: 2px solid #2ca02c; }" in style
    assert ".annotate-guidelines ul { list-style: disc;" in style
    assert ">" not in style and "<" not in style  # nothing bleach would escape inside the block
    assert page.rstrip().endswith("</div>")


def test_the_annotators_page_comes_above_the_guidelines_when_there_is_one(tmp_path):
    import shutil

    shutil.copytree(GUIDELINES, tmp_path / "g")
    with_page = instructions_html(load_guidelines(tmp_path / "g"))
    assert with_page.index("Label All Tasks") < with_page.index("2. ACTOR") and "<hr>" in with_page
    (tmp_path / "g" / "ANNOTATORS.md").unlink()
    without = instructions_html(load_guidelines(tmp_path / "g"))
    assert "Label All Tasks" not in without and "2. ACTOR" in without
