"""Run every benchmark: `python -m bench [--quick] [NAME ...]` (make bench).

Each module in bench/ exposes run(quick) and prints its figures as ratios against a baseline measured in the
same run, because machines here are noisy. Results are also written to bench/results/latest.json.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [a for a in argv if not a.startswith("-")]
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_"))
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(names)}", file=sys.stderr)
        return 2
    results = {}
    for name in wanted or names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== bench.{name} ({'quick' if quick else 'full'}) ===", flush=True)
        start = time.perf_counter()
        results[name] = module.run(quick=quick)
        print(f"=== bench.{name}: {time.perf_counter() - start:.1f}s ===", flush=True)
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    # A partial run (`python -m bench sync`) updates its own entries and keeps the other benchmarks' figures.
    previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    out.write_text(json.dumps({**previous, **results}, indent=2, default=str), encoding="utf-8")
    print(f"\nfigures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
