"""The agreement report: every measure in one JSON-able dict with stable keys, plus text and CSV renderings."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import csvsafe, scoring
from ..records import Document, Task
from ..schema import Schema
from . import tables as t
from .annotators import rubber_stamping, time_per_task
from .coefficients import MIN_INTERVAL_TASKS, bootstrap_weights, nominal_alpha, too_few_tasks
from .measures import (
    PairCounts,
    f1_rows,
    kappa_rows,
    pair_counts,
    shared_docs,
    span_f1_rows,
    token_alpha_rows,
    unitizing_rows,
)
from .model_vs_gold import Gold, gold_provenance, score_models
from .model_vs_human import classify, outcome_table
from .relations import relation_pair_counts
from .spans import f1_from_counts
from .tokens import code_tokens

log = logging.getLogger(__name__)

REPORT_STEPS = 5  # how often agreement_report advances `progress` (its stages; the bar's total)
# 2: relation_f1 added; 3: ci_reason (small samples get no interval), gold_provenance; 4: span F1 from
# annotate.scoring: a span drawn twice counts once (n_spans_a/b, tp, model_vs_gold n_gold/n_predicted count distinct
# spans), every null F1 (precision, recall) has a reason, and model_vs_gold's reason also names an n/a P or R.
REPORT_VERSION = 4
SECTIONS = ("token_alpha", "cohen_kappa", "span_f1", "relation_f1", "unitizing_alpha", "documents", "model_vs_human",
            "model_vs_gold", "time_per_task", "rubber_stamping")
AGREEMENT_SECTIONS = ("token_alpha", "cohen_kappa", "span_f1", "relation_f1", "unitizing_alpha", "documents")
# Sections whose rows carry a bootstrap interval: (value, low, high) keys; each row also gets `ci_reason`.
INTERVALS = {"token_alpha": ("value", "ci_low", "ci_high"), "span_f1": ("value", "ci_low", "ci_high"),
             "relation_f1": ("value", "ci_low", "ci_high"), "model_vs_gold": ("f1", "f1_ci_low", "f1_ci_high")}
BREAKDOWNS = (None, t.LABEL, t.MODEL_VERSION, t.SOURCE, t.ANNOTATOR)
Tokenizer = Callable[[Sequence[str]], Sequence[Any]]


def _default_tokenizer() -> Tokenizer:
    # Imported here: spaCy lives behind annotate.preannotate and must not load when the module is imported.
    from ..preannotate.tokens import tokenize_offsets

    return tokenize_offsets


def agreement_report(tasks: Sequence[Task], schema: Schema, gold: Gold | None = None, *, bootstrap: int = 1000,
                     seed: int = 0, tokenize: Tokenizer | None = None,
                     gold_origins: Mapping[str, int] | None = None,
                     progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Every agreement and model-vs-human measure for these tasks, JSON-able, with stable keys.

    `gold_origins` (model_vs_gold.gold_origins of the gold file) says how much of the gold is accepted pre-fill;
    `progress` is advanced by 1 after each of REPORT_STEPS stages."""
    step = progress or (lambda _n: None)
    labels = list(schema.label_names)
    tables = t.build_tables(tasks)
    step(1)
    done = shared_docs(tables)
    n_docs, n_people = len(tables.texts), len(tables.annotators)
    shared = done.sum(axis=0) >= 2
    shared_idx = np.flatnonzero(shared)
    weights = None
    if bootstrap > 0 and shared_idx.size >= 2:  # resampling a single task says nothing about variability
        weights = np.zeros((bootstrap, n_docs))
        weights[:, shared_idx] = bootstrap_weights(shared_idx.size, bootstrap, seed)
    offsets: list[Any] = [np.zeros((0, 2), dtype=np.int64)] * n_docs
    if shared_idx.size:
        tokens = (tokenize or _default_tokenizer())([tables.texts[d] for d in shared_idx])
        for d, doc_offsets in zip(shared_idx, tokens, strict=True):
            offsets[d] = doc_offsets
    step(1)  # tokenising is the slowest stage (about 35% at 1,000 tasks)
    coding = code_tokens(tables, offsets, labels)
    people_shared = int((done[:, shared].any(axis=1)).sum())
    alpha_rows, per_doc_o = token_alpha_rows(coding, n_docs, weights, int(shared.sum()), people_shared)
    step(1)
    pc = pair_counts(tables, labels, done)
    types = [r.name for r in schema.relations]
    relation_pc = relation_pair_counts(tasks, tables.annotators, types, done)
    outcomes = classify(tables, labels)
    mvh = pd.concat([outcome_table(outcomes, by) for by in BREAKDOWNS], ignore_index=True) if len(outcomes) else \
        pd.DataFrame()
    step(1)
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "labels": labels,
        "bootstrap": {"replicates": bootstrap, "seed": seed, "resampled_unit": "task", "level": 0.95,
                      "n_tasks": int(shared.sum()), "min_tasks": MIN_INTERVAL_TASKS},
        "data": {"n_tasks": n_docs, "n_tasks_annotated": int(done.any(axis=0).sum()),
                 "n_tasks_shared": int(shared.sum()), "n_annotators": n_people, "annotators": list(tables.annotators),
                 "n_tasks_with_predictions": int(tables.prediction_sets[t.DOC].nunique())},
        "reasons": _reasons(tables, shared, gold, outcomes, _relation_reason(types, relation_pc)),
        "token_alpha": alpha_rows,
        "cohen_kappa": kappa_rows(coding, tables.annotators),
        "span_f1": span_f1_rows(pc, labels, tables.annotators, weights),
        "relation_f1": f1_rows(relation_pc, types, tables.annotators, weights, "relation"),
        "unitizing_alpha": unitizing_rows(tables, labels, done),
        "documents": _document_rows(tables, done, per_doc_o, pc.counts.sum(axis=0)),
        "model_vs_human": _records(mvh),
        "model_vs_gold": _records(score_models(tables, gold, labels, bootstrap, seed)) if gold is not None else [],
        "time_per_task": _records(time_per_task(tables)),
        "rubber_stamping": _records(rubber_stamping(tables, outcomes)),
        "gold_provenance": None if gold is None else gold_provenance(gold_origins, _n_gold_spans(gold)),
    }
    step(1)
    return _clean(_withhold_small_intervals(report))


