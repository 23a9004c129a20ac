"""How far span scores can be trusted: reliability on dev, and an isotonic mapping when it helps (stdlib only).

A span's score should be the chance that it is exactly right, so that ordering tasks by uncertainty means
something. Reliability bins (equal width over [0, 1]) compare the mean score with the share of exact-correct
spans in each bin; the expected calibration error (ECE) is their gap weighted by the bin's share of spans.

The mapping is isotonic (pool adjacent violators: the best non-decreasing fit of correctness to score), stored
as points (x ascending, y) and applied by linear interpolation between them, flat beyond the ends, which
`apply_mapping` does and any consumer can repeat (`numpy.interp(score, x, y)` gives the same). Whether it
helps is judged out of sample: fitted on all dev documents but one fold, applied to that fold (5 folds by
document), and kept only when that ECE is lower than the raw scores' ECE. The pre-annotator's model stage applies
a kept mapping to the model's span scores (preannotate/trained.py), so the uncertainty order uses them.

Before the mapping, the model's scores get a softmax temperature (preannotate/nerscores.py): the one of
TEMPERATURES with the lowest log loss of exact correctness on dev. Unlike the mapping it can reorder spans
(a span's score is a product over several actions), and it spreads scores that a large margin saturated at 1.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

from ..records import Document

BINS = 10
FOLDS = 5
TEMPERATURES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)
CLIP = 5e-4  # scores are rounded to 3 decimals: 0 and 1 are kept off the log's poles
MIN_TEMPERATURE_SPANS = 20  # fewer dev spans than this leave the temperature at 1 (one CNC span chose 32)

Pairs = list[tuple[float, bool]]  # (score, exactly right)


def scored_pairs(gold: Sequence[Document], pred: Sequence[Document], sources: Sequence[str] | None = None,
                 labels: Sequence[str] | None = None) -> Pairs:
    """(score, exact match in gold) of every predicted span that has a score (optionally of these sources/labels)."""
    gold_keys = {d.id: {s.key for s in d.spans} for d in gold}
    out = []
    for doc in pred:
        keys = gold_keys.get(doc.id, set())
        for span in doc.spans:
            if span.score is None or (labels is not None and span.label not in labels):
                continue
            if sources is None or (span.source or "") in sources:
                out.append((float(span.score), span.key in keys))
    return out


def reliability(pairs: Pairs, bins: int = BINS) -> dict[str, Any]:
    """{"spans", "ece", "brier", "bins": [{"low", "high", "spans", "mean_score", "correct"}]} (None when empty)."""
    rows = []
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        inside = [(s, c) for s, c in pairs if low <= s < high or (i == bins - 1 and s == high)]
        if inside:
            rows.append({"low": round(low, 2), "high": round(high, 2), "spans": len(inside),
                         "mean_score": round(sum(s for s, _ in inside) / len(inside), 4),
                         "correct": round(sum(c for _, c in inside) / len(inside), 4)})
    n = len(pairs)
    ece = sum(r["spans"] * abs(r["mean_score"] - r["correct"]) for r in rows) / n if n else None
    brier = sum((s - c) ** 2 for s, c in pairs) / n if n else None
    return {"spans": n, "ece": None if ece is None else round(ece, 4),
            "brier": None if brier is None else round(brier, 4), "bins": rows}


def ranking_auc(pairs: Pairs) -> float | None:
    """The chance that a right span outscores a wrong one (ties half): 0.5 is no order at all (None: one class)."""
    right = sorted(s for s, c in pairs if c)
    wrong = sorted(s for s, c in pairs if not c)
    if not right or not wrong:
        return None
    wins = sum(bisect.bisect_left(wrong, s) + (bisect.bisect_right(wrong, s) - bisect.bisect_left(wrong, s)) / 2
               for s in right)
    return round(wins / (len(right) * len(wrong)), 4)


def log_loss(pairs: Pairs) -> float | None:
    """Mean negative log-likelihood of exact correctness under the scores (None when empty)."""
    if not pairs:
        return None
    clipped = [(min(1 - CLIP, max(CLIP, s)), c) for s, c in pairs]
    return -sum(math.log(s if c else 1 - s) for s, c in clipped) / len(clipped)


def fit_temperature(score_at: Callable[[float], Pairs], grid: Sequence[float] = TEMPERATURES,
                    min_spans: int = MIN_TEMPERATURE_SPANS) -> dict[str, Any]:
    """{"temperature": the grid's value with the lowest log loss, "log_loss": {value: loss}}.

    Fewer than `min_spans` scored spans fit nothing: the temperature stays 1 and "note" says why."""
    spans = len(score_at(1.0))
    if spans < min_spans:
        return {"temperature": 1.0, "log_loss": {},
                "note": f"temperature left at 1: fitting it needs {min_spans} scored dev spans, dev has {spans}"}
    losses = {t: log_loss(score_at(t)) for t in grid}
    scored = {t: v for t, v in losses.items() if v is not None}
    best = min(scored, key=scored.__getitem__) if scored else 1.0
    return {"temperature": best, "log_loss": {str(t): None if v is None else round(v, 4) for t, v in losses.items()}}


def fit_isotonic(pairs: Pairs) -> dict[str, Any]:
    """The isotonic mapping of `pairs`: {"method": "isotonic", "x": [...], "y": [...]} (block mean scores -> rates)."""
    blocks: list[list[float]] = []  # [sum score, sum correct, count]
    for score, correct in sorted(pairs):
        blocks.append([score, float(correct), 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=True)]
    x = [round(b[0] / b[2], 4) for b in blocks]
    y = [round(b[1] / b[2], 4) for b in blocks]
    return {"method": "isotonic", "x": x, "y": y}


def apply_mapping(mapping: dict[str, Any] | None, score: float) -> float:
    """A score through the mapping (linear between its points, flat outside); unchanged without a mapping."""
    if not mapping or not mapping.get("x"):
        return score
    x, y = mapping["x"], mapping["y"]
    if score <= x[0]:
        return float(y[0])
    if score >= x[-1]:
        return float(y[-1])
    i = bisect.bisect_right(x, score)
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(y0 if x1 == x0 else y0 + (y1 - y0) * (score - x0) / (x1 - x0))


def calibrate(groups: Sequence[Pairs], bins: int = BINS, folds: int = FOLDS) -> dict[str, Any]:
    """Raw reliability of the pooled pairs, the cross-fitted isotonic one, and the mapping if it helps.

    `groups` holds one list of pairs per dev document (folds never split a document).
    """
    pooled = [p for g in groups for p in g]
    raw = reliability(pooled, bins)
    out: dict[str, Any] = {"raw": raw, "mapping": None, "applied": False}
    if len(groups) < 2 or len(pooled) < 10:
        out["note"] = (f"no mapping fitted: it needs 2 dev documents and 10 scored spans, dev has {len(groups)} "
                       f"document(s) and {len(pooled)} span(s)")
        return out
    k = min(folds, len(groups))
    crossed: Pairs = []
    for fold in range(k):
        held = [p for i, g in enumerate(groups) if i % k == fold for p in g]
        fitted = fit_isotonic([p for i, g in enumerate(groups) if i % k != fold for p in g])
        crossed += [(apply_mapping(fitted, s), c) for s, c in held]
    out["isotonic_cross_fitted"] = reliability(crossed, bins)
    if (out["isotonic_cross_fitted"]["ece"] or 0.0) < (raw["ece"] or 0.0):
        out.update(mapping=fit_isotonic(pooled), applied=True)
    return out


def format_calibration(name: str, result: dict[str, Any]) -> str:
    """One line: spans, raw ECE/Brier, cross-fitted isotonic ECE, and whether the mapping is applied."""
    raw = result["raw"]
    line = f"calibration of {name} scores on dev: {raw['spans']} spans, ECE {raw['ece']}, Brier {raw['brier']}"
    if result.get("temperature") is not None:
        before = result["untempered"]
        line += (f" at temperature {result['temperature']:g} (at 1: ECE {before['ece']}, Brier {before['brier']})")
    crossed = result.get("isotonic_cross_fitted")
    if crossed:
        line += f"; isotonic (cross-fitted) ECE {crossed['ece']}, Brier {crossed['brier']}"
        line += ": mapping applied" if result["applied"] else ": no gain, scores kept as they are"
    notes = [result[k] for k in ("temperature_note", "note") if result.get(k)]
    return line + (f" ({'; '.join(notes)})" if notes else "")
