"""The annotation guidelines: load the Markdown, check it against the schema, render it as safe HTML.

The guidelines' version is the schema's `version` (one number for labels and rules); the top entry
of CHANGELOG.md must carry it. Examples in the guidelines, and the seed gold source, mark spans as
`[[text|LABEL]]` or `[[text|LABEL#id]]`; `parse_marked` turns that into plain text plus spans.
The checks read the Markdown as annotate.markdown parses it (headings, blockquotes, code, marks), not line by line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .markdown import MARK, Token, parse_markdown, plain_color, render_markdown
from .schema import Schema, load_schema

GUIDELINES_FILE = "GUIDELINES.md"
ANNOTATORS_FILE = "ANNOTATORS.md"  # optional: how to work in Label Studio
CHANGELOG_FILE = "CHANGELOG.md"


@dataclass(frozen=True)
class Guidelines:
    """The guidelines text, the version it belongs to, and the file it came from."""

    version: str
    markdown: str
    path: Path
    annotators_page: str | None = None  # ANNOTATORS.md: using Label Studio, shown above the guidelines


@dataclass(frozen=True)
class MarkedSpan:
    """A span written as `[[text|LABEL#id]]`, with offsets into the markup-free text."""

    start: int
    end: int
    label: str
    text: str
    id: str | None = None


def load_guidelines(guidelines_dir: Path | str) -> Guidelines:
    """Read GUIDELINES.md; its version is the schema's `version`."""
    path = Path(guidelines_dir) / GUIDELINES_FILE
    try:
        markdown = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("not found; the annotation guidelines must live there", str(path)) from exc
    page = Path(guidelines_dir) / ANNOTATORS_FILE
    tool = page.read_text(encoding="utf-8") if page.is_file() else None
    return Guidelines(load_schema(guidelines_dir).version, markdown, path, tool)


def changelog_version(guidelines_dir: Path | str) -> str:
    """The version of the newest (first) `## x.y.z` entry of CHANGELOG.md."""
    path = Path(guidelines_dir) / CHANGELOG_FILE
    try:
        titles = _headings(path.read_text(encoding="utf-8"), level=2)
    except FileNotFoundError as exc:
        raise InputError("not found; every guidelines version needs a changelog entry", str(path)) from exc
    match = next(filter(None, (re.match(r"\[?v?(\d+\.\d+\.\d+)\]?", t) for t in titles)), None)
    if not match:
        raise InputError("no entry heading like '## 1.2.0' found", str(path))
    return match.group(1)


def label_sections(markdown: str) -> set[str]:
    """Upper-case words that are the whole title of a heading ("## 2. ACTOR" gives ACTOR)."""
    titles = (re.fullmatch(r"(?:[\d.]+\s+)?([A-Z][A-Z0-9_]*)", t) for t in _headings(markdown))
    return {m.group(1) for m in titles if m}


def check_guidelines(guidelines: Guidelines, schema: Schema) -> list[str]:
    """Problems that make the guidelines disagree with the schema or changelog (empty when consistent)."""
    problems = []
    sections = label_sections(guidelines.markdown)
    for name in schema.label_names:
        if name not in sections:
            problems.append(f"{guidelines.path}: no section '## {name}' for schema label {name}")
    logged = changelog_version(guidelines.path.parent)
    if logged != schema.version:
        problems.append(f"{guidelines.path.parent / CHANGELOG_FILE}: newest entry is {logged} but schema.toml "
                        f"version is {schema.version}; add a changelog entry for {schema.version}")
    return problems + _mark_problems(guidelines, schema)


def _mark_problems(guidelines: Guidelines, schema: Schema) -> list[str]:
    """Marks with a label the schema lacks, and "[[" text that markdown-it did not read as a mark."""
    problems = []
    for inline, _ in _inlines(guidelines.markdown):
        number = (inline.map or [0])[0] + 1  # the block's first line; each line break below adds one
        for child in inline.children or []:
            number += child.type in ("softbreak", "hardbreak")
            if child.type == "span_mark" and child.meta["label"] not in schema.label_names:
                problems.append(f"{guidelines.path}:{number}: example uses unknown label {child.meta['label']}")
            elif child.type == "text" and (stray := re.search(r"\[\[[^\]]{0,40}\]*", child.content)):
                # E.g. a mark in a table cell, whose "|" splits the cell: there it must be [[text\|LABEL]].
                problems.append(f"{guidelines.path}:{number}: '{stray.group()}' is not a mark: write [[text|LABEL]] "
                                "with a label in capitals (in a table cell [[text\\|LABEL]])")
    return problems


