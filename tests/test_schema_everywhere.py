"""Adding a label to guidelines/schema.toml (plus its guidelines section) is enough for it to appear everywhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from annotate.agreement import agreement_report
from annotate.config import load_settings
from annotate.export import export_gold
from annotate.guidelines import check_guidelines, load_guidelines
from annotate.labelstudio.convert import tasks_from_export
from annotate.labelstudio.labelconfig import build_label_config
from annotate.schema import load_schema

PROJECT = Path(__file__).resolve().parent.parent
WEAPON = '''
[[labels]]
name = "WEAPON"
description = "A weapon used in the event."
color = "#9467bd"
hotkey = "w"
model_labels = ["PRODUCT"]
'''
TEXT = "Rebels fired a Grad rocket at Idlib. Rebels fired a Grad rocket at Idlib again."


@pytest.fixture
def settings(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "guidelines", root / "guidelines")
    schema_file = root / "guidelines" / "schema.toml"
    text = schema_file.read_text(encoding="utf-8")
    first_relation = text.index("[[relations]]")
    schema_file.write_text(text[:first_relation] + WEAPON + "\n" + text[first_relation:], encoding="utf-8")
    guide = root / "guidelines" / "GUIDELINES.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n## WEAPON\n\nMark the weapon used.\n", encoding="utf-8")
    return load_settings(env={}, root=root)


def _export_rows(by: list[str]) -> list[dict]:
    start = TEXT.index("Grad rocket")
    span = {"id": "w1", "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + 11, "text": "Grad rocket", "labels": ["WEAPON"]}}
    return [{"id": 1, "data": {"text": TEXT, "doc_id": "w-doc"}, "predictions": [],
             "annotations": [{"id": k + 1, "completed_by": {"id": k + 1, "email": who}, "result": [span],
                              "lead_time": 10.0} for k, who in enumerate(by)]}]


def test_schema_reads_the_new_label(settings):
    schema = load_schema(settings.guidelines_dir)
    assert "WEAPON" in schema.label_names
    assert check_guidelines(load_guidelines(settings.guidelines_dir), schema) == []


def test_label_studio_config_offers_it_with_colour_and_hotkey(settings):
    config = build_label_config(load_schema(settings.guidelines_dir))
    assert '<Label value="WEAPON" background="#9467bd" hotkey="w"' in config


def test_preannotation_maps_base_model_labels_onto_it(settings):
    from annotate.preannotate import build_preannotator

    assert build_preannotator(settings).mapping["PRODUCT"] == "WEAPON"


def test_pulled_annotations_with_it_are_not_quarantined(settings):
    tasks, quarantine = tasks_from_export(_export_rows(["a@x.org"]), load_schema(settings.guidelines_dir))
    assert quarantine == [] and tasks[0].annotations[0].spans[0].label == "WEAPON"


def test_exports_and_agreement_carry_it(settings):
    schema = load_schema(settings.guidelines_dir)
    tasks, _ = tasks_from_export(_export_rows(["a@x.org", "b@x.org"]), schema)
    result = export_gold(tasks, settings, source="test")
    gold = [json.loads(line) for line in (result.folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [s["label"] for s in gold[0]["spans"]] == ["WEAPON"]
    assert "WEAPON" in (result.folder / "spans.csv").read_text(encoding="utf-8")
    assert "WEAPON" in (result.folder / "README.md").read_text(encoding="utf-8")
    assert "WEAPON" in agreement_report(tasks, schema, bootstrap=0)["labels"]


def test_dashboard_shows_it(settings):
    """The lead's pages list the new label: the document's spans, the agreement table and the documents filter."""
    from web_fixtures import login

    from annotate.web import create_app
    from annotate.web.users import ensure_users

    raw = settings.exports_dir / "raw"
    raw.mkdir(parents=True)
    (raw / "project-1-20260101T000000Z.json").write_text(json.dumps(_export_rows(["a@x.org", "b@x.org"])),
                                                         encoding="utf-8")
    password = ensure_users(settings)["lead"]
    app = create_app(settings, {"TESTING": True, "SECRET_KEY": "test", "REPORT_BOOTSTRAP": 0, "DATA_WAIT": True,
                                "REPORT_WAIT": True})
    client = app.test_client()
    assert login(client, "lead", password).status_code == 302
    for path in ("/documents/1", "/agreement", "/documents/"):
        page = client.get(path)
        assert page.status_code == 200 and "WEAPON" in page.get_data(as_text=True), path
