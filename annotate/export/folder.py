"""Publishing an export folder atomically: build in a temp dir, rename, then swing the `latest` link."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

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
