"""export_gold: tasks + decision log -> a versioned, content-addressed gold folder under exports/gold/."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..csvsafe import write_csv
from ..errors import ExportError, InputError, QualityGateError
from ..files import atomic_write
from ..gold.adjudicate import GoldSet, TaskGold, build_gold
from ..gold.decisions import DECISIONS_FILE, load_decisions
from ..gold.screening import GATING, Problem
from ..gold.split import assign_split
from ..records import Task, relation_keys
from ..schema import Schema, load_schema
from ..scoring import Counts, count_matches, empty_reason, f1
from . import card, folder
from .rows import disagreement_rows, dumps_lines, gold_row, portable, project_roots, scrub

if TYPE_CHECKING:
    from ..training.docbin import DocView

log = logging.getLogger(__name__)
SIDES = ("train", "dev")
NO_PAIRS = "no task has annotations by two or more annotators"


@dataclass(frozen=True)
class ExportResult:
    """Where the export went, what it holds, and what was reported while building it."""

    folder: Path
    counts: dict[str, Any]
    problems: tuple[Problem, ...]
    agreement: float | None = None
    agreement_reason: str | None = None  # why `agreement` is None (cannot be measured), else None


def pooled_span_f1(tasks: Sequence[Task]) -> tuple[float | None, str | None]:
    """Exact span F1 (annotate.scoring) pooled over every pair of annotations on the same task: (value, None), or
    (None, why it cannot be measured): no task with two annotations, or no span on any of those tasks (n/a)."""
    shared = [task for task in tasks if len(task.final) >= 2]
    if not shared:
        return None, NO_PAIRS
    pairs = [pair for task in shared for pair in combinations(task.final, 2)]
    value = f1(sum((count_matches(a.spans, b.spans, "exact") for a, b in pairs), Counts()))
    where = f" on the {len(shared)} task(s) with two or more annotations"
    return value, None if value is not None else empty_reason("span", where)


def _agreement_report(tasks: Sequence[Task], schema: Schema) -> tuple[dict[str, Any] | None, str | None]:
    try:
        from ..agreement import agreement_report
    except ImportError as exc:  # the agreement package is optional for an export
        return None, f"annotate.agreement is not importable ({exc})"
    return agreement_report(tasks, schema, bootstrap=200, seed=0), None


def _dedupe(golds: Sequence[TaskGold], problems: list[Problem]) -> list[TaskGold]:
    """One record per article: a re-imported article keeps the task with most annotators (then lowest id)."""
    best: dict[str, TaskGold] = {}
    for g in sorted(golds, key=lambda g: (-len(g.annotators), g.task_id)):
        if g.article_id in best:
            problems.append(Problem("duplicate", f"task {g.task_id}",
                                    f"article {g.article_id} is also task {best[g.article_id].task_id}; kept that one"))
            continue
        best[g.article_id] = g
    return [best[k] for k in sorted(best)]


def _alignment_problems(golds: Sequence[TaskGold], views: Mapping[str, DocView]) -> list[Problem]:
    out = []
    for g in golds:
        view = views[g.article_id]
        for s in g.spans:
            where, token = f"task {g.task_id}", view.aligned.get(s.key)
            if token is None:
                out.append(Problem("alignment", where, f"span {s.id} {s.text!r} covers no token: kept in gold.jsonl, "
                                                       "left out of the DocBin and CoNLL files"))
            elif token != (s.start, s.end):
                out.append(Problem("alignment", where, f"span {s.id} {s.text!r} cuts through a token: expanded to "
                                                       f"{token[0]}-{token[1]} {g.text[token[0]:token[1]]!r} in DocBin/CoNLL"))
            elif s.key not in view.in_ents:
                out.append(Problem("overlap", where, f"span {s.id} overlaps a longer span: in doc.spans['sc'] but not "
                                                     "in doc.ents or CoNLL"))
    return out


def _events(rows: list[dict[str, Any]], views: Mapping[str, DocView], settings: Settings, schema: Schema,
            problems: list[Problem]) -> list[dict[str, Any]]:
    """One event row per gold OUTCOME; without a usable events lexicon the type and count columns stay empty."""
    from ..events.lexicon import load_event_lexicon
    from ..events.table import event_rows

    try:
        lexicon = load_event_lexicon(settings.guidelines_dir)
    except InputError as exc:
        reason = scrub(str(exc), project_roots(settings.root))  # an export must not carry the machine's folders
        problems.append(Problem("events", "guidelines", f"{reason}; outcome_type, casualty and count columns of the "
                                                        "events tables left empty"))
        lexicon = None
    if lexicon is not None:
        unknown = [n for n in lexicon.roles.values() if n not in {r.name for r in schema.relations}]
        unknown += [] if lexicon.anchor in schema.label_names else [lexicon.anchor]
        if unknown:
            problems.append(Problem("events", "guidelines", f"events.toml names {', '.join(map(repr, unknown))}, "
                                    f"which schema.toml (version {schema.version}) does not define"))
    return event_rows(rows, lexicon, {key: view.sentences for key, view in views.items()})


def _write(path: Path, text: str) -> None:
    with atomic_write(path) as handle:
        handle.write(text)


def export_gold(tasks: Sequence[Task], settings: Settings, *, decisions_path: Path | None = None,
                min_agreement: float | None = None, source: str = "unspecified",
                quarantined: Sequence[str] = (), out: Path | None = None) -> ExportResult:
    """Adjudicate and write every gold file into exports/gold/<content hash>/, then point exports/gold/latest at it
    (with `out`: into that folder instead, leaving exports/gold/ alone; see folder.check_target).

    Raises ExportError (nothing written) for unusable input, QualityGateError (after writing) when
    annotations were quarantined, offsets were wrong, or agreement is below `min_agreement`. Agreement is checked
    before publishing: a build below it is written under its hash for review but never becomes `latest`.
    """
    # spaCy and pandas load here, not when the CLI imports this module.
    from ..training.docbin import GoldInput, write_docbins

    schema = load_schema(settings.guidelines_dir)
    parent = settings.exports_dir / "gold"
    if out is not None:
        folder.check_target(out, parent)
    if not tasks:
        raise ExportError(f"no tasks to export (source: {source}); is the project empty?")
    decisions = load_decisions(decisions_path or settings.exports_dir / DECISIONS_FILE)
    gold = build_gold(tasks, decisions, schema, settings.leads)
    problems = list(gold.problems) + [Problem("quarantined", "pull", q) for q in quarantined]
    annotated = [g for g in gold.tasks if g.status != "unannotated"]
    if not annotated:
        left_out = list(quarantined) + [p.message for p in gold.problems if p.kind in GATING]
        detail = f"; {len(left_out)} left out, e.g. {left_out[0]}" if left_out else ""
        raise ExportError(f"none of the {len(tasks)} tasks has a usable submitted annotation{detail}")
    roots = project_roots(settings.root)
    source = scrub(source, roots)
    golds = [replace(g, meta=portable(g.meta, roots)) for g in _dedupe(annotated, problems)]
    sides = assign_split({g.article_id: g.text for g in golds}, settings.dev_ratio,
                         settings.split_near_duplicate_threshold)
    agreement, agreement_reason = pooled_span_f1(tasks)
    too_low = _agreement_gate(agreement, agreement_reason, min_agreement)
    report, reason = _agreement_report(tasks, schema)
    with folder.staging(out.parent if out else parent) as tmp:
        inputs = [GoldInput(g.article_id, g.text, tuple(s.key for s in g.spans), tuple(relation_keys(g.spans, g.relations))) for g in golds]
        views = {v.id: v for v in write_docbins(inputs, sides, tmp, SIDES)}
        problems += _alignment_problems(golds, views)
        rows = [gold_row(g, sides[g.article_id], gold.guideline_version, views[g.article_id].aligned,
                         views[g.article_id].in_ents) for g in golds]
        events = _events(rows, views, settings, schema, problems)
        counts = _write_files(tmp, rows, views, gold, problems, events)
        predicted = sum(bool(t.predictions) for t in tasks)
        _write(tmp / "README.md", card.render_card(_card_inputs(rows, gold, problems, (agreement, agreement_reason),
                                                                report, reason, source, predicted)))
        _write_manifest(tmp, counts, source)
        final = (folder.publish_into(tmp, out) if out else
                 folder.publish(tmp, parent, folder.content_hash(tmp), latest=too_low is None))
    result = ExportResult(final, counts, tuple(problems), agreement, agreement_reason)
    _gate(result, too_low, None if out else parent / folder.LATEST)
    return result


def _write_files(tmp: Path, rows: list[dict[str, Any]], views: Mapping[str, DocView], gold: GoldSet,
                 problems: list[Problem], events: list[dict[str, Any]]) -> dict[str, Any]:
    from .conll import conll_text
    from .lsjson import labelstudio_json
    from .tables import event_csv_frame, event_table, span_table, write_event_parquet, write_span_parquet

    _write(tmp / "gold.jsonl", dumps_lines(rows))
    _write(tmp / "disagreements.jsonl", dumps_lines(disagreement_rows(gold.disagreements)))
    _write(tmp / "gold.conll", conll_text(views[r["id"]] for r in rows))
    spans = span_table(rows)
    write_csv(spans, tmp / "spans.csv")  # formula-like cells neutralised; the Parquet keeps the exact text
    with atomic_write(tmp / "spans.parquet", "wb") as handle:
        write_span_parquet(spans, handle)
    write_csv(event_csv_frame(events), tmp / "events.csv")  # formula-like cells neutralised, as for spans.csv
    with atomic_write(tmp / "events.parquet", "wb") as handle:
        write_event_parquet(event_table(events), handle)
    _write(tmp / "problems.jsonl", dumps_lines({"kind": p.kind, "where": p.where, "message": p.message}
                                               for p in problems))
    _write(tmp / "labelstudio.json", labelstudio_json(rows))
    return {
        "documents": {side: sum(r["split"] == side for r in rows) for side in SIDES},
        "spans": len(spans),
        "events": len(events),
        "open_disagreements": len(gold.disagreements),
        "statuses": gold.status_counts(),
        "problems": dict(sorted(Counter(p.kind for p in problems).items())),
    }


def _card_inputs(rows: list[dict[str, Any]], gold: GoldSet, problems: list[Problem],
                 agreement: tuple[float | None, str | None], report: dict[str, Any] | None, reason: str | None,
                 source: str, predicted: int) -> card.CardInputs:
    labels: dict[str, Counter[str]] = {}
    for row in rows:
        for span in row["spans"]:
            labels.setdefault(span["label"], Counter())[row["split"]] += 1
    origins = Counter(span["origin"] + (f" ({span['correction']})" if span["correction"] else "")
                      for row in rows for span in row["spans"])
    return card.CardInputs(
        source=source, guideline_version=gold.guideline_version,
        documents={side: sum(r["split"] == side for r in rows) for side in SIDES},
        label_counts={k: dict(v) for k, v in labels.items()}, statuses=gold.status_counts(),
        annotators=sorted({a for g in gold.tasks for a in g.annotators}), origins=dict(origins),
        open_disagreements=len(gold.disagreements), problems=dict(Counter(p.kind for p in problems)),
        agreement=agreement[0], agreement_reason=agreement[1], agreement_report=report, report_reason=reason,
        tasks_with_predictions=predicted,
    )


def _write_manifest(tmp: Path, counts: dict[str, Any], source: str) -> None:
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(tmp.iterdir()) if p.is_file()}
    _write(tmp / "manifest.json", json.dumps({"source": source, "counts": counts, "files": files},
                                             indent=2, sort_keys=True) + "\n")


def _agreement_gate(agreement: float | None, reason: str | None, min_agreement: float | None) -> str | None:
    """Why the build fails --min-agreement, or None when it passes (or none was asked for).

    Agreement that cannot be measured fails the gate, whichever the reason (no task annotated twice, or no span on
    any task that was: n/a): the gate promises gold whose agreement was shown to reach the minimum, and nothing
    was shown. Scoring two empty annotations as 1.0 used to pass any minimum on no evidence at all. To publish
    anyway, export without --min-agreement; the card still says n/a and why.
    """
    if min_agreement is None:
        return None
    if agreement is None:
        return f"agreement cannot be measured, so --min-agreement {min_agreement} cannot be met: {reason}"
    if agreement < min_agreement:
        return f"agreement {agreement:.3f} is below --min-agreement {min_agreement}"
    return None


def _gate(result: ExportResult, too_low: str | None, latest: Path | None) -> None:
    """Raise QualityGateError naming every failed gate; the export is already written by then (`latest` None: it
    went to an --out folder and no `latest` link was touched)."""
    reasons = [f"{n} {kind} problem(s)" for kind, n in result.counts["problems"].items() if kind in GATING]
    if too_low is None and not reasons:
        return
    reasons += [too_low] if too_low else []
    if latest is None:
        where = f"export written to {result.folder}"
    elif too_low is None:
        where = f"export written to {result.folder} and published as {latest}"
    else:
        now = f"still {latest.resolve().name}" if latest.exists() else "none yet"
        where = (f"NOT published: {latest} is unchanged ({now}); the build is in {result.folder} for review")
    error = QualityGateError(f"quality gate failed: {'; '.join(reasons)} ({where}; see problems.jsonl and "
                             "README.md there)")
    error.result = result  # type: ignore[attr-defined]
    raise error
