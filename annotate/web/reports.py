"""Agreement (per label, per annotator pair) and model-vs-human pages, both from the cached report."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from . import charts, context

bp = Blueprint("reports", __name__)
OUTCOMES = ("accepted", "boundary_changed", "relabelled", "deleted", "added")
OUTCOME_NAMES = {"accepted": "accepted", "boundary_changed": "boundary corrected", "relabelled": "relabelled",
                 "deleted": "deleted", "added": "missed (added by hand)"}


def _pair_values(rows: list[dict[str, Any]], **match: str) -> dict[tuple[str, str], float | None]:
    return {(r["annotator_a"], r["annotator_b"]): r.get("value") for r in rows
            if all(r.get(k) == v for k, v in match.items())}


def _report() -> tuple[dict[str, Any] | None, float | None]:
    """The cached report, or None and how long it has been computing (None: nothing to compute)."""
    store = context.store()
    if store.snapshot().archive is None:
        return None, None
    report = store.report()
    return report, (store.report_started() if report is None else None)


@bp.route("/agreement")
def agreement() -> str:
    """Token alpha per label with CIs, pairwise kappa / span F1 heatmaps, relation F1, unitizing alpha."""
    report, waiting = _report()
    if report is None:
        return render_template("reports/agreement.html", report=None, waiting=waiting)
    alpha = report["token_alpha"]
    names = report["data"]["annotators"]
    label = "all"
    heatmaps = {
        "kappa": charts.heatmap(names, _pair_values(report["cohen_kappa"]), "Cohen's kappa on tokens per pair"),
        "f1": charts.heatmap(names, _pair_values(report["span_f1"], label=label, mode="exact"),
                             "Exact span F1 per annotator pair"),
    }
    bars = charts.interval_bars([(r["label"], r["value"], r["ci_low"], r["ci_high"]) for r in alpha],
                                "Krippendorff's alpha on tokens per label, 95% bootstrap CI")
    pairs = [r for r in report["span_f1"] if r["mode"] == "exact"]
    # A pair whose F1 is n/a (no span on either side) shows the heatmap's grey "–": the caption says what it means.
    f1_na = any(r["value"] is None for r in pairs if r["label"] == label)
    return render_template("reports/agreement.html", report=report, alpha=alpha, bars=bars, heatmaps=heatmaps,
                           pairs=pairs, kappa=report["cohen_kappa"], unitizing=report["unitizing_alpha"],
                           relations=report.get("relation_f1", []), f1_na=f1_na)


@bp.route("/model")
def model() -> str:
    """What annotators did with the predictions, per label, model version, source and annotator."""
    report, waiting = _report()
    if report is None:
        return render_template("reports/model.html", report=None, waiting=waiting)
    rows = report["model_vs_human"]
    sections = []
    for group_by, title in (("label", "Per label"), ("model_version", "Per model version"),
                            ("source", "Per prediction source"), ("annotator", "Per annotator")):
        part = [r for r in rows if r["group_by"] == group_by]
        if part:
            chart = charts.stacked_bars([(str(r["group"]), {OUTCOME_NAMES[o]: r[o] for o in OUTCOMES}) for r in part],
                                        [OUTCOME_NAMES[o] for o in OUTCOMES], f"Predicted spans: {title.lower()}")
            sections.append({"title": title, "rows": part, "chart": chart})
    overall = next((r for r in rows if r["group_by"] == "all"), None)
    # Shown with the report's caveat: a gold built from accepted pre-fill inflates these scores.
    gold = [r for r in report.get("model_vs_gold", []) if r["label"] == "all"]
    return render_template("reports/model.html", report=report, sections=sections, overall=overall,
                           outcomes=OUTCOMES, names=OUTCOME_NAMES, stamping=report["rubber_stamping"], gold=gold)
