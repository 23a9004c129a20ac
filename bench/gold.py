"""Benchmark: adjudication and the full gold export on synthetic tasks, against same-run baselines.

1,000 tasks x 3 annotators x about 30 spans (quick: 200 tasks), 10% near-duplicate articles, deterministic.
Baseline measured in the same run: a bare spaCy DocBin conversion of the same spans (the floor any DocBin
export pays). The near-duplicate grouping has its own benchmark, bench/neardup.py.
"""

from __future__ import annotations

import random
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from annotate.config import Settings
from annotate.export import export_gold
from annotate.gold.adjudicate import build_gold
from annotate.records import Annotation, Prediction, Span, Task
from annotate.schema import load_schema
from annotate.training.docbin import GoldInput, write_docbins

ROOT = Path(__file__).resolve().parent.parent
_PHRASE = ("rebels seized the town of Idlib on Tuesday killing eleven soldiers near Aleppo said activists army forces "
         "withdrew from province after clashes with militants in northern Syria government troops shelled village")
WORDS = tuple(_PHRASE.split())
LABELS = ("ACTOR", "LOCATION", "OUTCOME")
ANNOTATORS = ("amal", "bilal", "chen")


def _task(rng: random.Random, task_id: int, text: str) -> Task:
    starts = [i + 1 for i, ch in enumerate(text) if ch == " "][:-1]
    picks = sorted(rng.sample(starts, min(30, len(starts))))
    truth = [Span(s, text.index(" ", s), rng.choice(LABELS), text[s:text.index(" ", s)]) for s in picks]
    pred = Prediction("bench-1", tuple(truth), prediction_id=task_id)
    anns = []
    for k, who in enumerate(ANNOTATORS):
        spans = tuple(s for s in truth if rng.random() > 0.08)
        anns.append(Annotation(task_id, f"a{task_id:05d}", who, spans, annotation_id=task_id * 10 + k,
                               parent_prediction=task_id))
    return Task(task_id, f"a{task_id:05d}", text, {"source": "bench"}, (pred,), tuple(anns))


def make_tasks(n: int) -> list[Task]:
    """n synthetic tasks of about 3,000 characters; every tenth republishes an earlier article."""
    rng = random.Random(7)
    tasks: list[Task] = []
    for i in range(n):
        if i % 10 == 9:
            text = tasks[i - 5].text + " Reporting by staff."
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(500)) + "."
        tasks.append(_task(rng, i + 1, text))
    return tasks


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(quick: bool = False) -> dict[str, Any]:
    """Time build_gold and export_gold against a bare DocBin conversion."""
    tasks = make_tasks(200 if quick else 1000)
    schema = load_schema(ROOT / "guidelines")
    t_build, _ = _timed(lambda: build_gold(tasks, [], schema))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "guidelines").mkdir()
        (root / "guidelines" / "schema.toml").write_bytes((ROOT / "guidelines" / "schema.toml").read_bytes())
        inputs = [GoldInput(t.article_id, t.text, tuple(s.key for s in t.annotations[0].spans)) for t in tasks]
        (root / "bare").mkdir()
        t_bare, _ = _timed(lambda: write_docbins(inputs, {i.id: "train" for i in inputs}, root / "bare"))
        t_export, result = _timed(lambda: export_gold(tasks, Settings(root=root), source="bench"))
        # Memory in a second run: tracemalloc slows Python down, so it must not touch the timing.
        tracemalloc.start()
        export_gold(tasks, Settings(root=root), source="bench")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    out = {
        "tasks": len(tasks), "spans": result.counts["spans"],
        "build_gold_s": round(t_build, 3), "bare_docbin_s": round(t_bare, 3), "export_s": round(t_export, 3),
        "export_vs_bare_docbin": round(t_export / t_bare, 2) if t_bare else None,
        "export_peak_mb": round(peak / 2**20, 1),
    }
    for key, value in out.items():
        print(f"  {key}: {value}")
    return out


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