def _n_gold_spans(gold: Gold) -> int:
    entries = gold.values() if isinstance(gold, Mapping) else gold
    return sum(len(e.spans) if isinstance(e, Document) else len(e) for e in entries)


def _withhold_small_intervals(report: dict[str, Any]) -> dict[str, Any]:
    """Drop every interval resting on fewer than MIN_INTERVAL_TASKS tasks; `ci_reason` says so (None otherwise)."""
    for name, (value, low, high) in INTERVALS.items():
        for row in report[name]:
            point = row.get(value)
            # No value (its own reason says why): no interval to explain either.
            reason = too_few_tasks(int(row["n_tasks"])) if point is not None and np.isfinite(point) else None
            row["ci_reason"] = reason
            if reason:
                row[low] = row[high] = None
    return report


def _relation_reason(types: Sequence[str], pc: PairCounts) -> str | None:
    """Why relation agreement has no value: the empty case is n/a, neither perfect (1) nor none (0) agreement."""
    if not types:
        return "the schema defines no relation types"
    if pc.pairs and not pc.counts[..., :2].sum():
        return ("no annotator drew a relation on a task shared with another annotator, so relation agreement is n/a "
                "(neither 1 nor 0)")
    return None


def _reasons(tables: t.Tables, shared: np.ndarray, gold: Gold | None, outcomes: pd.DataFrame,
             relations: str | None = None) -> dict[str, str | None]:
    """Why a whole section is empty or thin, per section (None when it is not)."""
    people = tables.annotators
    agreement = None
    if not people:
        agreement = "no task has a completed annotation"
    elif len(people) == 1:
        agreement = f"only one annotator ({people[0]}) has completed tasks; agreement needs two or more"
    elif not shared.any():
        agreement = "no task was completed by two or more annotators, so there is nothing to compare"
    reasons: dict[str, str | None] = {name: agreement for name in AGREEMENT_SECTIONS}
    reasons["relation_f1"] = agreement or relations
    reasons["model_vs_human"] = None
    if tables.prediction_sets.empty:
        reasons["model_vs_human"] = "no task has predictions (pre-annotations)"
    elif outcomes.empty:
        reasons["model_vs_human"] = "no task has both a prediction and a completed annotation"
    reasons["model_vs_gold"] = "no gold standard was given" if gold is None else None
    if gold is not None and tables.prediction_sets.empty:
        reasons["model_vs_gold"] = "no task has predictions (pre-annotations)"
    timed = tables.annotations[t.LEAD_TIME].notna().any() if len(tables.annotations) else False
    reasons["time_per_task"] = None if timed else "no annotation has a lead_time"
    reasons["rubber_stamping"] = reasons["model_vs_human"] or reasons["time_per_task"]
    return reasons


def _document_rows(tables: t.Tables, done: np.ndarray, per_doc_o: np.ndarray, counts: np.ndarray) -> list[dict]:
    """Per task: token alpha and pooled pairwise span F1, or the reason they are missing."""
    alphas = nominal_alpha(per_doc_o) if len(per_doc_o) else np.zeros(0)
    per_doc = counts.sum(axis=1) if counts.size else np.zeros((len(tables.texts), 4))
    exact, overlap = f1_from_counts(per_doc, "exact"), f1_from_counts(per_doc, "overlap")
    rows = []
    for doc, (task_id, article) in enumerate(zip(tables.tasks[t.TASK_ID], tables.tasks[t.ARTICLE_ID], strict=True)):
        n = int(done[:, doc].sum())
        if n == 0:
            continue
        reason = None
        if n < 2:
            reason = "only one annotator completed this task"
        elif not np.isfinite(exact[doc]):  # then alpha is undefined too: every token is outside every span
            reason = scoring.empty_reason("span", " on this task") + "; token alpha is undefined too"
        elif not np.isfinite(alphas[doc]):
            reason = "every token has the same value on this task: alpha is undefined"
        rows.append({t.TASK_ID: int(task_id), t.ARTICLE_ID: article, "n_annotators": n,
                     "token_alpha": alphas[doc] if n >= 2 else None, "exact_f1": exact[doc] if n >= 2 else None,
                     "overlap_f1": overlap[doc] if n >= 2 else None, "reason": reason})
    return rows


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records") if len(frame) else []


def _clean(value: Any) -> Any:
    """NaN -> None and numpy scalars -> Python, recursively, so json.dumps never meets either."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def section_frames(report: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Each list section of a report as a DataFrame (the CSV tables)."""
    return {name: pd.DataFrame(report[name]) for name in SECTIONS}


def write_csv(report: dict[str, Any], folder: Path) -> list[Path]:
    """Write one CSV per section into `folder` (cells a spreadsheet would run as formulas neutralised); return
    the paths written."""
    return [csvsafe.write_csv(frame, Path(folder) / f"{name}.csv") for name, frame in section_frames(report).items()]
