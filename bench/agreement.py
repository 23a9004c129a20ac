"""Benchmark: the full agreement report on synthetic data against the `krippendorff` package alone.

10,000 tasks x 3 annotators x about 50 spans (quick: 1,000 tasks), deterministic. The baseline is the
time `krippendorff.alpha` takes for the token-level nominal alpha on the same tokens, in the same run.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np

from annotate.agreement import agreement_report
from annotate.agreement import tables as t
from annotate.agreement.tokens import code_tokens
from annotate.preannotate.tokens import tokenize_offsets
from annotate.records import Annotation, Prediction, Span, Task
from annotate.schema import load_schema

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["rebels", "seized", "the", "town", "of", "Idlib", "on", "Tuesday", "killing", "eleven", "soldiers", "near", "Aleppo", "said", "activists", "army", "forces", "withdrew", "from", "province", "after", "clashes", "with", "militants", "in", "northern", "Syria", "government", "troops", "shelled", "village"]
LABELS = ("ACTOR", "LOCATION", "OUTCOME")
N_WORDS, N_SPANS, ANNOTATORS = 400, 50, ("amal", "bilal", "chen")


def _document(rng: np.random.Generator) -> tuple[str, np.ndarray, np.ndarray]:
    """A text of N_WORDS words and the word start/end offsets."""
    words = rng.choice(WORDS, N_WORDS)
    lengths = np.array([len(w) for w in words])
    starts = np.cumsum(lengths + 1) - lengths - 1
    return " ".join(words), starts, starts + lengths


def _spans(text: str, ws: np.ndarray, we: np.ndarray, first: np.ndarray, size: np.ndarray, labels: np.ndarray,
           source: str | None = None) -> tuple[Span, ...]:
    return tuple(Span(int(ws[f]), int(we[f + n - 1]), str(lab), text[ws[f]:we[f + n - 1]], source=source)
                 for f, n, lab in zip(first, size, labels, strict=True))


def _perturb(rng: np.random.Generator, first: np.ndarray, size: np.ndarray, labels: np.ndarray):
    """An annotator's version of the true spans: some dropped, relabelled, or with a boundary moved."""
    keep = rng.random(len(first)) > 0.07
    labels = np.where(rng.random(len(first)) < 0.05, rng.choice(LABELS, len(first)), labels)
    size = np.where(rng.random(len(first)) < 0.08, np.maximum(1, size + rng.choice([-1, 1], len(first))), size)
    return first[keep], size[keep], labels[keep]


def synthetic_tasks(n_tasks: int, seed: int = 0) -> list[Task]:
    """Deterministic tasks: N_SPANS true spans per text, three noisy annotators, a noisy prediction."""
    rng = np.random.default_rng(seed)
    tasks = []
    for i in range(n_tasks):
        text, ws, we = _document(rng)
        first = np.sort(rng.choice(np.arange(0, N_WORDS - 3, 4), N_SPANS, replace=False))  # slots 4 words apart
        size = rng.integers(1, 4, N_SPANS)
        labels = rng.choice(LABELS, N_SPANS)
        pf, ps, pl = _perturb(rng, first, size, labels)
        pred = Prediction("model-1", _spans(text, ws, we, pf, ps, pl, source=str(rng.choice(["ner", "rule"]))), i)
        anns = tuple(Annotation(i, f"a{i}", name, _spans(text, ws, we, *_perturb(rng, first, size, labels)),
                                annotation_id=i * 10 + k, lead_time=float(rng.gamma(4, 15)), parent_prediction=i)
                     for k, name in enumerate(ANNOTATORS))
        tasks.append(Task(i, f"a{i}", text, predictions=(pred,), annotations=anns))
    return tasks


def _timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def _peak_mb(func: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run(quick: bool = False) -> dict[str, Any]:
    """Time the whole report and the krippendorff-package baseline on the same data; print and return figures."""
    n_tasks, replicates = (1_000, 200) if quick else (10_000, 1_000)
    tasks = synthetic_tasks(n_tasks)
    schema = load_schema(ROOT / "guidelines")
    tables = t.build_tables(tasks)
    coding = code_tokens(tables, tokenize_offsets(tables.texts), list(schema.label_names))
    data = np.where(coding.codes < 0, np.nan, coding.codes.astype(np.float64))

    def baseline() -> float:
        return krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")

    def report() -> dict[str, Any]:
        return agreement_report(tasks, schema, bootstrap=replicates, seed=0)

    base_s, base_alpha = _timed(baseline)
    report_s, result = _timed(report)
    ours = next(r["value"] for r in result["token_alpha"] if r["label"] == "all")
    figures = {
        "tasks": n_tasks, "annotators": len(ANNOTATORS), "spans": int(len(tables.spans)), "tokens": int(data.shape[1]),
        "bootstrap": replicates, "baseline_seconds": round(base_s, 2), "report_seconds": round(report_s, 2),
        "ratio": round(report_s / base_s, 2), "alpha_report": ours, "alpha_krippendorff": float(base_alpha),
        "baseline_peak_mb": round(_peak_mb(baseline), 1), "report_peak_mb": round(_peak_mb(report), 1),
    }
    print(f"agreement: {n_tasks} tasks x {len(ANNOTATORS)} annotators, {figures['spans']} spans, "
          f"{figures['tokens']} tokens, {replicates} bootstrap replicates")
    print(f"  krippendorff.alpha (token alpha only): {base_s:.2f} s, peak {figures['baseline_peak_mb']} MB")
    print(f"  full agreement report:                  {report_s:.2f} s, peak {figures['report_peak_mb']} MB")
    print(f"  ratio report / baseline: {figures['ratio']}x (goal <= 5x); alpha {ours:.6f} vs {base_alpha:.6f}")
    return figures


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
