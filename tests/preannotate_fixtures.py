"""Helpers for pre-annotation tests: hand-built parsed Docs (no model) and a copy of the rules folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import spacy
from spacy.tokens import Doc

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def parsed(words: list[str], pos: list[str], deps: list[str], heads: list[int], lemmas: list[str] | None = None,
           ents: list[str] | None = None) -> Doc:
    """A Doc with a hand-written parse; heads are absolute token indices."""
    nlp = spacy.blank("en")
    return Doc(nlp.vocab, words=words, pos=pos, deps=deps, heads=heads,
               lemmas=lemmas or [w.lower() for w in words], ents=ents)


def copy_guidelines(root: Path) -> Path:
    """A project root with a private copy of guidelines/ (schema + rules) that a test may edit."""
    shutil.copytree(PROJECT_ROOT / "guidelines", root / "guidelines",
                    ignore=shutil.ignore_patterns("*.jsonl.bak"))
    return root
