"""Shared fixtures. The `live_server` fixture starts a real Label Studio on a free 127.0.0.1 port.

A migrated data folder is made once (about 30 s) and cached under .annotate/test-template/; each test
session starts from a fresh copy of it (about 4 s), so tests never see each other's projects across runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox import start_sandbox

from annotate.config import Settings, load_settings
from annotate.labelstudio import server as ls_server

# The dashboard's and the browser tier's fixtures, registered once here (before any test module imports them, so
# that pytest rewrites their asserts); test modules import only their helper functions.
pytest_plugins = ["web_fixtures", "browser_fixtures", "faultproxy"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT_ROOT / "seeds"


def require_tool(name: str, found: object, install: str) -> None:
    """Go on when a tier's tool was `found`. When it was not: fail under CI (any non-empty CI), where a skipped tier
    would leave the run green with a missing install step; skip with the reason elsewhere."""
    if found:
        return
    message = f"{name} not found: {install}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so a missing tool fails its tier instead of skipping it)", pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class LiveServer:
    url: str
    token: str
    email: str
    password: str
    root: Path  # a project root whose .annotate/ holds this server's data and credentials
    log: Path

    def settings(self, root: Path | None = None, **flags: object) -> Settings:
        """Settings that point every command at this server as an external one."""
        return load_settings({"label_studio_url": self.url, "label_studio_api_key": self.token, **flags},
                             env={}, root=root or self.root)


def link_project_files(root: Path) -> Path:
    """Make `root` look like a project: the real guidelines and seeds, its own (empty) exports."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("guidelines", "seeds"):
        if not (root / name).exists():
            (root / name).symlink_to(PROJECT_ROOT / name, target_is_directory=True)
    return root


def start_copy(root: Path) -> tuple[Settings, ls_server.ServerInfo]:
    """Start a Label Studio from a fresh copy of the migrated template under `root` (embedded mode)."""
    link_project_files(root)
    return start_sandbox(root, PROJECT_ROOT)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real Label Studio for the whole session, stopped by PID at the end."""
    root = tmp_path_factory.mktemp("ls-root")
    settings, info = start_copy(root)
    creds = ls_server.load_credentials(settings)
    live = LiveServer(info.url, creds.token, creds.email, creds.password, root,
                      ls_server.server_paths(settings).log)
    pytest.live_server_log = live.log  # type: ignore[attr-defined]
    try:
        yield live
    finally:
        ls_server.stop_server(settings)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """When an integration test fails, attach the tail of the Label Studio log to its report."""
    outcome = yield
    report = outcome.get_result()
    log = getattr(pytest, "live_server_log", None)
    if report.failed and log and item.get_closest_marker("integration") and Path(log).exists():
        tail = Path(log).read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        report.sections.append(("Label Studio log (last 40 lines)", "\n".join(tail)))


@pytest.fixture
def start_label_studio():
    """A function that starts a separate Label Studio under a given root (embedded mode); stop it yourself."""
    return start_copy


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    """A throwaway project folder: the real guidelines and seeds, empty exports and state."""
    return link_project_files(tmp_path / "project")


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS
