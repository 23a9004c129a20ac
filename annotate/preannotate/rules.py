"""Pre-annotation rules as data: read `guidelines/rules/` into a RuleSet (no spaCy needed here).

Files (any change to any of them changes the pre-annotator's model_version; other files in the folder,
such as the export's `events.toml`, are not read here and are left out of the digest):
- `lexicon.toml`: `[lists]` of words; a pattern value "@name" expands to the list `name`.
- `*.jsonl` except `outcome_verbs.jsonl`: one rule per line, either
  `{"id", "label", "score", "pattern": [spaCy Matcher token dicts], "span": [first, last]?}` where `span`
  picks the pattern tokens (by pattern index) that form the span ("village of X" labels X only) and
  `"connected": true` trims the span from the left until it is one subtree of its last token, or
  `{"id", "label", "score", "phrases": [...], "case_sensitive": false}` for phrase lists.
  `label` is a schema label or SOURCE (a cited source: never output, suppresses ACTOR there).
- `outcome_verbs.jsonl`: `{"lemma", "object"?, "particle"?, "prep"?, "score"?}`; an event verb whose
  parse has any listed object lemma / particle / preposition (when given) marks an OUTCOME.
- `relations.toml`: the relation rules, read by relrules.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files import read_toml

RULES_DIR = "rules"
LEXICON_FILE = "lexicon.toml"
VERBS_FILE = "outcome_verbs.jsonl"
RELATIONS_FILE = "relations.toml"
SOURCE_LABEL = "SOURCE"


@dataclass(frozen=True)
class PatternRule:
    """One token-pattern or phrase-list rule; `where` is `file:line` for error messages."""

    id: str
    label: str
    score: float
    where: str
    pattern: tuple[dict[str, Any], ...] = ()
    span: tuple[int, int] | None = None
    phrases: tuple[str, ...] = ()
    case_sensitive: bool = False
    connected: bool = False


@dataclass(frozen=True)
class VerbRule:
    """An event verb (by lemma) and what its parse must contain to count as an OUTCOME."""

    lemma: str
    objects: frozenset[str] = frozenset()
    particles: frozenset[str] = frozenset()
    preps: frozenset[str] = frozenset()
    score: float = 0.7


@dataclass(frozen=True)
class RuleSet:
    """All rules from one rules folder plus a digest of every file's bytes."""

    patterns: tuple[PatternRule, ...]
    verbs: tuple[VerbRule, ...]
    lexicon: dict[str, frozenset[str]] = field(default_factory=dict)
    digest: str = ""

    def words(self, name: str) -> frozenset[str]:
        """A lexicon list by name (empty if the lexicon does not define it)."""
        return self.lexicon.get(name, frozenset())


def load_rules(guidelines_dir: Path | str, label_names: tuple[str, ...]) -> RuleSet:
    """Read and validate every rule file under `<guidelines>/rules/`."""
    folder = Path(guidelines_dir) / RULES_DIR
    files = rule_files(guidelines_dir)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    lexicon = _read_lexicon(folder / LEXICON_FILE)
    valid = (*label_names, SOURCE_LABEL)
    patterns: list[PatternRule] = []
    verbs: tuple[VerbRule, ...] = ()
    for path in files:
        if path.name == VERBS_FILE:
            verbs = tuple(_verb_rule(row, f"{path}:{n}") for n, row in _rows(path))
        elif path.suffix == ".jsonl":
            patterns += [_pattern_rule(row, f"{path}:{n}", lexicon, valid) for n, row in _rows(path)]
    return RuleSet(tuple(patterns), verbs, lexicon, digest.hexdigest())


def rule_files(guidelines_dir: Path | str) -> list[Path]:
    """The files under `<guidelines>/rules/` that pre-annotation reads, in name order (InputError if no folder)."""
    folder = Path(guidelines_dir) / RULES_DIR
    if not folder.is_dir():
        raise InputError(f"rules folder not found; pre-annotation rules must live in {folder}", str(folder))
    # Only what pre-annotation reads: every .jsonl, and of the .toml files the lexicon and the relation rules.
    return sorted(p for p in folder.iterdir() if p.is_file()
                  and (p.suffix == ".jsonl" or p.name in (LEXICON_FILE, RELATIONS_FILE)))


def _read_lexicon(path: Path) -> dict[str, frozenset[str]]:
    if not path.is_file():
        return {}
    data = read_toml(path)
    lists = data.get("lists", {})
    if not isinstance(lists, dict) or not all(isinstance(v, list) for v in lists.values()):
        raise InputError("expected a [lists] table of word lists (name = [\"word\", ...])", str(path))
    return {name: frozenset(str(w).lower() for w in words) for name, words in lists.items()}


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InputError(f"not valid JSON ({exc})", str(path), number) from exc
        if not isinstance(row, dict):
            raise InputError("each line must be a JSON object", str(path), number)
        rows.append((number, row))
    return rows


def _pattern_rule(row: dict[str, Any], where: str, lexicon: dict[str, frozenset[str]], valid: tuple[str, ...]) -> PatternRule:
    label = row.get("label")
    if label not in valid:
        raise InputError(f"rule label {label!r} is not valid; valid labels: {', '.join(valid)}", where)
    if not row.get("id") or ("pattern" in row) == ("phrases" in row):
        raise InputError("a rule needs an `id` and exactly one of `pattern` (token dicts) or `phrases` (strings)", where)
    pattern = tuple(_expand(token, lexicon, where) for token in row.get("pattern", ()))
    span = row.get("span")
    if span is not None and not (
        isinstance(span, list) and len(span) == 2 and 0 <= span[0] <= span[1] < len(pattern)
    ):
        raise InputError(f"`span` must be [first, last] pattern indices within 0..{len(pattern) - 1}, got {span!r}", where)
    return PatternRule(
        id=str(row["id"]), label=label, score=float(row.get("score", 0.7)), where=where, pattern=pattern,
        span=tuple(span) if span else None, phrases=tuple(str(p) for p in row.get("phrases", ())),
        case_sensitive=bool(row.get("case_sensitive", False)), connected=bool(row.get("connected", False)),
    )


def _expand(token: Any, lexicon: dict[str, frozenset[str]], where: str) -> Any:
    """Replace "@name" list references with the lexicon's words (recursively through the token dict)."""
    if isinstance(token, dict):
        return {k: _expand(v, lexicon, where) for k, v in token.items()}
    if isinstance(token, str) and token.startswith("@"):
        if token[1:] not in lexicon:
            raise InputError(f"unknown word list {token!r}; lexicon.toml defines: {', '.join(sorted(lexicon))}", where)
        return sorted(lexicon[token[1:]])
    return token


def _verb_rule(row: dict[str, Any], where: str) -> VerbRule:
    if not isinstance(row.get("lemma"), str):
        raise InputError("an outcome verb needs `lemma` (and optionally object/particle/prep lists)", where)
    return VerbRule(
        lemma=row["lemma"].lower(),
        objects=frozenset(w.lower() for w in row.get("object", ())),
        particles=frozenset(w.lower() for w in row.get("particle", ())),
        preps=frozenset(w.lower() for w in row.get("prep", ())),
        score=float(row.get("score", 0.7)),
    )
