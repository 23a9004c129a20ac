"""Relation rules as data: read and validate `guidelines/rules/relations.toml` into a RelationRules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files import read_toml
from .rules import RELATIONS_FILE, RULES_DIR

AGENT, TARGET, PLACE = "agent_of", "target_of", "located_at"
_ROLES = (AGENT, TARGET, "subject", "object", "opponent")


@dataclass(frozen=True)
class Step:
    """One move along the parse: down to a child with label `dep` (and one of `words`), or `up` to the head."""

    dep: str
    words: frozenset[str] = frozenset()
    up: bool = False


@dataclass(frozen=True)
class ActorPath:
    """Dependency steps from an outcome word to an actor word, the role they give, and their rank."""

    steps: tuple[Step, ...]
    role: str
    score: float
    group: str
    pos: str | None = None


@dataclass(frozen=True)
class RelationRules:
    """Everything relations.toml says: word classes, place search settings and actor paths."""

    words: dict[str, frozenset[str]]
    places: dict[str, Any]
    paths: tuple[ActorPath, ...]

    def __getitem__(self, name: str) -> frozenset[str]:
        return self.words.get(name, frozenset())


def load_relation_rules(guidelines_dir: Path | str, lexicon: dict[str, frozenset[str]]) -> RelationRules:
    """Read `<guidelines>/rules/relations.toml` (no file: no relations are proposed)."""
    path = Path(guidelines_dir) / RULES_DIR / RELATIONS_FILE
    if not path.is_file():
        return RelationRules({}, {}, ())
    data = read_toml(path)
    places = dict(data.get("places", {}))
    words = {name: _words(value, lexicon, path) for name, value in data.get("words", {}).items()}
    for name, value in places.items():
        if isinstance(value, list):
            places[name] = _words(value, lexicon, path)
    paths = tuple(_actor_path(row, f"{path} [[actor]] {n}") for n, row in enumerate(data.get("actor", []), 1))
    return RelationRules(words, places, paths)


def _words(value: Any, lexicon: dict[str, frozenset[str]], path: Path) -> frozenset[str]:
    """A word list with its "@name" lexicon references expanded, lower-cased."""
    if not isinstance(value, list):
        raise InputError(f"expected a list of words, got {value!r}", str(path))
    out: set[str] = set()
    for word in value:
        if str(word).startswith("@"):
            if word[1:] not in lexicon:
                raise InputError(f"unknown word list {word!r}; lexicon.toml defines: {', '.join(sorted(lexicon))}", str(path))
            out |= lexicon[word[1:]]
        else:
            out.add(str(word).lower())
    return frozenset(out)


def _actor_path(row: dict[str, Any], where: str) -> ActorPath:
    """One `[[actor]]` table: "nsubj prep:of|from pobj" becomes Steps; `where` names it in errors."""
    if not isinstance(row.get("path"), str) or row.get("role") not in _ROLES:
        raise InputError(f"an actor path needs `path` (steps) and `role`, one of {', '.join(_ROLES)}", where)
    steps = []
    for part in row["path"].split():
        up = part.startswith("^")
        dep, _, words = part.lstrip("^").partition(":")
        steps.append(Step(dep, frozenset(w for w in words.split("|") if w), up))
    pos = row.get("pos")
    if pos not in (None, "VERB", "NOUN"):
        raise InputError(f"`pos` must be VERB or NOUN, got {pos!r}", where)
    return ActorPath(tuple(steps), row["role"], float(row.get("score", 0.7)), str(row.get("group", row["path"])), pos)

