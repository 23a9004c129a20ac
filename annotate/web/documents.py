"""Documents: the list (worst agreement first, filters, pages) and one document with its spans side by side,
its open disagreements and the controls that write lead decisions to the decision log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response  # what redirect() returns

from ..errors import InputError
from ..gold.decide import parse_span_id
from ..gold.decisions import ACTIONS
from ..gold.relations import relation_words
from ..labelstudio.convert import Quarantined
from ..records import Task
from . import context
from .data import SORTS
from .spans import Column, columns_for

bp = Blueprint("documents", __name__, url_prefix="/documents")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int


@bp.route("/")
def index() -> str:
    """Every document with its agreement; sort, filter by label / annotator / open, paginate."""
    store = context.store()
    snap = store.snapshot()
    args = request.args
    sort = args.get("sort", "worst") if args.get("sort") in SORTS else "worst"
    label, annotator, open_only = args.get("label", ""), args.get("annotator", ""), args.get("open") == "1"
    report = store.report(wait=False)  # first: a listing made before the report is in is not kept after
    ids = store.memo(f"rows:{sort}:{label}:{annotator}:{open_only}",  # paging through a listing sorts once
                     lambda v: v.index.select(label=label, annotator=annotator, open_only=open_only, sort=sort))
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    number = min(max(args.get("page", 1, type=int) or 1, 1), pages)
    shown = snap.rows(ids[(number - 1) * PAGE_SIZE: number * PAGE_SIZE])
    annotators = sorted(snap.index.annotators)
    return render_template("documents/list.html", rows=shown, page=Page(number, pages, len(ids)), sort=sort,
                           labels=snap.schema.label_names, annotators=annotators, args=args, sorts=list(SORTS),
                           bootstrap=(report or {}).get("bootstrap"), has_data=snap.archive is not None,
                           computing=store.report_started() if report is None else None)


def _task(task_id: int) -> tuple[Task, list[Quarantined]]:
    found = context.store().snapshot().task(task_id)
    if found is None:
        abort(404, f"No task {task_id} in the pulled data.")
    return found


@bp.route("/<int:task_id>")
def detail(task_id: int) -> str:
    """One document: annotators, predictions and gold side by side; open disagreements with decision controls."""
    store = context.store()
    task, quarantined = _task(task_id)
    snap = store.snapshot()
    gold = store.gold_of(task)
    columns: Sequence[Column] = columns_for(task, gold, snap.schema)
    row = next(iter(snap.rows([task_id])), None)
    ls_link = None
    if snap.project_id is not None:
        ls_link = f"{context.label_studio_url()}/projects/{snap.project_id}/data?task={task_id}"
    return render_template("documents/detail.html", task=task, gold=gold, columns=columns, row=row,
                           decisions=store.decisions_for(task), ls_link=ls_link, schema=snap.schema,
                           quarantined=quarantined)


def _form_span() -> tuple[int, int, str]:
    try:
        return int(request.form["start"]), int(request.form["end"]), request.form["label"]
    except (KeyError, ValueError) as exc:
        raise InputError("a decision needs integer start and end and a label") from exc


@bp.route("/<int:task_id>/decide", methods=["POST"])
def decide(task_id: int) -> Response:
    """Record accept / reject of a span, or choose it over the spans competing with it (rejecting those), through
    the CLI's pipeline function."""
    from ..pipeline import record_decision  # the Label Studio client and spaCy stay unloaded until a decision

    store, settings = context.store(), context.settings()
    task = _task(task_id)[0]
    action = request.form.get("action", "")
    if action not in ("accept", "reject", "choose"):
        raise InputError(f"action {action!r} is not one of accept, reject, choose")
    span = _form_span()
    archive = store.snapshot().archive
    made = record_decision(settings, task, span, "reject" if action == "reject" else "accept", session["user"],
                           note=request.form.get("note", "").strip() or None,
                           archive=archive.name if archive else None, decisions_path=store.decisions_path,
                           reject_competing=action == "choose")
    summary = "; ".join(f"{d.action} {d.span.text!r} {d.span.label}" for d in made)
    flash(f"Recorded: {summary}.", "ok")
    return redirect(url_for("documents.detail", task_id=task_id) + "#disagreements")


@bp.route("/<int:task_id>/decide-relation", methods=["POST"])
def decide_relation(task_id: int) -> Response:
    """Record accept / reject of a relation, or a change of its type, through the CLI's pipeline function."""
    from ..pipeline import record_relation_decision  # the Label Studio client and spaCy stay unloaded until a decision

    store, settings = context.store(), context.settings()
    task = _task(task_id)[0]
    form = request.form
    action = form.get("action", "")
    if action not in ACTIONS:
        raise InputError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    source = parse_span_id(form.get("from_id", ""), "the relation's from_id")
    target = parse_span_id(form.get("to_id", ""), "the relation's to_id")
    new_label = form.get("new_label", "") if action == "change" else None
    archive = store.snapshot().archive
    decision = record_relation_decision(settings, task, source, target, form.get("label", ""), action,
                                        session["user"], new_label=new_label, note=form.get("note", "").strip() or None,
                                        archive=archive.name if archive else None, decisions_path=store.decisions_path)
    changed = f" to {new_label}" if new_label else ""
    words = relation_words(decision.source.text, decision.label, decision.target.text)
    flash(f"Recorded: {action}{changed} {words}.", "ok")
    return redirect(url_for("documents.detail", task_id=task_id) + "#disagreements")
