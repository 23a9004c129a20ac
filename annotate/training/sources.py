"""Which source proposes each label: the rules, the trained model or both, chosen on the dev split.

The combination is combine_spans (preannotate/trained.py, the one definition) over the spans each label's source
allows: rule spans of "rules"/"both" labels are kept whole, then model spans of "model"/"both" labels are added,
most confident first, where they overlap no kept span. All "both" is the combination without per-label sources.

The choice looks at every assignment of sources to the labels the dev gold has (3**3 at most) and scores the
combination it actually produces, since a rule span of one label can block a model span of another:
1. an assignment is admissible when every label scores, in exact and overlap F1, at least the better of rules
   alone and model alone (failing that for some label, exact F1 alone is required; failing that too, the
   assignment with the smallest shortfall is taken, and `guarantee` says so);
2. among the admissible ones, the highest sum of per-label (exact F1 + overlap F1) / 2 wins;
3. ties go to the simpler sources (rules before model before both: fewer moving parts, and the rules are the
   ones the guidelines are written into), then to higher precision.
A label without dev gold cannot be measured and keeps "both" (recorded as unmeasured).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from ..evaluate import score_documents
from ..preannotate.trained import combine_spans
from ..records import Document, Span
from ..scoring import MODES

SOURCES = ("rules", "model", "both")  # also the tie-break order: simpler first
DEFAULT_SOURCE = "both"
MODEL_SOURCE = "model"  # Span.source of the trained model's spans


def combine_by_source(rule_spans: Sequence[Span], model_spans: Sequence[Span],
                      sources: Mapping[str, str]) -> tuple[Span, ...]:
    """The spans each label's source allows, combined; a label missing from `sources` is "both"."""
    first = [s for s in rule_spans if sources.get(s.label, DEFAULT_SOURCE) in ("rules", "both")]
    second = [s for s in model_spans if sources.get(s.label, DEFAULT_SOURCE) in ("model", "both")]
    return combine_spans(first, second)


def combine_documents(rules: Sequence[Document], model: Sequence[Document],
                      sources: Mapping[str, str]) -> list[Document]:
    """combine_by_source per document; a rule relation stays when both its end spans do."""
    out = []
    for r, m in zip(rules, model, strict=True):
        spans = combine_by_source(r.spans, m.spans, sources)
        kept = {s.id for s in spans}
        relations = tuple(rel for rel in r.relations if rel.from_id in kept and rel.to_id in kept)
        out.append(Document(r.id, r.text, spans, r.meta, f"{m.model_version}+{r.model_version}", relations))
    return out


def _label_scores(gold: Sequence[Document], pred: Sequence[Document], labels: Sequence[str]) -> dict[str, Any]:
    scores = score_documents(gold, pred)
    return {lab: {mode: scores[mode]["labels"].get(lab) for mode in MODES} for lab in labels}


def _f1(block: dict[str, Any] | None) -> float:
    return (block or {}).get("f1") or 0.0


def choose_sources(gold: Sequence[Document], rules: Sequence[Document], model: Sequence[Document],
                   labels: Sequence[str]) -> dict[str, Any]:
    """{"sources", "measured", "guarantee", "scores": {label: {rules, model, combined: {exact, overlap}}}}."""
    measured = [lab for lab in labels if any(s.label == lab for d in gold for s in d.spans)]
    alone = {"rules": _label_scores(gold, rules, labels), "model": _label_scores(gold, model, labels)}
    best = {lab: {mode: max(_f1(alone[s][lab][mode]) for s in alone) for mode in MODES} for lab in measured}
    candidates = []
    for choice in itertools.product(SOURCES, repeat=len(measured)):
        sources = {lab: DEFAULT_SOURCE for lab in labels} | dict(zip(measured, choice, strict=True))
        combined = _label_scores(gold, combine_documents(rules, model, sources), labels)
        margins = {mode: min((_f1(combined[lab][mode]) - best[lab][mode] for lab in measured), default=0.0)
                   for mode in MODES}
        tier = 0 if min(margins.values()) >= -1e-9 else 1 if margins["exact"] >= -1e-9 else 2
        total = sum((_f1(combined[lab]["exact"]) + _f1(combined[lab]["overlap"])) / 2 for lab in measured)
        simpler = sum(SOURCES.index(s) for s in choice)
        precision = sum((combined[lab]["exact"] or {}).get("precision") or 0.0 for lab in measured)
        key = (tier, -margins["exact"] if tier == 2 else 0.0, -round(total, 9), simpler, -precision)
        candidates.append((key, sources, combined))
    _, sources, combined = min(candidates, key=lambda c: c[0])
    tier = min(candidates, key=lambda c: c[0])[0][0]
    guarantee = ("never worse than the better single source per label, exact and overlap F1", "exact F1 only",
                 "not met: some label scores below its better single source")[tier]
    scores = {lab: {"rules": alone["rules"][lab], "model": alone["model"][lab], "combined": combined[lab]}
              for lab in labels}
    return {"sources": sources, "measured": measured, "guarantee": guarantee, "scores": scores}


def format_sources(choice: dict[str, Any]) -> str:
    """Lines: per label its source and the exact/overlap F1 of rules, model and the combination on dev."""
    from ..scoring import show

    lines = [f"sources per label (dev, exact/overlap F1; {choice['guarantee']})",
             f"{'label':<10}{'source':>8}{'rules':>14}{'model':>14}{'combined':>14}"]
    for lab, source in choice["sources"].items():
        cells = "".join(f"{show(_none(b['exact']))}/{show(_none(b['overlap'])):<7}".rjust(14)
                        for b in (choice["scores"][lab][s] for s in ("rules", "model", "combined")))
        note = "" if lab in choice["measured"] else "  (no dev gold: unmeasured, default)"
        lines.append(f"{lab:<10}{source:>8}{cells}{note}")
    return "\n".join(lines)


def _none(block: dict[str, Any] | None) -> float | None:
    return None if block is None else block.get("f1")
