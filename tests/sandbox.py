"""Throwaway Label Studio servers for the tests and the benchmarks (test code, not the product), started from a migrated template (~4 s, not ~30 s).

A template data folder (migrated database, admin user and token) is made once per Label Studio version under
the project's .annotate/; each sandbox gets its own copy, its own free port and the project's server venv.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from annotate.config import Settings, load_settings
from annotate.files import make_private_dir, make_tree_private
from annotate.labelstudio import server as ls_server
from annotate.procs import free_port


def _link_venv(state: Path, project_root: Path) -> None:
    make_private_dir(state)
    link = state / "label-studio-venv"
    if not link.exists():
        link.symlink_to(project_root / ".annotate" / "label-studio-venv", target_is_directory=True)


def open_folder(prefix: str) -> Path:
    """A new folder under /tmp that other users may pass through (0755): a private PostgreSQL cluster runs as
    `postgres` when the tests run as root, and pytest's own folders (0700) would shut it out."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(path, 0o755)
    return path


def _build(building: Path, project_root: Path, database: str) -> None:
    """Start and stop a server under `building` once: migrations, admin user and token (and the cluster)."""
    _link_venv(building / ".annotate", project_root)
    settings = load_settings({"port": free_port(), "database": database}, env={}, root=building)
    try:
        ls_server.start_server(settings)
    finally:
        ls_server.stop_server(settings)
    (building / ".annotate" / "label-studio-venv").unlink()
    (building / ".annotate" / "label-studio.log").unlink(missing_ok=True)
    (building / ".annotate" / "postgres" / "postgres.log").unlink(missing_ok=True)


def migrated_template(project_root: Path, database: str = "sqlite") -> Path:
    """A migrated data folder with its credentials (made on first use, about 30 s); with database="postgresql" also
    a stopped, migrated private cluster (its copies are handed to `postgres` when a sandbox starts)."""
    ls_server.install_server(load_settings(env={}, root=project_root))
    name = ls_server.LABEL_STUDIO_VERSION + ("" if database == "sqlite" else f"-{database}")
    template = project_root / ".annotate" / "test-template" / name
    # Its database holds a real admin token, and every sandbox copies its modes: owner-only, also if made before.
    make_tree_private(make_private_dir(template.parent))
    if (template / ".annotate" / "credentials.json").exists():
        return template
    building = template.with_name(template.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    if database == "sqlite":
        _build(building, project_root, database)
    else:  # built where the cluster's user may reach it, then copied in
        outside = open_folder("annotate-template-")
        try:
            _build(outside / "t", project_root, database)
            shutil.copytree(outside / "t", building, symlinks=True)
        finally:
            shutil.rmtree(outside)
    building.rename(template)
    return template


def copy_template(root: Path, project_root: Path, database: str = "sqlite") -> Settings:
    """A fresh copy of the template under `root`, with a free port: settings for an embedded server not yet started."""
    shutil.copytree(migrated_template(project_root, database) / ".annotate", root / ".annotate", symlinks=True)
    _link_venv(root / ".annotate", project_root)
    return load_settings({"port": free_port(), "database": database}, env={}, root=root)


def start_sandbox(root: Path, project_root: Path, database: str = "sqlite") -> tuple[Settings, ls_server.ServerInfo]:
    """Start a Label Studio under `root` (embedded mode) from a fresh copy of the template; stop it by PID."""
    settings = copy_template(root, project_root, database)
    return settings, ls_server.start_server(settings)
