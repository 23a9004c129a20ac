"""A password inside LABEL_STUDIO_URL never reaches a page, a message or a state file."""

from __future__ import annotations

from annotate.config import load_settings
from annotate.web import create_app


def test_dashboard_links_to_label_studio_without_the_password(project_root):
    settings = load_settings({"label_studio_url": "https://annotate:hunter2@ls.example.org:8443/ls/",
                              "label_studio_api_key": "k"}, env={}, root=project_root)
    app = create_app(settings, {"SECRET_KEY": "test", "TESTING": True})
    from annotate.web import context

    with app.app_context():
        assert context.label_studio_url() == "https://ls.example.org:8443/ls"


def test_settings_repr_hides_the_url_and_token(project_root):
    settings = load_settings({"label_studio_url": "http://u:hunter2@h", "label_studio_api_key": "tok-123"}, env={},
                             root=project_root)
    assert "hunter2" not in repr(settings) and "tok-123" not in repr(settings)
