"""Benchmarks: each module exposes run(quick) -> dict and prints ratios against a same-run baseline."""
