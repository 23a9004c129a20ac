"""Every CLI command has help text and is documented in the README (sqlite-utils' meta-test)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from annotate.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "annotate") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found += [(f"{prefix} {name} {sub}", c) for sub, c in sorted(command.commands.items())]
    return found


@pytest.mark.parametrize(("name", "command"), _commands(main), ids=lambda v: v if isinstance(v, str) else "")
def test_command_has_help_and_is_in_readme(name, command):
    assert command.help and command.help.strip(), f"{name} has no help text"
    words = name.split()
    documented = name in README or (len(words) == 3 and f"annotate {words[1]}" in README and words[2] in README)
    assert documented, f"{name} is not documented in README.md"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{name} option {param.opts[0]} has no help text"
