"""The lead's workflows on the gold: what is still open, and recording a decision on a span or a relation (the CLI's
`annotate disagreements` / `annotate decide` and the dashboard's document page both go through here)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..config import Settings
from ..gold.adjudicate import Open, TaskGold, build_gold
from ..gold.decide import (
    candidate_keys,
    make_decision,
    make_relation_decision,
    validate_decision,
    validate_relation_decision,
)
from ..gold.decisions import DECISIONS_FILE, Decision, RelationDecision, append_decision, load_decisions
from ..records import SpanKey, Task
from ..schema import Schema, load_schema


def decisions_file(settings: Settings, given: Path | None = None) -> Path:
    """The decision log: the path given, else exports/decisions.jsonl."""
    return given or settings.exports_dir / DECISIONS_FILE


def open_disagreements(settings: Settings, tasks: Sequence[Task], decisions_path: Path | None = None) -> list[Open]:
    """The spans and relations annotators disagree on that no decision in the log has settled yet."""
    decisions = load_decisions(decisions_file(settings, decisions_path))
    return list(build_gold(tasks, decisions, load_schema(settings.guidelines_dir), settings.leads).disagreements)


def _task_gold(settings: Settings, task: Task, schema: Schema, path: Path) -> TaskGold:
    """The task's gold after the decisions already in the log."""
    return build_gold([task], load_decisions(path), schema, settings.leads).tasks[0]


def record_decision(settings: Settings, task: Task, span: SpanKey, action: str, by: str, *,
                    new: SpanKey | None = None, note: str | None = None, archive: str | None = None,
                    decisions_path: Path | None = None, reject_competing: bool = False) -> list[Decision]:
    """Check a lead's decision on one span of `task` (offsets, schema, leads, spans the annotations hold) and append
    it to the decision log; the CLI and the dashboard both write this way.

    `reject_competing` (the dashboard's "choose this version"): also reject the annotated spans still competing with
    `span` in the gold. Every decision is checked before any is written, so a choice is never half recorded.
    Returns what was appended, the decision on `span` first.
    """
    schema = load_schema(settings.guidelines_dir)
    path = decisions_file(settings, decisions_path)
    made = [make_decision(task, *span, action, by, schema.version, new=new, note=note, archive=archive)]
    if reject_competing:
        rivals = {k for d in _task_gold(settings, task, schema, path).span_disagreements if d.key == span
                  for k in d.competing}
        made += [make_decision(task, *key, "reject", by, schema.version, note=note, archive=archive)
                 for key in sorted(rivals & candidate_keys(task))]
    for decision in made:
        validate_decision(decision, task, schema, settings.leads)
    for decision in made:
        append_decision(path, decision)
    return made


def record_relation_decision(settings: Settings, task: Task, source: SpanKey, target: SpanKey, label: str,
                             action: str, by: str, *, new_label: str | None = None, note: str | None = None,
                             archive: str | None = None, decisions_path: Path | None = None) -> RelationDecision:
    """Check a lead's decision on one relation of `task` (schema, leads, ends among the annotations' spans or the
    gold after span decisions) and append it to the decision log; the CLI and the dashboard both write this way."""
    schema = load_schema(settings.guidelines_dir)
    path = decisions_file(settings, decisions_path)
    decision = make_relation_decision(task, source, target, label, action, by, schema.version, new_label=new_label,
                                      note=note, archive=archive)
    gold = _task_gold(settings, task, schema, path)
    validate_relation_decision(decision, task, schema, settings.leads, {s.key for s in gold.spans})
    append_decision(path, decision)
    return decision
