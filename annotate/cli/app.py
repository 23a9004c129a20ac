"""The Click group every command hangs on; AnnotateError becomes a one-line message and an exit code."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from ..config import Settings, load_settings
from ..errors import AnnotateError


class _Group(click.Group):
    """Turns AnnotateError raised by any command into `Error: ...` on stderr, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AnnotateError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group)
@click.option("--root", type=click.Path(file_okay=False), help="Project folder (default: current folder).")
@click.option("--url", "label_studio_url", help="External Label Studio URL (env LABEL_STUDIO_URL).")
@click.option("--api-key", "label_studio_api_key", help="External Label Studio API token (env LABEL_STUDIO_API_KEY).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress and decisions to stderr.")
@click.version_option(package_name="annotate")
@click.pass_context
def main(ctx: click.Context, root: str | None, label_studio_url: str | None, label_studio_api_key: str | None,
         verbose: bool) -> None:
    """Pre-annotate conflict news with spaCy, correct it in Label Studio, build gold training data."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"root": root, "flags": {"label_studio_url": label_studio_url, "label_studio_api_key": label_studio_api_key}}


def get_settings(ctx: click.Context, **flags: Any) -> Settings:
    """Settings for this invocation: command flags over group flags over env, file and defaults."""
    obj = ctx.find_root().obj or {}
    merged = {**obj.get("flags", {}), **{k: v for k, v in flags.items() if v is not None}}
    return load_settings(merged, root=obj.get("root"))
