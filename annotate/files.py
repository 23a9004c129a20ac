"""Atomic file writes: a crash never leaves a half-written output (stdlib only).

Files the user shares (exports) are created with the modes the umask allows, like any file a shell command
writes (0644 in 0755 folders under the usual umask 022). Files under `.annotate/` hold credentials and
server state: they are written owner-only (0600) in owner-only folders (0700).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tomllib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import InputError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def umask() -> int:
    """The process umask (read by setting and restoring it; there is no other portable way)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def shared_mode(directory: bool = False) -> int:
    """The mode a new file (0666) or folder (0777) gets under the current umask."""
    return (0o777 if directory else 0o666) & ~umask()


def make_private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it owner-only (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def make_private_dirs(path: Path) -> Path:
    """Create `path` and any missing parents owner-only (0700); folders that already exist keep their modes."""
    missing = []
    folder = path
    while not os.path.lexists(folder):
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # made by someone else meanwhile: theirs to set
            continue
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is cut by the umask
    return path


def make_tree_private(root: Path, skip: Collection[str] = (), recursive: bool = True) -> None:
    """Make `root` 0700 and what is in it owner-only: folders 0700, files 0600 (only its own files when not
    `recursive`). Symlinks are not followed; entries of `root` named in `skip` are left as they are."""
    os.chmod(root, PRIVATE_DIR)
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == str(root):
            dirnames[:] = [] if not recursive else [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        for name, mode in [(d, PRIVATE_DIR) for d in dirnames] + [(f, PRIVATE_FILE) for f in filenames]:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                with contextlib.suppress(FileNotFoundError):  # a running server's journal comes and goes
                    os.chmod(path, mode)


@contextlib.contextmanager
def atomic_write(path: Path | str, mode: str = "w", *, private: bool = False, **kwargs: Any) -> Iterator[IO[Any]]:
    """Write to a temporary file beside `path`, fsync, then rename over it; on error, remove the temp.

    The file gets the umask's mode (0644 under umask 022), or 0600 when `private` (in 0700 folders if it makes any).
    """
    path = Path(path)
    if private:
        make_private_dirs(path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
        kwargs.setdefault("newline", "\n")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # created 0600
    try:
        if not private:
            os.fchmod(fd, shared_mode())
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_private(path: Path, text: str) -> None:
    """Atomically write a file that only its owner can read (mode 0600 from creation on, missing folders 0700)."""
    make_private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, PRIVATE_FILE)
    os.replace(tmp, path)


def read_toml(path: Path, missing: str = "not found") -> dict[str, Any]:
    """Parse a TOML file; InputError naming it when it is absent (`missing` says what belongs there) or not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(missing, str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", str(path)) from exc
