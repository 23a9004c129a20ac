"""Benchmark: ingest memory stays flat as the batch grows (streaming), and throughput.

Generates N and 10N distinct synthetic articles (about 3 KB each, with page furniture) as JSONL,
streams them through `load_articles` and records tracemalloc peaks. Baselines measured in the same
run: the peak of holding N articles in a list (what streaming avoids) and the time of only
reading and normalising the same lines. Times are measured without tracemalloc, which slows
allocation-heavy code several times over.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from annotate.ingest.load import IngestReport, load_articles, normalise_text

WORDS = ["rebels", "seized", "the", "town", "of", "Idlib", "on", "Tuesday", "killing", "eleven", "soldiers", "near", "Aleppo", "said", "activists", "army", "forces", "withdrew", "from", "province", "after", "clashes", "with", "militants", "in", "northern", "Syria", "government", "troops", "shelled", "village", "observatory", "monitor", "jihadists", "besieged", "fighters", "convoy", "airstrike", "hospital", "border", "crossing", "coalition", "offensive", "ceasefire", "brigade", "checkpoint", "civilians", "displaced", "front", "commander"]
FURNITURE = "\nRelated Articles\nRebels advance on Azaz\nCopyright © 2020 Example News. All Rights Reserved."


def _article(rng: random.Random) -> str:
    paragraphs = [" ".join(rng.choices(WORDS, k=rng.randint(40, 70))).capitalize() + "." for _ in range(8)]
    return "Headline about the war in northern Syria\nYou are here\n" + "\n\n".join(paragraphs) + FURNITURE


def _write(path: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps({"id": f"a{i}", "text": _article(rng), "source": "bench"}) + "\n")


def _measure(work: Callable[[], Any], trace: bool) -> tuple[float, int]:
    """(seconds, tracemalloc peak bytes) of running `work`; time only when not tracing (tracing slows it)."""
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return seconds, peak


def _stream(path: Path) -> None:
    report = IngestReport()
    for _ in load_articles([path], report=report):
        pass
    assert report.accepted > 0 and not report.rejected


def _read_only(path: Path) -> None:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            normalise_text(json.loads(line)["text"])


def run(quick: bool = False) -> dict:
    """Peak memory of streaming N and 10N articles, their ratio, and the hold-everything baseline."""
    n = 200 if quick else 1000
    out: dict[str, Any] = {"n": n}
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small.jsonl", Path(tmp) / "large.jsonl"
        _write(small, n, 1)
        _write(large, 10 * n, 2)
        out["input_mb_n"] = round(small.stat().st_size / 1e6, 2)
        out["input_mb_10n"] = round(large.stat().st_size / 1e6, 2)
        _, peak_small = _measure(lambda: _stream(small), trace=True)
        _, peak_large = _measure(lambda: _stream(large), trace=True)
        _, peak_list = _measure(lambda: list(load_articles([small], report=IngestReport())), trace=True)
        t_large, _ = _measure(lambda: _stream(large), trace=False)
        t_read, _ = _measure(lambda: _read_only(large), trace=False)
    out.update({
        "peak_mb_n": round(peak_small / 1e6, 2),
        "peak_mb_10n": round(peak_large / 1e6, 2),
        "peak_ratio_10n_over_n": round(peak_large / peak_small, 2),
        "state_bytes_per_article": round((peak_large - peak_small) / (9 * n)),
        "baseline_peak_mb_n_held_in_list": round(peak_list / 1e6, 2),
        "streaming_vs_list_peak_n": round(peak_small / peak_list, 3),
        "articles_per_s": round(10 * n / t_large),
        "baseline_read_normalise_s_10n": round(t_read, 2),
        "ingest_s_10n": round(t_large, 2),
        "ingest_vs_read_time": round(t_large / t_read, 1),
    })
    for key, value in out.items():
        print(f"  {key:36} {value}")
    return out


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
