"""Multi-step workflows that both the CLI and the web app call, by domain:

project.py       pre-annotate inputs, create or update the project, push, connect an ML backend
sync.py          pull (archive + tasks), what read commands read, the gold built from a pull or an archive
adjudication.py  open disagreements, recording a lead's decision on a span or a relation
demo.py          the main job: server, seeds pushed, dashboard started

Callers use `from annotate import pipeline` and the names below; tests patch a name in the module defining it.
"""

from __future__ import annotations

from .adjudication import decisions_file, open_disagreements, record_decision, record_relation_decision
from .demo import DemoResult, run_demo
from .project import (
    Progress,
    configure_project,
    connect_ml_backend,
    manifest_path,
    no_progress,
    open_project,
    preannotate_inputs,
    push,
)
from .sync import (
    Line,
    PullOutcome,
    PullResult,
    TaskSource,
    describe_source,
    export_archive,
    export_pulled,
    gold_counts,
    gold_lines,
    pull,
    pull_and_export,
    pull_lines,
    read_tasks,
    write_gold,
)

__all__ = [
    "DemoResult", "Line", "Progress", "PullOutcome", "PullResult", "TaskSource", "configure_project",
    "connect_ml_backend", "decisions_file", "describe_source", "export_archive", "export_pulled", "gold_counts",
    "gold_lines", "manifest_path", "no_progress", "open_disagreements", "open_project", "preannotate_inputs", "pull",
    "pull_and_export", "pull_lines", "push", "read_tasks", "record_decision",
    "record_relation_decision", "run_demo", "write_gold",
]
