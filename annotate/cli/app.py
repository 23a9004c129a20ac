"""The Click group every command hangs on; AnnotateError becomes a one-line message and an exit code.

`--root`, `--url`, `--api-key` and `-v` are accepted before the command name and after it
(`annotate push -v`), with the same meaning; given after it, they win.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from ..config import Settings, load_settings
from ..errors import AnnotateError

_ROOT_HELP = "Project folder (default: current folder)."
_URL_HELP = "External Label Studio URL (env LABEL_STUDIO_URL)."
_KEY_HELP = "External Label Studio API token (env LABEL_STUDIO_API_KEY)."
_VERBOSE_HELP = "Log progress and decisions to stderr."


def _set_flag(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Store a shared option given after the command name where the group's own copy is kept."""
    if value is None or value is False:  # not given here: the group's value (or the default) stands
        return
    obj = ctx.find_root().obj
    if obj is None:  # a command invoked on its own, outside `main` (tests)
        obj = ctx.find_root().obj = {"root": None, "flags": {}}
    if param.name == "verbose":
        _configure_logging(True)
    elif param.name == "root":
        obj["root"] = value
    else:
        obj["flags"][param.name] = value


def _shared_options() -> list[click.Option]:
    """The group's options again, for a command's own parameter list (same help, same meaning)."""
    common: dict[str, Any] = {"expose_value": False, "is_eager": True, "callback": _set_flag}
    return [click.Option(["--root"], type=click.Path(file_okay=False), help=_ROOT_HELP, **common),
            click.Option(["--url", "label_studio_url"], help=_URL_HELP, **common),
            click.Option(["--api-key", "label_studio_api_key"], help=_KEY_HELP, **common),
            click.Option(["-v", "--verbose"], is_flag=True, help=_VERBOSE_HELP, **common)]


class _SharedOptions:
    """Adds the shared options to a command, unless it defines one of those names itself."""

    params: list[click.Parameter]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        taken = {opt for p in self.params for opt in getattr(p, "opts", [])}
        self.params += [o for o in _shared_options() if not taken & set(o.opts)]


class _Command(_SharedOptions, click.Command):
    """A command that also takes the shared options after its name."""


class _SubGroup(_SharedOptions, click.Group):
    """A command group under `main` (e.g. `annotate dashboard`): shared options on it and its commands."""

    command_class = _Command
    group_class = type  # nested groups are of this class too


class _Group(click.Group):
    """Turns AnnotateError raised by any command into `Error: ...` on stderr, never a traceback."""

    command_class = _Command
    group_class = _SubGroup

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AnnotateError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)


def _configure_logging(verbose: bool) -> None:
    """Log lines go to stderr, so stdout stays data; -v turns on the INFO lines (decisions, HTTP calls)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if verbose:
        logging.getLogger().setLevel(logging.INFO)


@click.group(cls=_Group)
@click.option("--root", type=click.Path(file_okay=False), help=_ROOT_HELP)
@click.option("--url", "label_studio_url", help=_URL_HELP)
@click.option("--api-key", "label_studio_api_key", help=_KEY_HELP)
@click.option("-v", "--verbose", is_flag=True, help=_VERBOSE_HELP)
@click.version_option(package_name="annotate")
@click.pass_context
def main(ctx: click.Context, root: str | None, label_studio_url: str | None, label_studio_api_key: str | None,
         verbose: bool) -> None:
    """Pre-annotate conflict news with spaCy, correct it in Label Studio, build gold training data."""
    _configure_logging(verbose)
    ctx.obj = {"root": root, "flags": {"label_studio_url": label_studio_url, "label_studio_api_key": label_studio_api_key}}


def get_settings(ctx: click.Context, **flags: Any) -> Settings:
    """Settings for this invocation: command flags over group flags over env, file and defaults."""
    obj = ctx.find_root().obj or {}
    merged = {**obj.get("flags", {}), **{k: v for k, v in flags.items() if v is not None}}
    return load_settings(merged, root=obj.get("root"))
