"""Benchmark: pre-annotation throughput against the bare base pipeline, and streaming memory.

Articles (about 3,000 characters) are made deterministically by recombining seed sentences and
swapping group and place names. In the same run, the bare base pipeline (`nlp.pipe` over the same
texts, same components, same batch size) is the baseline: the goal is full pre-annotation at
>= 0.85 of its words per second in one process. Peak memory (RSS, in a fresh child process each) for
N and 10N articles streamed to a file shows streaming: the two should be about equal.
"""

from __future__ import annotations

import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotate.config import load_settings
from annotate.preannotate import build_preannotator
from annotate.records import Article

ROOT = Path(__file__).resolve().parent.parent
GROUPS = ["Islamic Front", "Al Nusra Front", "Free Syrian Army", "Houthi rebels", "Kurdish YPG militia",
          "Popular Mobilisation Forces", "Dawud Brigade", "government troops", "al-Shabaab fighters"]
PLACES = ["Saraqeb", "Marea", "Azaz", "Harib", "Tal Afar", "Kafr Kalbin", "Deir Sonbol", "Sermin", "Kismayo"]
BATCH = 32
CHUNK = 128  # articles per interleaved bare/full measurement


def _sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 60 < len(s.strip()) < 400]


def make_articles(count: int, seed: int = 7) -> Iterator[Article]:
    """`count` deterministic ~3,000-character articles built from seed sentences with names varied."""
    rng = random.Random(seed)
    sentences = _sentences()
    for i in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < 3000:
            sentence = rng.choice(sentences)
            sentence = sentence.replace("ISIL", rng.choice(GROUPS)).replace("Saraqeb", rng.choice(PLACES))
            parts.append(sentence)
        yield Article(f"bench-{i}", " ".join(parts), {"bench": True})


def _words(texts: list[str]) -> int:
    return sum(len(t.split()) for t in texts)


def measure_throughput(count: int) -> dict[str, Any]:
    """Words per second of the bare pipeline and of full pre-annotation on the same texts, one process."""
    pre = build_preannotator(load_settings(env={}, root=ROOT))
    articles = list(make_articles(count))
    texts = [a.text for a in articles]
    words = _words(texts)
    for _ in pre.nlp.pipe(texts[:BATCH], batch_size=BATCH):  # warm-up: first batch allocates
        pass
    # Interleave bare and full runs chunk by chunk so load from other processes hits both alike.
    bare = full = 0.0
    spans = 0
    for first in range(0, count, CHUNK):
        start = time.perf_counter()
        for _ in pre.nlp.pipe(texts[first:first + CHUNK], batch_size=BATCH):
            pass
        bare += time.perf_counter() - start
        start = time.perf_counter()
        chunk = articles[first:first + CHUNK]
        spans += sum(len(doc.spans) for doc in pre.annotate(chunk, processes=1, batch_size=BATCH))
        full += time.perf_counter() - start
    return {"articles": count, "words": words, "spans": spans, "components": list(pre.nlp.pipe_names),
            "bare_wps": round(words / bare), "full_wps": round(words / full), "ratio": round(bare / full, 3),
            "model_version": pre.model_version}


def _stream_child(count: int) -> None:
    """Child-process body: stream `count` articles to a file and print the peak RSS in MB."""
    from annotate.files import atomic_write
    from annotate.preannotate.annotator import write_documents

    pre = build_preannotator(load_settings(env={}, root=ROOT))
    with tempfile.TemporaryDirectory() as tmp, atomic_write(Path(tmp) / "out.jsonl") as handle:
        write_documents(pre.annotate(make_articles(count), processes=1, batch_size=BATCH), handle)
    print(json.dumps({"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def measure_memory(count: int) -> float:
    """Peak RSS (MB) of a fresh process that pre-annotates `count` generated articles to a file."""
    out = subprocess.run([sys.executable, "-m", "bench.preannotate", "--child", str(count)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def run(quick: bool = False) -> dict[str, Any]:
    """Throughput ratio (full / bare, same run) and streaming peak memory for N and 10N articles."""
    result = measure_throughput(100 if quick else 1000)
    n = 20 if quick else 100
    result["memory"] = {"n": n, "peak_rss_mb_n": measure_memory(n), "peak_rss_mb_10n": measure_memory(10 * n)}
    _print(result)
    return result


def _print(result: dict[str, Any]) -> None:
    mem = result["memory"]
    print(f"pre-annotation of {result['articles']} articles ({result['words']} words, {result['spans']} spans), "
          f"components {result['components']}")
    print(f"  bare nlp.pipe     {result['bare_wps']:>8} words/s")
    print(f"  full preannotate  {result['full_wps']:>8} words/s   ratio {result['ratio']:.3f} (goal >= 0.85)")
    print(f"  peak RSS streaming {mem['n']} articles: {mem['peak_rss_mb_n']} MB; "
          f"{10 * mem['n']} articles: {mem['peak_rss_mb_10n']} MB")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _stream_child(int(sys.argv[2]))
    else:
        run(quick="--quick" in sys.argv)
