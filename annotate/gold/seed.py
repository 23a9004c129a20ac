"""The hand-made gold standard for the seed articles: resolve guidelines/seed-gold.src.toml into JSONL.

The source marks spans inline (`[[text|LABEL#id]]`) on a copy of each article's lines, so it reads
like the article and survives re-ordering; offsets are computed here against the text that ingest
produces. Anything that no longer fits (a line not found or found twice, an article line not
covered, an unknown label or relation) stops the build with a message naming the seed and the line.

Run `python -m annotate.gold.seed [ROOT]` to rewrite guidelines/seed-gold.jsonl.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files import atomic_write, read_toml
from ..guidelines import parse_marked
from ..ingest.load import load_articles
from ..records import Document, Relation, Span, write_jsonl
from ..schema import Schema, load_schema

SOURCE_FILE = "seed-gold.src.toml"
GOLD_FILE = "seed-gold.jsonl"
GOLD_SOURCE = "gold"  # Span.source of every hand-made gold span


@dataclass(frozen=True)
class GoldDocument:
    """One seed's gold: the Document (spans with ids) and the relations between those ids."""

    document: Document
    relations: tuple[Relation, ...]

    def to_dict(self) -> dict[str, Any]:
        out = self.document.to_dict()
        out["relations"] = [{"from_id": r.from_id, "to_id": r.to_id, "label": r.label} for r in self.relations]
        return out


def build_seed_gold(guidelines_dir: Path | str, seeds_dir: Path | str) -> list[GoldDocument]:
    """Resolve every seed in the source file against the ingested seed text."""
    guidelines_dir, seeds_dir = Path(guidelines_dir), Path(seeds_dir)
    source = guidelines_dir / SOURCE_FILE
    schema = load_schema(guidelines_dir)
    data = read_toml(source, "not found; the seed gold source must live there")
    seeds = data.get("seed")
    if not isinstance(seeds, list) or not seeds:
        raise InputError("no [[seed]] tables; each needs file, text and relations", str(source))
    return [_build_one(seed, seeds_dir, schema, f"{source} [{seed.get('file', '?')}]") for seed in seeds]


def _build_one(seed: dict[str, Any], seeds_dir: Path, schema: Schema, where: str) -> GoldDocument:
    try:
        name, marked, relation_lines = str(seed["file"]), str(seed["text"]), list(seed.get("relations", []))
    except KeyError as exc:
        raise InputError(f"missing key {exc}; each [[seed]] needs file and text") from exc
    path = seeds_dir / name
    article = next(iter(load_articles([path])))
    spans = _resolve_lines(article.text, marked, schema, where)
    relations = _resolve_relations(relation_lines, spans, schema, where)
    meta = {**article.meta, "source_file": f"{seeds_dir.name}/{name}", "guidelines_version": schema.version}
    return GoldDocument(Document(article.id, article.text, tuple(spans), meta), relations)


def _resolve_lines(text: str, marked: str, schema: Schema, where: str) -> list[Span]:
    spans: list[Span] = []
    covered = [False] * len(text)
    for number, line in enumerate(marked.split("\n"), 1):
        if not line.strip():
            continue
        plain, marks = parse_marked(line)
        found = _find_once(text, plain, f"{where} text line {number}")
        covered[found : found + len(plain)] = [True] * len(plain)
        for mark in marks:
            if mark.label not in schema.label_names:
                raise InputError(f"text line {number}: unknown label {mark.label!r} on {mark.text!r}; "
                                 f"valid: {', '.join(schema.label_names)}", where)
            start = found + mark.start
            span_id = mark.id or f"{mark.label.lower()}-{start}"
            spans.append(Span(start, start + len(mark.text), mark.label, mark.text, source=GOLD_SOURCE, id=span_id))
    _check_coverage(text, covered, where)
    spans.sort(key=lambda s: (s.start, s.end))
    _check_spans(spans, where)
    return spans


def _find_once(text: str, plain: str, where: str) -> int:
    first = text.find(plain)
    if first < 0:
        raise InputError(f"line not found in the ingested article (furniture removal or the seed changed?): "
                         f"{plain[:80]!r}", where)
    if text.find(plain, first + 1) >= 0:
        raise InputError(f"line occurs more than once in the article; quote more of it: {plain[:80]!r}", where)
    return first


def _check_coverage(text: str, covered: list[bool], where: str) -> None:
    # Every article character that is not whitespace must be in some listed line: nothing unreviewed.
    for pos, char in enumerate(text):
        if not covered[pos] and not char.isspace():
            line_start = text.rfind("\n", 0, pos) + 1
            line = text[line_start : text.find("\n", pos) if "\n" in text[pos:] else len(text)]
            raise InputError(f"article line not listed in the source (add it, marked or not): {line[:80]!r}", where)


def _check_spans(spans: list[Span], where: str) -> None:
    ids: set[str] = set()
    for before, after in zip(spans, spans[1:], strict=False):
        if after.start < before.end:
            raise InputError(f"spans overlap: {before.label} {before.text!r} and {after.label} {after.text!r}; "
                             "the guidelines allow no overlap or nesting", where)
    for span in spans:
        if span.id in ids:
            raise InputError(f"span id {span.id!r} is used twice; ids must be unique within a seed", where)
        ids.add(span.id or "")


def _resolve_relations(lines: list[Any], spans: list[Span], schema: Schema, where: str) -> tuple[Relation, ...]:
    by_id = {s.id: s for s in spans}
    types = {r.name: r for r in schema.relations}
    out: list[Relation] = []
    for entry in lines:
        parts = str(entry).split()
        if len(parts) != 3:
            raise InputError(f"relation {entry!r} must be 'from_id relation to_id'", where)
        src, name, dst = parts
        if name not in types:
            raise InputError(f"relation {entry!r}: unknown type {name!r}; valid: {', '.join(types)}", where)
        for end in (src, dst):
            if end not in by_id:
                raise InputError(f"relation {entry!r}: no span with id {end!r} (mark one as [[text|LABEL#{end}]])",
                                 where)
        rel = types[name]
        if (by_id[src].label, by_id[dst].label) != (rel.source, rel.target):
            raise InputError(f"relation {entry!r}: {name} goes {rel.source} -> {rel.target}, not "
                             f"{by_id[src].label} -> {by_id[dst].label}", where)
        relation = Relation(src, dst, name)
        if relation in out:
            raise InputError(f"relation {entry!r} is listed twice", where)
        out.append(relation)
    return tuple(out)


def render_seed_gold(gold: list[GoldDocument]) -> str:
    """The JSONL text of the gold documents (what `write_seed_gold` writes)."""
    buffer = io.StringIO()
    write_jsonl((g.to_dict() for g in gold), buffer)
    return buffer.getvalue()


def write_seed_gold(guidelines_dir: Path | str, seeds_dir: Path | str) -> tuple[Path, list[GoldDocument]]:
    """Build the seed gold and write guidelines/seed-gold.jsonl atomically; return its path and contents."""
    gold = build_seed_gold(guidelines_dir, seeds_dir)
    path = Path(guidelines_dir) / GOLD_FILE
    with atomic_write(path) as handle:
        handle.write(render_seed_gold(gold))
    return path, gold
