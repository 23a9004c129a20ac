"""`--json` for the commands that report: one JSON object on stdout, built from the report the text is built from.

Every object carries `"report_version": 1` (bumped when a key changes meaning or goes away; new keys may appear)
and `"command"`. Paths are strings, missing values null. Warnings stay on stderr.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..export.build import ExportResult
    from ..guidelines import Guidelines
    from ..ingest.load import IngestReport
    from ..labelstudio.project import ProjectRef
    from ..labelstudio.push import PushReport
    from ..labelstudio.server import ServerInfo
    from ..pipeline import PullResult
    from ..procs.dashboard import DashboardInfo
    from ..schema import Schema

REPORT_VERSION = 2  # 2: export's agreement is null, with agreement_reason, when it cannot be measured

JSON_OPTION = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object on stdout instead of text: report_version (2), command "
                                "and the keys listed above.")


def echo_json(command: str, body: dict[str, Any]) -> None:
    """Print the report as one line of JSON (sorted keys, so two runs diff cleanly)."""
    click.echo(json.dumps({"report_version": REPORT_VERSION, "command": command, **body}, sort_keys=True,
                          ensure_ascii=False, default=_plain))


def _plain(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value)


def push_json(ref: ProjectRef, pushed: PushReport, rejected: list[str]) -> dict[str, Any]:
    """push: project {id, title, url, created, changes}, created, skipped, predictions_added, recovered,
    model_version, kept_backend, duplicates, removed, kept_annotated, rejected."""
    version = pushed.model_version
    return {"project": {"id": ref.id, "title": ref.title, "url": ref.url, "created": ref.created,
                        "changes": [change.describe() for change in ref.changes]},
            "model_version": None if version is None else {"old": version.old, "new": version.new},
            "kept_backend": pushed.kept_backend, "created": pushed.created,
            "skipped": pushed.skipped, "predictions_added": pushed.predictions_added, "recovered": pushed.recovered,
            "duplicates": {k: list(v) for k, v in sorted(pushed.duplicates.items())}, "removed": list(pushed.removed),
            "kept_annotated": {k: list(v) for k, v in sorted(pushed.kept_annotated.items())}, "rejected": rejected}


def export_json(result: ExportResult | None) -> dict[str, Any] | None:
    """export (and pull's `gold`): folder, counts, agreement, agreement_reason, problems [{kind, where, message}]."""
    if result is None:
        return None
    return {"folder": str(result.folder), "counts": result.counts, "agreement": result.agreement,
            "agreement_reason": result.agreement_reason,
            "problems": [{"kind": p.kind, "where": p.where, "message": p.message} for p in result.problems]}


def pull_json(result: PullResult, gold: ExportResult | None) -> dict[str, Any]:
    """pull: project_id, archive, unchanged_since, tasks, annotations, drafts, missed/changed/deleted, incremental,
    fetched, removed, full_reason, quarantined, quarantine_file, gold (an export object, or null when none was written)."""
    stats = result.stats
    return {"project_id": result.project_id, "archive": str(stats.path), "unchanged_since": _path(stats.unchanged_since),
            "tasks": stats.tasks, "annotations": stats.annotations, "drafts": stats.drafts,
            "missed": list(stats.missed), "changed": list(stats.changed), "deleted": list(stats.deleted),
            "incremental": stats.fetched is not None, "fetched": list(stats.fetched or ()),
            "removed": list(stats.removed), "full_reason": stats.full_reason or None,
            "quarantined": [q.to_dict() for q in result.quarantine], "quarantine_file": _path(result.quarantine_path),
            "gold": export_json(gold)}


def status_json(info: ServerInfo | DashboardInfo | None, **extra: Any) -> dict[str, Any]:
    """server/dashboard status: running, url, pid, port, healthy, plus data (server) or log (dashboard)."""
    if info is None:
        return {"running": False, "url": None, "pid": None, "port": None, "healthy": False, **extra}
    fields = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(info).items()}
    fields.pop("data_dir", None)
    return {"running": True, **fields, **extra}


def guidelines_json(loaded: Guidelines, schema: Schema, html_path: Path | None) -> dict[str, Any]:
    """guidelines: path, guidelines_version, labels, consistent (always true: problems are an error), html."""
    return {"path": str(loaded.path), "guidelines_version": loaded.version, "labels": list(schema.label_names),
            "consistent": True, "html": _path(html_path)}


def ingest_json(report: IngestReport, out: str) -> dict[str, Any]:
    """ingest: out, accepted, rejected [message], duplicates [{id, first, duplicate}], near_duplicates
    [{a, b, similarity}]."""
    return {"out": out, "accepted": report.accepted, "rejected": [str(e) for e in report.rejected],
            "duplicates": [{"id": i, "first": f, "duplicate": d} for i, f, d in report.duplicates],
            "near_duplicates": [{"a": a, "b": b, "similarity": round(s, 4)} for a, b, s in report.near_duplicates]}
