"""Exports: build the gold dataset, download its files (never outside exports/gold/), read its card;
and the annotation guidelines."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_from_directory, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response  # what redirect() returns; flask's Response is a subclass

from ..errors import QualityGateError
from ..guidelines import instructions_html, load_guidelines
from ..markdown import render_markdown
from ..schema import load_schema
from . import context

bp = Blueprint("exports", __name__)


def gold_dir() -> Path:
    return context.settings().exports_dir / "gold"


def _latest() -> Path | None:
    link = gold_dir() / "latest"
    return link.resolve() if link.exists() else None


@bp.route("/exports")
def index() -> str:
    """The latest gold export: its files for download and its dataset card; older builds listed."""
    latest = _latest()
    files, card = [], None
    if latest is not None:
        files = [(p.name, p.stat().st_size) for p in sorted(latest.iterdir()) if p.is_file()]
        readme = latest / "README.md"
        # The card is our own Markdown rendered by the escaping converter: no raw HTML passes through.
        card = Markup(render_markdown(readme.read_text(encoding="utf-8"))) if readme.exists() else None
    builds = sorted((p for p in gold_dir().iterdir() if p.is_dir() and not p.name.startswith(".")),
                    key=lambda p: p.stat().st_mtime, reverse=True) if gold_dir().exists() else []
    return render_template("exports/index.html", latest=latest, files=files, card=card,
                           builds=[b.name for b in builds if latest is None or b.name != latest.name], snap=context.store().snapshot())


@bp.route("/exports/build", methods=["POST"])
def build() -> Response:
    """Adjudicate the current archive with the decision log and write a new gold folder."""
    from ..pipeline import export_archive  # spaCy (DocBin) loads only when a build is asked for
    from .background import run_work

    store = context.store()
    snap = store.snapshot()
    if snap.archive is None or snap.tasks is None:
        abort(409, "Nothing has been pulled yet: press Pull on the overview first.")
    # Every task is read and adjudicated: in a worker process, like the dashboard's other whole-archive work
    try:
        result = run_work(current_app.config["ISOLATE_WORK"], export_archive, context.settings(), snap.archive,
                          store.decisions_path)
    except QualityGateError as exc:
        flash(f"Built, but {exc}", "error")
        return redirect(url_for("exports.index"))
    docs = result.counts["documents"]
    flash(f"Gold built in {result.folder.name}: {docs['train']} train, {docs['dev']} dev documents, "
          f"{result.counts['spans']} spans, {result.counts['open_disagreements']} open disagreements.", "ok")
    return redirect(url_for("exports.index"))


@bp.route("/exports/files/<path:name>")
def download(name: str) -> Response:
    """A file of a gold export, e.g. latest/gold.jsonl; paths leaving exports/gold/ are refused (404)."""
    return send_from_directory(gold_dir(), name, as_attachment=True)


@bp.route("/guidelines")
def guidelines() -> str:
    """The annotation guidelines as annotators see them in Label Studio, with their version."""
    settings = context.settings()
    guide = load_guidelines(settings.guidelines_dir)
    # Straight from the files, not the pulled data: the guidelines page works whatever state the data is in.
    html = Markup(instructions_html(guide, load_schema(settings.guidelines_dir)))  # escaped by annotate.markdown
    return render_template("exports/guidelines.html", guide=guide, html=html)
