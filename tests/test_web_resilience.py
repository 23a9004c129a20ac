"""One broken input never takes every dashboard page down: the guidelines page reads only the guidelines."""

from __future__ import annotations

from web_fixtures import APP_CONFIG, LEAD, login, make_project

from annotate.web import create_app
from annotate.web.users import ensure_users


def test_guidelines_page_answers_when_the_archive_cannot_be_read(tmp_path):
    settings = make_project(tmp_path / "project", rows=[])
    archive = next((settings.exports_dir / "raw").glob("*.json"))
    archive.write_text('[{"id": 1, "data": {"text": "x"', encoding="utf-8")  # a truncated archive
    password = ensure_users(settings)[LEAD]
    client = create_app(settings, APP_CONFIG).test_client()
    assert login(client, LEAD, password).status_code == 302
    overview = client.get("/")
    assert overview.status_code == 400 and "truncated" in overview.get_data(as_text=True)
    page = client.get("/guidelines")
    assert page.status_code == 200 and "Annotation guidelines" in page.get_data(as_text=True)
