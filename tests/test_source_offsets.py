"""Gold joins back to the user's corpus: every exported span's source_start/source_end select its text in the
input file as given (trailing spaces, \\r\\n and page furniture included), through a real Label Studio."""

from __future__ import annotations

import json
import uuid

import pandas as pd
import pytest

from annotate import pipeline
from annotate.config import load_settings
from annotate.export import export_gold
from annotate.ingest.load import load_articles
from annotate.labelstudio.client import connect
from annotate.records import Document

pytestmark = pytest.mark.integration

PAGE = ("News / Field Reports\r\n"
        "\r\n"
        "Rebels seize Kidal   \r\n"
        "By Reuters - Nov 01,2014 - Last updated at 10:00  \r\n"
        "\r\n"
        "KIDAL — Rebels of the MNLA seized the town of Kidal on Friday after clashes that killed 12 soldiers, "
        "the army said.   \r\n"
        "Photograph: John Smith/Reuters\r\n"
        "Residents fled towards Gao, where the army regrouped.\r\n"
        "\r\n"
        "Copyright (c) 2014 Site.com. All Rights Reserved\r\n")
WORDS = [("MNLA", "ACTOR"), ("Kidal", "LOCATION"), ("killed 12 soldiers", "OUTCOME"), ("Gao", "LOCATION"),
         ("the army", "ACTOR")]


def test_exported_spans_map_back_to_the_input_as_given(live_server, project_root):
    path = project_root / "inbox" / "story.txt"
    path.parent.mkdir()
    path.write_bytes(PAGE.encode("utf-8"))
    [article] = load_articles([path], root=project_root)
    assert article.furniture and "\r\n" in article.text, "the case needs furniture and \\r\\n in the body"
    settings = load_settings({"label_studio_url": live_server.url, "label_studio_api_key": live_server.token,
                              "project_title": f"source-{uuid.uuid4().hex[:6]}"}, env={}, root=project_root)
    _, report = pipeline.push(settings, [Document(article.id, article.text, (), article.meta)])
    conn = connect(settings)
    result = []
    for word, label in WORDS:
        start = article.text.rindex(word) if word == "Kidal" else article.text.index(word)
        result.append({"id": word[:3], "from_name": "label", "to_name": "text", "type": "labels",
                       "value": {"start": start, "end": start + len(word), "text": word, "labels": [label]}})
    conn.sdk.annotations.create(id=report.task_ids[article.id], completed_by=1, result=result)
    pulled = pipeline.pull(settings)
    exported = export_gold(pulled.tasks, settings, source="test")
    [row] = [json.loads(line) for line in (exported.folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    given = path.read_bytes().decode("utf-8")
    assert len(row["spans"]) == len(WORDS)
    for span in row["spans"]:
        assert given[span["source_start"]:span["source_end"]] == span["text"]
        assert row["text"][span["start"]:span["end"]] == span["text"]
    assert any(s["source_start"] != s["start"] for s in row["spans"]), "furniture before the spans shifts them"
    table = pd.read_parquet(exported.folder / "spans.parquet")
    assert all(given[a:b] == t for a, b, t in zip(table.source_start, table.source_end, table.text, strict=True))
    assert "meta_source_map" not in table.columns