def parse_marked(marked: str) -> tuple[str, list[MarkedSpan]]:
    """Remove `[[text|LABEL#id]]` markup; return the plain text and the spans with offsets into it."""
    plain: list[str] = []
    spans: list[MarkedSpan] = []
    pos = length = 0
    for match in MARK.finditer(marked):
        before = marked[pos : match.start()]
        plain.append(before)
        length += len(before)
        text = match.group(1)
        spans.append(MarkedSpan(length, length + len(text), match.group(2), text, match.group(3)))
        plain.append(text)
        length += len(text)
        pos = match.end()
    plain.append(marked[pos:])
    return "".join(plain), spans


def example_lines(markdown: str) -> list[str]:
    """Every blockquote paragraph of the guidelines, as one line: each is a marked example quoted from a seed."""
    return [" ".join(line.strip() for line in inline.content.splitlines())
            for inline, quoted in _inlines(markdown) if quoted]


def prose_quotes(markdown: str) -> list[str]:
    """Double-quoted phrases in the prose (not examples or code): each must be quoted from a seed."""
    # A quote may wrap onto the next line: the line break stands for one space.
    texts = ("".join(" " if c.type in ("softbreak", "hardbreak") else c.content
                     for c in inline.children or [] if c.type != "code_inline")
             for inline, quoted in _inlines(markdown) if not quoted)
    return [re.sub(r"\s+", " ", q) for text in texts for q in re.findall(r'"([^"]+)"', text)]


def _inlines(markdown: str) -> Iterator[tuple[Token, bool]]:
    """The inline tokens (heading, paragraph, table cell), each with whether it is inside a blockquote."""
    depth = 0
    for token in parse_markdown(markdown):
        depth += {"blockquote_open": 1, "blockquote_close": -1}.get(token.type, 0)
        if token.type == "inline":
            yield token, depth > 0


def _headings(markdown: str, level: int | None = None) -> Iterator[str]:
    """The titles of the headings (at `level` if given), as written in the source."""
    tokens = parse_markdown(markdown)
    for opening, inline in zip(tokens, tokens[1:], strict=False):
        if opening.type == "heading_open" and (level is None or opening.tag == f"h{level}"):
            yield inline.content


def instructions_html(guidelines: Guidelines, schema: Schema | None = None) -> str:
    """Label Studio's `expert_instruction` and the dashboard page: a version banner, the annotator's page (how to
    work in Label Studio, guidelines/ANNOTATORS.md) when there is one, then the guidelines.

    Label Studio 1.23 cleans the instructions with bleach (projects/serializers.py, label_studio/constants.py):
    `style`, `id` and `data-*` attributes go, but `<style>` elements and `class` stay. So the label colours and the
    list bullets its own CSS removes come from one `<style>` block scoped to the `annotate-guidelines` wrapper, by
    class; the inline styles stay for places that keep them.
    """
    colors = {lab.name: lab.color for lab in schema.labels} if schema else None
    banner = (f'<p class="guidelines-version"><strong>Guidelines version {html.escape(guidelines.version)}</strong>'
              " (recorded with every annotation export and adjudication decision)</p>")
    tool = f"{render_markdown(guidelines.annotators_page, colors)}<hr>\n" if guidelines.annotators_page else ""
    return (f'<div class="annotate-guidelines">\n<style>{_scoped_style(colors or {})}</style>\n{banner}\n'
            f"{tool}{render_markdown(guidelines.markdown, colors)}</div>\n")


def _scoped_style(colors: dict[str, str]) -> str:
    """CSS that survives Label Studio's cleaning: bullets and numbers for lists, each label's colour for its marks."""
    rules = [".annotate-guidelines ul { list-style: disc; padding-left: 1.5em; }",
             ".annotate-guidelines ol { list-style: decimal; padding-left: 1.5em; }",
             ".annotate-guidelines li { display: list-item; }"]
    rules += [f".annotate-guidelines mark.span-{name.lower()} {{ background: {color}33; border-bottom: 2px solid {color}; }}"
              for name, color in sorted(colors.items())
              if plain_color(color) and re.fullmatch(r"[A-Za-z0-9_]+", name)]
    return " ".join(rules)


_PAGE_STYLE = """body { font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
pre, code { font-family: ui-monospace, monospace; background: #f4f4f4; }
pre { padding: .5rem; overflow-x: auto; }
blockquote { border-left: 3px solid #ccc; margin-left: 0; padding-left: 1rem; }
mark.span { padding: 0 .1em; } .span-label { font-size: .7em; margin-left: .2em; }"""


def guidelines_document(guidelines: Guidelines, schema: Schema | None = None) -> str:
    """A whole HTML page of the guidelines (doctype, charset, title, a small style) to open or share as a file."""
    title = html.escape(f"Annotation guidelines {guidelines.version}")
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{title}</title>\n'
            f"<style>\n{_PAGE_STYLE}\n</style>\n</head>\n<body>\n{instructions_html(guidelines, schema)}"
            "</body>\n</html>\n")
