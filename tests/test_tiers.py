"""A tier whose tool is missing fails under CI (it would otherwise skip and leave CI green) and skips elsewhere.

The decision is `require_tool` in conftest.py; the browser tier (chromium, playwright) and the strace test use it.
Each tier is also run for real in a child pytest with the tool taken away, with CI set and unset.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("ci", ["1", "true", "yes"])
def test_a_missing_tool_fails_when_ci_is_set(monkeypatch: pytest.MonkeyPatch, ci: str):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match=r"^strace not found: apt-get install strace .*CI is set"):
        require_tool("strace", None, "apt-get install strace")


@pytest.mark.parametrize("ci", [None, ""])
def test_a_missing_tool_skips_with_its_reason_without_ci(monkeypatch: pytest.MonkeyPatch, ci: str | None):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=r"^chromium not found: apt-get install chromium$"):
        require_tool("chromium", None, "apt-get install chromium")


@pytest.mark.parametrize("ci", [None, "1"])
def test_a_tool_that_is_there_is_neither_a_skip_nor_a_failure(monkeypatch: pytest.MonkeyPatch, ci: str | None):
    monkeypatch.delenv("CI", raising=False)
    if ci:
        monkeypatch.setenv("CI", ci)
    require_tool("strace", "/usr/bin/strace", "apt-get install strace")


def _child_pytest(tmp_path: Path, args: list[str], ci: str | None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CI"} | env
    if ci is not None:
        environ["CI"] = ci
    environ["PYTHONPATH"] = os.pathsep.join([str(TESTS), environ.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
                          cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300)


# A browser test module whose Chromium (or Playwright) is missing.
BROWSER_TEST = '''
import sys
{take_away}
import browser_fixtures
from browser_fixtures import chromium

browser_fixtures.CHROMIUM = browser_fixtures.Path("/nonexistent/chromium")


def test_uses_the_browser(chromium):
    pass
'''


@pytest.mark.parametrize("missing, take_away", [("chromium", ""), ("playwright", 'sys.modules["playwright"] = None')])
def test_the_browser_tier_fails_under_ci_and_skips_elsewhere(tmp_path: Path, missing: str, take_away: str):
    (tmp_path / "test_browser_tier.py").write_text(BROWSER_TEST.format(take_away=take_away))
    failed = _child_pytest(tmp_path, ["test_browser_tier.py"], ci="true")
    assert failed.returncode == 1 and f"{missing} not found" in failed.stdout, failed.stdout[-2000:]
    assert "1 error" in failed.stdout and "skipped" not in failed.stdout
    skipped = _child_pytest(tmp_path, ["test_browser_tier.py"], ci=None)
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout and f"{missing} not found" in skipped.stdout, \
        skipped.stdout[-2000:]


def test_the_strace_test_fails_under_ci_and_skips_elsewhere(tmp_path: Path):
    no_strace = str(Path(sys.executable).parent)  # a PATH without strace on it
    assert not (Path(no_strace) / "strace").exists()
    module = str(TESTS / "test_server_offline.py")
    failed = _child_pytest(tmp_path, [module], ci="1", PATH=no_strace)
    assert failed.returncode == 1 and "strace not found" in failed.stdout and "1 failed" in failed.stdout, \
        failed.stdout[-2000:]
    skipped = _child_pytest(tmp_path, [module], ci=None, PATH=no_strace)
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout and "strace not found" in skipped.stdout, \
        skipped.stdout[-2000:]


@pytest.mark.parametrize("ci, seen", [(None, "1"), ("true", "true")])
@pytest.mark.parametrize("make_exit, run_exit", [(0, 0), (2, 2), (5, 1)])
def test_ci_run_sets_ci_and_runs_make_test(tmp_path: Path, ci: str | None, seen: str, make_exit: int, run_exit: int):
    """.ci/run exports CI (keeping a value already set), runs exactly `make test`, and turns pytest's 5 into 1."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "make").write_text(f'#!/bin/sh\necho "make $* with CI=$CI" >> "{tmp_path}/calls"\nexit {make_exit}\n')
    os.chmod(fake / "make", 0o755)
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    if ci is not None:
        env["CI"] = ci
    done = subprocess.run(["bash", str(TESTS.parent / ".ci" / "run")], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == run_exit, done.stderr
    assert (tmp_path / "calls").read_text() == f"make test with CI={seen}\n"
