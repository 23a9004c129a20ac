"""Plain-text rendering of an agreement report for the terminal."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..scoring import show
from .report import INTERVALS, section_frames

TITLES = {
    "token_alpha": "Krippendorff's alpha (nominal) on tokens, 95% bootstrap CI over tasks",
    "cohen_kappa": "Cohen's kappa on tokens, per annotator pair",
    "span_f1": "Span F1 between annotators (exact and overlapping), 95% bootstrap CI over tasks",
    "relation_f1": "Relation F1 between annotators (from span, to span, type; ends matched exactly or overlapping), "
                   "95% bootstrap CI over tasks",
    "unitizing_alpha": "Krippendorff's unitizing alpha (u-alpha) on characters",
    "documents": "Tasks with the lowest token alpha (all tasks are in --json / --csv)",
    "model_vs_human": "What annotators did with predicted spans",
    "model_vs_gold": "Model versions against the gold standard",
    "time_per_task": "Seconds per task (Label Studio lead_time)",
    "rubber_stamping": "Rubber-stamping check (accepts nearly all predictions, much faster than peers)",
}
HIDDEN = {"span_f1": ["n_annotators"], "relation_f1": ["n_annotators"], "model_vs_human": ["boundary_changed_rate", "relabelled_rate"]}
WORST_DOCUMENTS = 10
# The F1 columns (and model_vs_gold's precision and recall) of each section: None there is shown as scoring.NA.
SCORES = {"span_f1": ("value",), "relation_f1": ("value",), "documents": ("exact_f1", "overlap_f1"),
          "model_vs_gold": ("precision", "recall", "f1")}


def render_report(report: dict[str, Any]) -> str:
    """The whole report as readable text tables, each with its section's reason when it has one."""
    data = report["data"]
    lines = [f"{data['n_tasks']} tasks, {data['n_tasks_shared']} completed by two or more of "
             f"{data['n_annotators']} annotators ({', '.join(data['annotators']) or 'none'}); "
             f"bootstrap: {report['bootstrap']['replicates']} replicates, seed {report['bootstrap']['seed']}"]
    for name, frame in section_frames(report).items():
        lines += ["", TITLES[name], "-" * len(TITLES[name])]
        if report["reasons"].get(name):
            lines.append(f"({report['reasons'][name]})")
        if name == "model_vs_gold" and report.get("gold_provenance"):
            lines.append(report["gold_provenance"]["caveat"])
        if frame.empty:
            continue
        if name in INTERVALS:
            frame = _ci_column(frame, *INTERVALS[name][1:])
        if name == "documents":
            frame = frame.sort_values("token_alpha", na_position="last").head(WORST_DOCUMENTS)
        frame = frame.drop(columns=[c for c in HIDDEN.get(name, []) if c in frame])
        for column in SCORES.get(name, ()):  # an undefined score reads n/a (its reason is in the row), not a blank
            frame[column] = frame[column].map(lambda v: show(None if v is None or pd.isna(v) else float(v)))
        lines.append(_table(frame))
    return "\n".join(lines)


def _ci_column(frame: pd.DataFrame, low: str, high: str) -> pd.DataFrame:
    """The interval as one "95% CI" column: [low, high], or why there is none (too few tasks)."""
    def cell(row: pd.Series) -> str:
        reason = row.get("ci_reason")
        if isinstance(reason, str) and reason:  # a missing reason reads back from the frame as NaN, not None
            return reason
        if pd.isna(row[low]) or pd.isna(row[high]):
            return ""
        return f"[{row[low]:.3f}, {row[high]:.3f}]"

    out = frame.copy()
    position = list(out.columns).index(low)
    out.insert(position, "95% CI", out.apply(cell, axis=1) if len(out) else [])
    return out.drop(columns=[low, high, "ci_reason"])


def _table(frame: pd.DataFrame) -> str:
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
        else:
            shown[column] = shown[column].map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v))
                                              else v)
    return shown.to_string(index=False)
