"""The events lexicon, guidelines/rules/events.toml: outcome types, casualty kinds and relation roles (stdlib only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files import read_toml
from .counts import tokens_of

EVENTS_FILE = Path("rules") / "events.toml"  # under the guidelines folder
OUTCOME_TYPES = ("casualties", "change_of_control", "other")
KINDS = ("killed", "injured", "killed_or_injured")
ROLES = ("agent", "target", "location")


@dataclass(frozen=True)
class WordList:
    """Single words and multi-word phrases (as word tuples), lower-cased."""

    words: frozenset[str] = frozenset()
    phrases: tuple[tuple[str, ...], ...] = ()

    def found_in(self, tokens: Sequence[str]) -> bool:
        """True when a word of the list is one of `tokens`, or a phrase occurs in them."""
        if self.words.intersection(tokens):
            return True
        return any(tuple(tokens[i:i + len(p)]) == p for p in self.phrases for i in range(len(tokens)))


@dataclass(frozen=True)
class EventLexicon:
    """What the events export reads from events.toml."""

    anchor: str
    roles: dict[str, str]  # role (agent, target, location) -> relation type name
    types: dict[str, WordList]  # outcome type -> its words, in OUTCOME_TYPES order
    captured_people: WordList
    kinds: dict[str, WordList]  # killed, injured, either

    def outcome_type(self, text: str, has_target: bool = False, has_location: bool = False) -> str:
        """casualties, change_of_control or other for an OUTCOME span's text (and whether it has a target/place)."""
        tokens = tokens_of(text)
        for name in OUTCOME_TYPES[:-1]:
            if self.types[name].found_in(tokens):
                if name == "change_of_control" and has_target and not has_location \
                        and self.captured_people.found_in(tokens):
                    return "other"  # people captured, not a place
                return name
        return "other"

    def casualty_kind(self, text: str) -> str | None:
        """killed, injured or killed_or_injured by the span's own words (None when it has none of them)."""
        tokens = tokens_of(text)
        killed, injured = self.kinds["killed"].found_in(tokens), self.kinds["injured"].found_in(tokens)
        if (killed and injured) or self.kinds["either"].found_in(tokens):
            return "killed_or_injured"
        return "killed" if killed else "injured" if injured else None


def _word_list(table: Any, path: Path, section: str) -> WordList:
    if table is None:
        return WordList()
    if isinstance(table, list):
        table = {"words": table}
    if not isinstance(table, dict) or not all(isinstance(table.get(k, []), list) for k in ("words", "phrases")):
        raise InputError(f"[{section}]: expected a table with `words` and/or `phrases` lists of strings", str(path))
    phrases = tuple(tuple(tokens_of(str(p))) for p in table.get("phrases", ()))
    return WordList(frozenset(str(w).lower() for w in table.get("words", ())), tuple(p for p in phrases if p))


def load_event_lexicon(guidelines_dir: Path | str) -> EventLexicon:
    """Read `<guidelines>/rules/events.toml`; InputError naming the file when it is not valid."""
    path = Path(guidelines_dir) / EVENTS_FILE
    data = read_toml(path, "not found; the events lexicon (outcome types, casualty words) lives there")
    event = data.get("event", {})
    missing = [k for k in ("anchor", *ROLES) if not isinstance(event.get(k), str)]
    if missing:
        raise InputError(f"[event] needs string values for {', '.join(missing)} (anchor label, relation types)",
                         str(path))
    types = data.get("outcome_types", {})
    kinds = data.get("casualty_kinds", {})
    return EventLexicon(
        anchor=event["anchor"], roles={r: event[r] for r in ROLES},
        types={t: _word_list(types.get(t), path, f"outcome_types.{t}") for t in OUTCOME_TYPES},
        captured_people=_word_list(data.get("captured_people"), path, "captured_people"),
        kinds={k: _word_list(kinds.get(k), path, f"casualty_kinds.{k}") for k in ("killed", "injured", "either")},
    )
