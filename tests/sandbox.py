"""Throwaway Label Studio servers for the tests and the benchmarks (test code, not the product), started from a migrated template (~4 s, not ~30 s).

A template data folder (migrated database, admin user and token) is made once per Label Studio version under
the project's .annotate/; each sandbox gets its own copy, its own free port and the project's server venv.
"""

from __future__ import annotations

import shutil
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


def migrated_template(project_root: Path) -> Path:
    """A migrated data folder with its credentials (made on first use, about 30 s)."""
    ls_server.install_server(load_settings(env={}, root=project_root))
    template = project_root / ".annotate" / "test-template" / ls_server.LABEL_STUDIO_VERSION
    # Its database holds a real admin token, and every sandbox copies its modes: owner-only, also if made before.
    make_tree_private(make_private_dir(template.parent))
    if (template / ".annotate" / "credentials.json").exists():
        return template
    building = template.with_name(template.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    _link_venv(building / ".annotate", project_root)
    settings = load_settings({"port": free_port()}, env={}, root=building)
    try:
        ls_server.start_server(settings)
    finally:
        ls_server.stop_server(settings)
    (building / ".annotate" / "label-studio-venv").unlink()
    (building / ".annotate" / "label-studio.log").unlink(missing_ok=True)
    building.rename(template)
    return template


def copy_template(root: Path, project_root: Path) -> Settings:
    """A fresh copy of the template under `root`, with a free port: settings for an embedded server not yet started."""
    shutil.copytree(migrated_template(project_root) / ".annotate", root / ".annotate")
    _link_venv(root / ".annotate", project_root)
    return load_settings({"port": free_port()}, env={}, root=root)


def start_sandbox(root: Path, project_root: Path) -> tuple[Settings, ls_server.ServerInfo]:
    """Start a Label Studio under `root` (embedded mode) from a fresh copy of the template; stop it by PID."""
    settings = copy_template(root, project_root)
    return settings, ls_server.start_server(settings)
