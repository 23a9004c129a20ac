"""Settings: flags > environment > annotate.toml > defaults, and every bad value named with where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate.config import load_settings
from annotate.errors import ConfigError


def test_defaults(tmp_path: Path):
    s = load_settings(env={}, root=tmp_path)
    assert (s.root, s.port, s.dashboard_port, s.external) == (tmp_path.resolve(), 8089, 5000, False)
    assert s.state_dir == tmp_path.resolve() / ".annotate"


def test_flags_beat_environment_beat_file(tmp_path: Path):
    (tmp_path / "annotate.toml").write_text('port = 9001\ndashboard_port = 6001\nproject_title = "from file"\n'
                                            'leads = ["a@x.org", "b@x.org"]\n', encoding="utf-8")
    env = {"ANNOTATE_PORT": "9002", "ANNOTATE_LEADS": "c@x.org, d@x.org"}
    s = load_settings({"port": 9003}, env=env, root=tmp_path)
    assert (s.port, s.dashboard_port, s.project_title, s.leads) == (9003, 6001, "from file", ("c@x.org", "d@x.org"))
    assert load_settings(env=env, root=tmp_path).port == 9002
    assert load_settings(env={}, root=tmp_path).leads == ("a@x.org", "b@x.org")


def test_external_server_needs_both_url_and_token(tmp_path: Path):
    token = "tok-5ecret-0123456789"
    s = load_settings(env={"LABEL_STUDIO_URL": "http://127.0.0.1:1", "LABEL_STUDIO_API_KEY": token}, root=tmp_path)
    assert s.external and s.label_studio_api_key == token and token not in repr(s)  # never shown in logs
    with pytest.raises(ConfigError, match="LABEL_STUDIO_API_KEY is not"):
        load_settings(env={"LABEL_STUDIO_URL": "http://127.0.0.1:1"}, root=tmp_path)
    with pytest.raises(ConfigError, match="must start with http"):
        load_settings(env={"LABEL_STUDIO_URL": "127.0.0.1:1", "LABEL_STUDIO_API_KEY": "t"}, root=tmp_path)


@pytest.mark.parametrize(("text", "message"), [
    ("port = 70000\n", "port must be between 1 and 65535, got 70000"),
    ("dashboard_port = 0\n", "dashboard_port must be between 1 and 65535, got 0"),
    ("port = 80.5\n", r"annotate.toml: port must be a int, got 80.5"),
    ("port = true\n", r"annotate.toml: port must be a int, got True"),
    ("prot = 1\n", "unknown setting.s. prot; valid: .*port"),
    ("port = \n", "not valid TOML"),
    ("overlap_percent = 101\n", "overlap_percent must be between 0 and 100"),
    ("split_near_duplicate_threshold = 0\n", r"split_near_duplicate_threshold must be in \(0, 1\] \(Jaccard .*got 0.0"),
    ("split_near_duplicate_threshold = 1.5\n", r"split_near_duplicate_threshold must be in \(0, 1\].*got 1.5"),
    ("split_near_duplicate_threshold = 'half'\n", "annotate.toml: split_near_duplicate_threshold must be a float, got 'half'"),
    ("near_duplicate_threshold = -0.1\n", r"near_duplicate_threshold must be in \(0, 1\].*got -0.1"),
])
def test_bad_file_values_name_the_setting_and_what_is_valid(tmp_path: Path, text: str, message: str):
    (tmp_path / "annotate.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(env={}, root=tmp_path)


def test_bad_environment_value_names_the_variable(tmp_path: Path):
    with pytest.raises(ConfigError, match="environment variable ANNOTATE_DASHBOARD_PORT: dashboard_port must be a "
                                          "int, got 'five'"):
        load_settings(env={"ANNOTATE_DASHBOARD_PORT": "five"}, root=tmp_path)
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings({"colour": "red"}, env={}, root=tmp_path)


@pytest.mark.parametrize("value", ["0", "-5"])
def test_batch_size_below_one_is_a_one_line_error(value, tmp_path):
    from click.testing import CliRunner

    from annotate.cli import main

    (tmp_path / "x.jsonl").write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "push", "--preannotated", str(tmp_path / "x.jsonl")],
                                env={"ANNOTATE_BATCH_SIZE": value})
    assert result.exit_code == 1
    assert f"batch_size must be at least 1 (tasks per import request), got {value}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("value", [0, -5])
def test_push_documents_refuses_a_bad_batch_size(value):
    from annotate.errors import ConfigError
    from annotate.labelstudio.push import push_documents

    with pytest.raises(ConfigError, match="batch_size must be at least 1"):
        push_documents(None, 1, [], batch_size=value)  # type: ignore[arg-type]


def test_split_near_duplicate_threshold_from_flag_environment_file_or_default(tmp_path: Path):
    assert load_settings(env={}, root=tmp_path).split_near_duplicate_threshold == 0.5
    (tmp_path / "annotate.toml").write_text("split_near_duplicate_threshold = 0.6\n", encoding="utf-8")
    assert load_settings(env={}, root=tmp_path).split_near_duplicate_threshold == 0.6
    env = {"ANNOTATE_SPLIT_NEAR_DUPLICATE_THRESHOLD": "0.8"}
    assert load_settings(env=env, root=tmp_path).split_near_duplicate_threshold == 0.8
    assert load_settings({"split_near_duplicate_threshold": 1}, env=env, root=tmp_path).split_near_duplicate_threshold == 1.0
    with pytest.raises(ConfigError, match="environment variable ANNOTATE_SPLIT_NEAR_DUPLICATE_THRESHOLD: "
                                          "split_near_duplicate_threshold must be a float, got 'x'"):
        load_settings(env={"ANNOTATE_SPLIT_NEAR_DUPLICATE_THRESHOLD": "x"}, root=tmp_path)
