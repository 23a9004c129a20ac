"""Dashboard building blocks: text segments, SVG charts, logins, the serve command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from web_fixtures import LEAD, make_project

from annotate.cli import main
from annotate.config import Settings
from annotate.web import charts
from annotate.web.spans import Mark, segments
from annotate.web.users import check_login, ensure_users, reset_password


def test_segments_cut_at_every_boundary_with_nesting() -> None:
    text = "Government troops withdrew"
    outer, inner = Mark(0, 17, "ACTOR", "#f00"), Mark(0, 10, "ACTOR", "#f00", "diff")
    segs = segments(text, [inner, outer])
    assert [(s.text, [(m.start, m.end) for m in s.marks], [(m.start, m.end) for m in s.ends]) for s in segs] == [
        ("Government", [(0, 17), (0, 10)], [(0, 10)]),
        (" troops", [(0, 17)], [(0, 17)]),
        (" withdrew", [], []),
    ]
    assert [s.css for s in segs] == ["diff", "", ""]


def test_segments_of_text_without_spans_is_the_whole_text() -> None:
    assert [s.text for s in segments("abc", [])] == ["abc"]


def test_segments_rejoin_to_the_text() -> None:
    text = "Rebels seized Idlib on Tuesday."
    marks = [Mark(0, 6, "A", "#000"), Mark(14, 22, "L", "#000"), Mark(14, 19, "L", "#000"), Mark(7, 13, "O", "#000")]
    assert "".join(s.text for s in segments(text, marks)) == text


@pytest.mark.parametrize("chart", [
    lambda n: charts.heatmap([n, "b"], {(n, "b"): 0.5}, "t"),
    lambda n: charts.interval_bars([(n, 0.5, 0.4, 0.6)], "t"),
    lambda n: charts.stacked_bars([(n, {"x": 1})], ["x"], "t"),
    lambda n: charts.line_chart([(n, 3)], "t"),
])
def test_chart_text_is_escaped(chart) -> None:
    svg = str(chart("<script>x</script>"))
    assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg


def test_heatmap_is_symmetric_and_diagonal_is_one() -> None:
    svg = str(charts.heatmap(["a", "b"], {("a", "b"): 0.25}, "t"))
    assert svg.count("a × b: 0.25") == 1 and svg.count("b × a: 0.25") == 1
    assert "a × a: 1.00" in svg


@pytest.mark.parametrize(("value", "color"), [(0.0, "#e65a78"), (0.5, "#e6c878"), (1.0, "#50c878"), (-1, "#e65a78")])
def test_heatmap_ramp(value: float, color: str) -> None:
    assert charts._ramp(value) == color


def test_reset_password_replaces_the_old_one(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, leads=(LEAD,))
    old = ensure_users(settings)[LEAD]
    new = reset_password(settings, LEAD)
    assert check_login(settings, LEAD, new) and not check_login(settings, LEAD, old)


def test_default_login_without_configured_leads(tmp_path: Path) -> None:
    assert list(ensure_users(Settings(root=tmp_path))) == ["lead"]


def test_removed_lead_can_no_longer_log_in(tmp_path: Path) -> None:
    password = ensure_users(Settings(root=tmp_path, leads=(LEAD,)))[LEAD]
    assert not check_login(Settings(root=tmp_path, leads=("other@example.org",)), LEAD, password)


def test_serve_reset_password_prints_a_working_password(tmp_path: Path) -> None:
    settings = make_project(tmp_path / "p")
    (settings.root / "annotate.toml").write_text(f'leads = ["{LEAD}"]\n')
    result = CliRunner().invoke(main, ["--root", str(settings.root), "serve", "--reset-password", LEAD])
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert check_login(settings, LEAD, password)


def test_serve_reset_password_refuses_a_non_lead(tmp_path: Path) -> None:
    settings = make_project(tmp_path / "p")
    (settings.root / "annotate.toml").write_text(f'leads = ["{LEAD}"]\n')
    result = CliRunner().invoke(main, ["--root", str(settings.root), "serve", "--reset-password", "x@example.org"])
    assert result.exit_code == 1 and "'x@example.org' is not a lead" in result.output


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.org"])
def test_serve_refuses_a_public_host(tmp_path: Path, host: str) -> None:
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "serve", "--host", host])
    assert result.exit_code == 1 and "not a loopback address" in result.output
    assert not (tmp_path / ".annotate" / "dashboard-users.json").exists()


def test_serve_has_help_on_every_option() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    for option in ("--host", "--port", "--allow-remote", "--reset-password"):
        assert option in result.output


def test_the_login_limit_is_per_address_and_per_app(tmp_path: Path) -> None:
    from web_fixtures import APP_CONFIG, login

    from annotate.web import auth, create_app

    settings = make_project(tmp_path / "p")
    ensure_users(settings)
    app, other_app = create_app(settings, APP_CONFIG), create_app(settings, APP_CONFIG)
    client = app.test_client()
    assert [login(client, LEAD, "wrong").status_code for _ in range(auth.MAX_ATTEMPTS + 1)][-2:] == [401, 429]
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert login(elsewhere, LEAD, "wrong").status_code == 401  # another address has its own count
    assert login(other_app.test_client(), LEAD, "wrong").status_code == 401  # another app has its own limiter


def test_serve_answers_to_the_remote_host_it_listens_on(tmp_path: Path, monkeypatch) -> None:
    """`serve --host X --allow-remote` adds X to the Host names; a wildcard only warns (it names no host)."""
    from flask import Flask

    from annotate.cli import web as cli_web

    served: list[Flask] = []
    monkeypatch.setattr(cli_web, "port_is_free", lambda port, host: True)
    monkeypatch.setattr(Flask, "run", lambda app, **kwargs: served.append(app))
    settings = make_project(tmp_path / "p")
    for host in ("10.0.0.5", "0.0.0.0"):
        result = CliRunner().invoke(main, ["--root", str(settings.root), "serve", "--host", host, "--allow-remote"])
        assert result.exit_code == 0, result.output
    assert "10.0.0.5" in served[0].extensions["annotate.hosts"]
    assert served[1].extensions["annotate.hosts"] == {"127.0.0.1", "localhost", "[::1]"}
    assert "list the names it is reached by in allowed_hosts" in result.output
