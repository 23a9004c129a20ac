"""Publishing an export folder atomically: build in a temp dir, rename, then swing the `latest` link (or, for
`annotate export --out DIR`, put the build at DIR and leave `latest` alone)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import ExportError
from ..files import shared_mode

LATEST = "latest"


@contextlib.contextmanager
def staging(parent: Path) -> Iterator[Path]:
    """A temporary folder beside the published ones (same filesystem, so rename is atomic); removed on exit."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=parent))  # created 0700
    os.chmod(tmp, shared_mode(directory=True))  # a published export is shared like any folder the user makes
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def content_hash(folder: Path) -> str:
    """sha256 over the names and bytes of every file in `folder`, in name order (16 hex digits)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode("utf-8") + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def publish(tmp: Path, parent: Path, name: str, latest: bool = True) -> Path:
    """Rename the staged folder to `parent/name` (kept if that content is already there); point `latest` at it
    unless `latest` is False (a build kept for review only)."""
    final = parent / name
    if not final.exists():
        os.rename(tmp, final)
    if not latest:
        return final
    link_tmp = parent / f".{LATEST}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    # A relative link keeps working when the project folder is moved or mounted elsewhere.
    os.symlink(name, link_tmp)
    os.replace(link_tmp, parent / LATEST)
    return final


def is_export(path: Path) -> bool:
    """Whether `path` is a folder an export wrote: its manifest.json lists files and counts."""
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"files", "counts"} <= manifest.keys()


def check_target(out: Path, parent: Path) -> None:
    """Refuse an --out folder that is a file, lies among the content-addressed exports, or is neither empty nor a
    previous export (so nothing of the user's is ever replaced)."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out}: is a file; give a new or empty folder, or an earlier export's folder")
    if out.resolve().is_relative_to(parent.resolve()):
        raise ExportError(f"--out {out}: inside {parent}, which holds the content-addressed exports; choose a folder "
                          "outside it")
    if out.is_dir() and any(out.iterdir()) and not is_export(out):
        raise ExportError(f"--out {out}: not empty and not a previous export (no manifest.json with files and "
                          "counts); give a new or empty folder, or an earlier export's folder")


def publish_into(tmp: Path, out: Path) -> Path:
    """Put the staged folder at `out` (staged beside it), replacing an empty folder or a previous export there."""
    if out.is_dir() and any(out.iterdir()):
        aside = out.parent / f".{out.name}.replaced-{os.getpid()}"
        os.rename(out, aside)
        os.rename(tmp, out)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(tmp, out)  # an empty folder is replaced in one step
    return out
