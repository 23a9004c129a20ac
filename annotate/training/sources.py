"""Which source proposes each label, the rules, the trained model or both, chosen on the dev split.

The combination is preannotate/combine.py's combine_by_source (the one definition, what `preannotate --model`
runs): per label, its output is exactly what that label's source gives, whatever the other labels chose. So
each label's choice is made on its own, from three scorings of the dev documents (every label "rules", every
label "model", every label "both"):
1. a source is admissible when the label scores, in exact and overlap F1, at least the better of rules alone
   and model alone; failing that, in exact F1 (always possible: rules alone or model alone is one of them);
2. among the admissible ones, the highest (exact F1 + overlap F1) / 2 wins;
3. ties go to the simpler source (rules before model before both: fewer moving parts, and the rules carry the
   guidelines), then to the higher exact precision.
A label without dev gold cannot be measured and keeps "both" (the default; recorded as unmeasured).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..evaluate import score_documents
from ..preannotate.combine import DEFAULT_SOURCE, SOURCES, combine_by_source
from ..records import Document
from ..scoring import MODES

GUARANTEES = ("never worse than the better single source, exact and overlap F1", "never worse in exact F1")


def combine_documents(rules: Sequence[Document], model: Sequence[Document],
                      sources: Mapping[str, str]) -> list[Document]:
    """combine_by_source per document; a rule relation stays when both its end spans do."""
    out = []
    for r, m in zip(rules, model, strict=True):
        spans = tuple(combine_by_source(r.spans, m.spans, sources))
        kept = {s.id for s in spans}
        relations = tuple(rel for rel in r.relations if rel.from_id in kept and rel.to_id in kept)
        out.append(Document(r.id, r.text, spans, r.meta, f"{m.model_version}+{r.model_version}", relations))
    return out


def _label_scores(gold: Sequence[Document], pred: Sequence[Document], labels: Sequence[str]) -> dict[str, Any]:
    scores = score_documents(gold, pred)
    return {lab: {mode: scores[mode]["labels"].get(lab) for mode in MODES} for lab in labels}


def _f1(block: dict[str, Any] | None) -> float:
    return (block or {}).get("f1") or 0.0


def _rank(source: str, got: dict[str, Any], best: Mapping[str, float]) -> tuple[float, ...]:
    """Sort key of one label's source (smallest wins): admissibility tier, mean F1, simplicity, precision."""
    tier = 0 if all(_f1(got[m]) >= best[m] - 1e-9 for m in MODES) else 1
    mean = (_f1(got["exact"]) + _f1(got["overlap"])) / 2
    return (tier, -round(mean, 9), SOURCES.index(source), -((got["exact"] or {}).get("precision") or 0.0))


def choose_sources(gold: Sequence[Document], rules: Sequence[Document], model: Sequence[Document],
                   labels: Sequence[str]) -> dict[str, Any]:
    """{"sources", "measured", "guarantee", "scores": {label: {rules, model, combined: {exact, overlap}}}}."""
    measured = [lab for lab in labels if any(s.label == lab for d in gold for s in d.spans)]
    alone = {"rules": _label_scores(gold, rules, labels), "model": _label_scores(gold, model, labels)}
    each = {source: _label_scores(gold, combine_documents(rules, model, dict.fromkeys(labels, source)), labels)
            for source in SOURCES}
    sources = dict.fromkeys(labels, DEFAULT_SOURCE)
    tiers = []
    for lab in measured:
        best: dict[str, float] = {mode: max(_f1(alone[s][lab][mode]) for s in alone) for mode in MODES}
        ranks = {source: _rank(source, each[source][lab], best) for source in SOURCES}
        sources[lab] = min(SOURCES, key=ranks.__getitem__)
        tiers.append(int(ranks[sources[lab]][0]))
    scores = {lab: {"rules": alone["rules"][lab], "model": alone["model"][lab],
                    "combined": each[sources[lab]][lab]} for lab in labels}
    return {"sources": sources, "measured": measured, "guarantee": GUARANTEES[max(tiers, default=0)],
            "scores": scores}


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
