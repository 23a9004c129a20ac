"""`.annotate/` is owner-only: another local user can read neither Label Studio's database (it holds the admin
token in plain text), nor our credentials, nor Label Studio's .env, nor the dashboard's logins.

Checked as another user for real (`runuser -u nobody`), from a project root under /tmp that everyone may enter
(pytest's own tmp folder is 0700, which would hide everything and prove nothing).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sandbox
from conftest import link_project_files

from annotate import procs
from annotate.config import Settings, load_settings
from annotate.files import make_private_dirs, write_private
from annotate.labelstudio import server as ls_server
from annotate.procs.dashboard import start_dashboard, stop_dashboard
from annotate.web.users import ensure_users

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OTHER_USER = "nobody"


def as_other_user(*cmd: str) -> subprocess.CompletedProcess[str]:
    """Run `cmd` as the unprivileged user `nobody`; fail (never skip) when that cannot be done here."""
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("runuser not found: install util-linux (the test must run a command as another user)")
    try:
        pwd.getpwnam(OTHER_USER)
    except KeyError:
        pytest.fail(f"no user {OTHER_USER!r} on this machine: the test must run a command as another user")
    return subprocess.run([runuser, "-u", OTHER_USER, "--", *cmd], capture_output=True, text=True,
                          errors="replace", timeout=30)


def assert_denied(path: Path) -> None:
    """`nobody` can neither read `path` nor list it."""
    for cmd in ("cat", "ls"):
        done = as_other_user(cmd, str(path))
        denied = done.returncode != 0 and "Permission denied" in done.stderr
        assert denied, f"`{cmd} {path}` as {OTHER_USER}: exit {done.returncode}, stderr {done.stderr!r}, stdout {done.stdout[:80]!r}"


def modes(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path -> octal mode of everything under `root` (symlinks and `skip` names not followed)."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.stat().st_mode))
    return found


def owner_only(found: dict[str, str], root: Path) -> dict[str, str]:
    """The entries of `found` that are not 0700 (folders) or 0600 (files)."""
    return {rel: mode for rel, mode in found.items()
            if mode != ("0o700" if (root / rel).is_dir() else "0o600")}


@pytest.fixture
def shared_root() -> Iterator[Path]:
    """A project root that every local user may enter (0755, under /tmp)."""
    root = Path(tempfile.mkdtemp(prefix="annotate-private-"))
    os.chmod(root, 0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _loosen(root: Path) -> None:
    """What an older version left: folders 0755, files 0644 (the database was, Label Studio's .env was not)."""
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            if not (Path(dirpath) / name).is_symlink():
                os.chmod(Path(dirpath) / name, 0o600 if name == ".env" else 0o644)
        dirnames[:] = [d for d in dirnames if not (Path(dirpath) / d).is_symlink()]


def _export_snapshot(info: ls_server.ServerInfo, settings: Settings) -> None:
    """Make the running server write new files and folders (media/export/<project>/...)."""
    token = ls_server.load_credentials(settings).token

    def api(path: str, body: object) -> dict:
        req = urllib.request.Request(f"{info.url}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (loopback)
            return json.loads(resp.read() or b"{}")

    config = "<View><Text name='t' value='$text'/><Labels name='l' toName='t'><Label value='A'/></Labels></View>"
    project = api("/api/projects", {"title": "private state", "label_config": config})
    api(f"/api/projects/{project['id']}/import", [{"text": "a task"}])
    assert api(f"/api/projects/{project['id']}/exports", {})["status"] == "completed"


@pytest.mark.integration
def test_another_user_cannot_read_the_embedded_servers_data(shared_root: Path):
    assert as_other_user("ls", str(shared_root)).returncode == 0, "the root must be open to others, or this proves nothing"
    settings = sandbox.copy_template(shared_root, PROJECT_ROOT)
    state = settings.state_dir
    _loosen(state)  # a data folder made by an older version: start must tighten it
    info = ls_server.start_server(settings)
    try:
        _export_snapshot(info, settings)  # files and folders Label Studio makes while it runs (umask 077)
        data = ls_server.server_paths(settings).data
        for path in (data / "label_studio.sqlite3", state / "credentials.json", data / ".env"):
            assert path.is_file()
            assert_denied(path)
        assert_denied(state)
        snapshots = list((data / "media" / "export").rglob("*.json"))
        assert snapshots and all(as_other_user("cat", str(p)).returncode != 0 for p in snapshots)
        found = modes(state, skip=("label-studio-venv",))
        assert found["."] == "0o700" and found["label-studio-data"] == "0o700"
        # Django saves export snapshots through FileSystemStorage, which chmods them to FILE_UPLOAD_PERMISSIONS
        # (0o644) whatever the umask; they sit in 0700 folders, and the next start makes them 0600.
        loose = {rel: m for rel, m in owner_only(found, state).items() if not rel.startswith("label-studio-data/media/export/")
                 or (state / rel).is_dir()}
        assert loose == {}
    finally:
        ls_server.stop_server(settings)
    ls_server.start_server(settings, port=procs.free_port())  # the next start: all owner-only, snapshots too
    ls_server.stop_server(settings)
    assert owner_only(modes(state, skip=("label-studio-venv",)), state) == {}


@pytest.mark.integration
def test_the_test_template_is_owner_only():
    template = sandbox.migrated_template(PROJECT_ROOT)
    assert owner_only(modes(template.parent), template.parent) == {}  # test-template/ and everything in it


@pytest.mark.integration
def test_another_user_cannot_read_the_dashboards_logins(shared_root: Path):
    link_project_files(shared_root)
    settings = load_settings({"dashboard_port": procs.free_port()}, env={}, root=shared_root)
    assert ensure_users(settings)  # the first thing to create .annotate/ here
    assert oct(stat.S_IMODE(settings.state_dir.stat().st_mode)) == "0o700"
    os.chmod(settings.state_dir, 0o755)  # as an older version left it: start tightens it again
    info = start_dashboard(settings)
    try:
        for name in ("dashboard-users.json", "dashboard-secret", "dashboard.json", "dashboard.log"):
            assert_denied(settings.state_dir / name)
        assert owner_only(modes(settings.state_dir), settings.state_dir) == {}
    finally:
        assert stop_dashboard(settings) == info.pid


def test_private_writes_make_missing_folders_owner_only(tmp_path: Path):
    os.chmod(tmp_path, 0o755)
    write_private(tmp_path / "a" / ".annotate" / "secret", "x")
    assert [oct(stat.S_IMODE((tmp_path / p).stat().st_mode)) for p in ("a", "a/.annotate", "a/.annotate/secret")] \
        == ["0o700", "0o700", "0o600"]
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    assert make_private_dirs(shared) == shared and stat.S_IMODE(shared.stat().st_mode) == 0o755  # not ours to change


def test_securing_the_state_leaves_the_venv_and_what_links_point_to(tmp_path: Path):
    state, outside = tmp_path / ".annotate", tmp_path / "outside"
    program = state / "label-studio-venv" / "bin" / "python"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    os.chmod(program, 0o755)
    (state / "label-studio-data" / "media").mkdir(parents=True)
    (state / "label-studio-data" / "label_studio.sqlite3").write_text("token")
    outside.mkdir()
    (outside / "file").write_text("x")
    (state / "label-studio-data" / "link").symlink_to(outside, target_is_directory=True)
    for path in (state, state / "label-studio-data", state / "label-studio-data" / "media", outside):
        os.chmod(path, 0o755)
    ls_server.secure_state(ls_server.ServerPaths(state))
    assert stat.S_IMODE(program.stat().st_mode) == 0o755 and os.access(program, os.X_OK)
    assert stat.S_IMODE(outside.stat().st_mode) == 0o755 and stat.S_IMODE((outside / "file").stat().st_mode) == 0o644
    assert owner_only(modes(state, skip=("label-studio-venv",)), state) == {}
