"""Training data for `annotate train`: a gold export folder, or a gold JSONL cut into paragraph documents.

A gold export (exports/gold/<hash>/) already holds train.spacy and dev.spacy; a gold JSONL (such as
guidelines/seed-gold.jsonl) is split by article first, so paragraphs of one article never sit on both
sides, and then cut into paragraphs: more, shorter documents make more updates per training epoch.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InputError
from ..gold.split import assign_split
from ..records import Document, Span, read_documents
from .docbin import GoldInput, write_docbins

SPLIT_THRESHOLD = Settings.split_near_duplicate_threshold  # the default; `annotate train` passes the setting

_PARAGRAPH_BREAK = re.compile(r"\n+")


@dataclass(frozen=True)
class GoldData:
    """Where the train/dev DocBins are, the dev gold as Documents, and what the data came from."""

    train: Path
    dev: Path
    train_docs: tuple[Document, ...]
    dev_docs: tuple[Document, ...]
    source: dict[str, Any] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def split_paragraphs(doc: Document) -> list[Document]:
    """Cut a gold document at line breaks; each paragraph keeps the spans inside it (offsets shifted).

    A span that crosses a line break stays whole: the cut moves to the next break outside every span.
    """
    cuts, pos = [], 0
    for match in _PARAGRAPH_BREAK.finditer(doc.text):
        if any(s.start < match.start() < s.end for s in doc.spans):
            continue
        cuts.append((pos, match.start()))
        pos = match.end()
    cuts.append((pos, len(doc.text)))
    out = []
    for number, (start, end) in enumerate(c for c in cuts if c[1] > c[0]):
        spans = tuple(Span(s.start - start, s.end - start, s.label, s.text, s.score, s.source, s.id)
                      for s in doc.spans if start <= s.start and s.end <= end)
        meta = {**doc.meta, "article_id": doc.id, "paragraph": number}
        out.append(Document(f"{doc.id}-p{number}", doc.text[start:end], spans, meta, doc.model_version))
    return out


def _gold_inputs(docs: Iterable[Document]) -> list[GoldInput]:
    return [GoldInput(d.id, d.text, tuple(s.key for s in d.spans)) for d in docs]


def gold_from_jsonl(path: Path, workdir: Path, dev_ratio: float, threshold: float = SPLIT_THRESHOLD) -> GoldData:
    """Split a gold JSONL by article into train/dev, cut both into paragraphs, write the DocBins into `workdir`."""
    articles = list(read_documents(path))
    if len(articles) < 2:
        raise InputError(f"needs at least 2 gold articles to keep a dev split apart, found {len(articles)}", str(path))
    sides = assign_split({a.id: a.text for a in articles}, dev_ratio or 0.2, threshold)
    parts = {side: [p for a in articles if sides[a.id] == side for p in split_paragraphs(a)] for side in ("train", "dev")}
    records = [*parts["train"], *parts["dev"]]
    paragraph_sides = {d.id: side for side, docs in parts.items() for d in docs}
    workdir.mkdir(parents=True, exist_ok=True)
    write_docbins(_gold_inputs(records), paragraph_sides, workdir)
    source = {"kind": "jsonl", "path": str(path), "sha256": sha256_file(path),
              "articles": {side: sorted(a.id for a in articles if sides[a.id] == side) for side in ("train", "dev")}}
    # Scored on whole dev articles: the rules propagate names across a document, cut paragraphs would hide that.
    dev_articles = tuple(a for a in articles if sides[a.id] == "dev")
    return GoldData(workdir / "train.spacy", workdir / "dev.spacy", tuple(parts["train"]), dev_articles, source)


def _rows(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except ValueError as exc:
        raise InputError(f"not valid JSON lines: {exc}", str(path)) from exc


def gold_from_export(folder: Path) -> GoldData:
    """A gold export folder: its train.spacy/dev.spacy, dev Documents from gold.jsonl, the manifest's hash."""
    missing = [name for name in ("train.spacy", "dev.spacy", "gold.jsonl") if not (folder / name).is_file()]
    if missing:
        raise InputError(f"not a gold export folder: missing {', '.join(missing)} (run `annotate export` or pass a "
                         "gold JSONL such as guidelines/seed-gold.jsonl)", str(folder))
    rows = _rows(folder / "gold.jsonl")
    docs = {side: tuple(Document.from_dict(r) for r in rows if r.get("split") == side) for side in ("train", "dev")}
    manifest = folder / "manifest.json"
    source = {"kind": "export", "path": str(folder.resolve()), "folder": folder.resolve().name,
              "manifest_sha256": sha256_file(manifest) if manifest.is_file() else None,
              "sha256": sha256_file(folder / "gold.jsonl")}
    return GoldData(folder / "train.spacy", folder / "dev.spacy", docs["train"], docs["dev"], source)


def load_gold(path: Path, workdir: Path, dev_ratio: float, threshold: float = SPLIT_THRESHOLD) -> GoldData:
    """Training data from a gold export folder or a gold JSONL file (errors say which is expected)."""
    if path.is_dir():
        return gold_from_export(path)
    if path.is_file():
        return gold_from_jsonl(path, workdir, dev_ratio, threshold)
    raise InputError("no such gold folder or file; expected exports/gold/latest or a gold JSONL", str(path))


def subsample(docs: Sequence[Document], fraction: float) -> list[Document]:
    """The first `fraction` of documents in a fixed, content-based order (the same for every run)."""
    ordered = sorted(docs, key=lambda d: hashlib.sha256(d.id.encode()).hexdigest())
    return ordered[: max(1, round(len(ordered) * fraction))]


def write_subset(docs: Sequence[Document], path: Path) -> Path:
    """Write documents as a train DocBin at `path` (used for the learning curve)."""
    write_docbins(_gold_inputs(docs), {d.id: path.stem for d in docs}, path.parent, names=(path.stem,))
    return path
