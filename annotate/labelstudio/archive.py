"""The raw archives under exports/raw/: names, the newest one, stale temp files, quarantine files, retention.

Every pull writes one archive (unless nothing changed); gold builds and lead decisions name the archive they were
made from, and retention never removes one that is named (stdlib only).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from ..config import Settings
from ..files import atomic_write
from ..gold.decisions import DECISIONS_FILE
from .convert import Quarantined


def raw_dir(settings: Settings) -> Path:
    return settings.exports_dir / "raw"


def list_archives(settings: Settings, project_id: int | None = None) -> list[Path]:
    """Raw archives under exports/raw/, oldest first (of one project, when given)."""
    pattern = f"project-{project_id}-*.json" if project_id is not None else "project-*.json"
    files = [p for p in raw_dir(settings).glob(pattern) if not p.name.endswith(".quarantine.json")]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def archive_name(settings: Settings, project_id: int) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = raw_dir(settings) / f"project-{project_id}-{stamp}.json"
    n = 2
    while dest.exists():  # two pulls within one second
        dest = raw_dir(settings) / f"project-{project_id}-{stamp}-{n}.json"
        n += 1
    return dest


def remove_stale_temp(folder: Path) -> list[Path]:
    """Delete what killed pulls left behind (hidden *.tmp files); call it holding the pull lock."""
    removed = []
    for path in folder.glob(".*.tmp") if folder.exists() else ():
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def quarantine_path(archive: Path) -> Path:
    return archive.with_name(archive.stem + ".quarantine.jsonl")


def write_quarantine(archive: Path, quarantine: list[Quarantined]) -> Path | None:
    path = quarantine_path(archive)
    if not quarantine:
        path.unlink(missing_ok=True)
        return None
    with atomic_write(path) as handle:
        for item in quarantine:
            handle.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
    return path


_ARCHIVE_NAME = re.compile(r"project-\d+-[0-9TZ-]+\.json")
_PROJECT = re.compile(r"project-(\d+)-")


def archive_project(archive: Path) -> int | None:
    """The project id a raw archive's name carries (archive_name's `project-N-...`), None for another name."""
    found = _PROJECT.match(archive.name)
    return int(found.group(1)) if found else None


def referenced_archives(settings: Settings) -> set[str]:
    """Archive file names that a gold build (its manifest.json) or a lead decision names as its source."""
    names: set[str] = set()
    for manifest_file in (settings.exports_dir / "gold").glob("*/manifest.json"):
        try:
            names.update(_ARCHIVE_NAME.findall(manifest_file.read_text(encoding="utf-8")))
        except OSError:
            continue
    decisions = settings.exports_dir / DECISIONS_FILE
    if decisions.exists():
        names.update(_ARCHIVE_NAME.findall(decisions.read_text(encoding="utf-8", errors="replace")))
    return names


def prune_archives(settings: Settings) -> list[Path]:
    """Delete the oldest archives beyond `keep_archives` (0: keep all), never one a gold build or decision names."""
    if settings.keep_archives == 0:
        return []
    found = list_archives(settings)
    keep = set(found[-settings.keep_archives:]) if found else set()
    referenced = referenced_archives(settings)
    removed = []
    for path in found:
        if path in keep or path.name in referenced:
            continue
        path.unlink(missing_ok=True)
        quarantine_path(path).unlink(missing_ok=True)
        removed.append(path)
    return removed


def latest_raw_export(settings: Settings) -> Path | None:
    """The newest raw archive under exports/raw/, if any."""
    files = list_archives(settings)
    return files[-1] if files else None
