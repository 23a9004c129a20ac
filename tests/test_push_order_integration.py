"""`annotate push --order uncertain` against a real Label Studio: the least sure document is imported first."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from annotate.cli import main
from annotate.labelstudio.client import connect
from annotate.labelstudio.project import find_project
from annotate.records import Document, Span

pytestmark = pytest.mark.integration

TEXT = "ISIL fighters withdrew from Saraqeb."


def _doc(doc_id: str, score: float) -> Document:
    return Document(doc_id, f"{TEXT} ({doc_id})", (Span(0, 4, "ACTOR", "ISIL", score, "model"),), {}, "v1")


@pytest.mark.parametrize(("order", "expected"), [("uncertain", ["unsure", "middle", "sure"]),
                                                 ("input", ["sure", "unsure", "middle"])])
def test_push_imports_in_the_requested_order(live_server, project_root, order, expected):
    (project_root / "annotate.toml").write_text(f'project_title = "order-{order}"\n', encoding="utf-8")
    docs = project_root / "pre.jsonl"
    docs.write_text("".join(json.dumps(d.to_dict()) + "\n"
                            for d in [_doc("sure", 0.98), _doc("unsure", 0.31), _doc("middle", 0.6)]), encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_root), "--url", live_server.url, "--api-key",
                                       live_server.token, "push", "--preannotated", str(docs), "--order", order])
    assert result.exit_code == 0, result.output
    settings = live_server.settings(root=project_root)
    conn = connect(settings)
    project_id = find_project(conn, settings)
    tasks = sorted(conn.sdk.tasks.list(project=project_id), key=lambda t: t.id)
    assert [t.data["doc_id"] for t in tasks] == expected
