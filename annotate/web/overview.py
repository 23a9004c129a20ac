"""Overview: how far the work is, per annotator, over time; and the button that pulls from Label Studio and writes
the gold (pipeline.pull_and_export, as `annotate pull`)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response  # what redirect() returns

from . import charts, context
from .data import progress

bp = Blueprint("overview", __name__)


@bp.route("/")
def index() -> str:
    """Task counts, annotators, a progress chart and a link to the worst open disagreement."""
    store, per_task = context.store(), context.settings().annotators_per_task
    snap = store.snapshot()
    store.report(wait=False)  # starts it when the summary has none yet: the documents' agreement needs it
    counts = store.memo(f"progress-{per_task}", lambda v: progress(v.index, per_task))
    worst = store.memo("worst", lambda v: next(iter(v.rows(v.index.select(open_only=True)[:1])), None))
    chart = store.memo("progress-chart", lambda v: charts.line_chart(
        [tuple(p) for p in v.meta("daily", [])], "Completed annotations over time (cumulative)"))
    annotators = store.memo("annotators", lambda v: v.meta("annotators", []))
    return render_template("overview/index.html", snap=snap, counts=counts, per_task=per_task,
                           annotators=annotators, chart=chart, worst=worst)


@bp.route("/pull", methods=["POST"])
def pull() -> Response:
    """Pull every annotation from Label Studio and write the gold, as `annotate pull` does; flash what it printed."""
    from ..labelstudio.server import server_status
    from ..pipeline import pull_lines  # the Label Studio client loads only when a pull is asked for
    from .background import run_work

    settings = context.settings()
    # A pull would start the embedded server (half a minute); a button press should not do that silently.
    if not settings.external and server_status(settings) is None:
        abort(409, "The embedded Label Studio is not running: start it with `annotate server start`, then pull.")
    # The pull reads every task (and the gold build holds them): in a worker process, like the dashboard's own reads
    lines = run_work(current_app.config["ISOLATE_WORK"], pull_lines, settings)
    for line in lines:
        flash(line.text, "warning" if line.warning else "ok")
    return redirect(url_for("overview.index"))
