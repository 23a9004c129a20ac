"""mypy over the package, as `make lint` runs it: part of the suite, so CI type-checks every change."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_error() -> None:
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    assert mypy, f"mypy is not installed next to {sys.executable}: `make install` installs it (requirements.txt)"
    run = subprocess.run([mypy, "--no-error-summary"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"mypy (configured in pyproject.toml) found:\n{run.stdout}{run.stderr}"
