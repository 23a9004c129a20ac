"""guidelines/rules/events.toml through annotate.events.lexicon: outcome types and casualty kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate.errors import InputError
from annotate.events.lexicon import load_event_lexicon

GUIDELINES = Path(__file__).resolve().parents[1] / "guidelines"


@pytest.fixture(scope="module")
def lexicon():
    return load_event_lexicon(GUIDELINES)


@pytest.mark.parametrize(("text", "kind"), [
    ("withdrew", "change_of_control"), ("pulled out", "change_of_control"), ("took total control", "change_of_control"),
    ("broke the siege", "change_of_control"), ("filled the void", "change_of_control"), ("loss", "change_of_control"),
    ("killed", "casualties"), ("killing 11 people", "casualties"), ("Ten dead", "casualties"),
    ("many others wounded", "casualties"), ("multiple casualties", "casualties"), ("executed", "casualties"),
    ("lost their lives", "casualties"), ("besieged", "other"), ("under siege", "other"),
    ("forced millions of others to flee", "other"), ("pledge allegiance", "other"), ("defected", "other"),
    ("stranding", "other"), ("surrendered", "other"),
])
def test_outcome_type(lexicon, text, kind):
    assert lexicon.outcome_type(text) == kind


@pytest.mark.parametrize(("has_target", "has_location", "kind"), [
    (True, False, "other"), (False, True, "change_of_control"), (True, True, "change_of_control"),
    (False, False, "change_of_control"),
])
def test_captured_people_are_not_a_change_of_control(lexicon, has_target, has_location, kind):
    assert lexicon.outcome_type("captured", has_target, has_location) == kind


@pytest.mark.parametrize(("text", "kind"), [
    ("killed", "killed"), ("at least 39 fighters dead", "killed"), ("died", "killed"), ("executed", "killed"),
    ("wounded", "injured"), ("many others wounded", "injured"), ("injured", "injured"),
    ("multiple casualties", "killed_or_injured"), ("killed or wounded 20 people", "killed_or_injured"),
    ("withdrew", None),
])
def test_casualty_kind(lexicon, text, kind):
    assert lexicon.casualty_kind(text) == kind


def test_a_broken_lexicon_names_its_file(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "events.toml").write_text("[event]\nanchor = 'OUTCOME'\n")
    with pytest.raises(InputError, match=r"events.toml: \[event\] needs string values for agent, target, location"):
        load_event_lexicon(tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_event_lexicon(tmp_path / "elsewhere")
