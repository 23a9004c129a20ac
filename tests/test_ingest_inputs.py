"""Ingest of awkward inputs: lone surrogates, unreadable files and folders, broken CSV quoting,
bad furniture offsets, control characters in file names, and project-relative source paths."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotate.ingest.load import IngestReport, load_articles

GOOD = "Rebels shelled the town of Marea on Monday, a monitor said."


def ingest(*paths: Path | str, **kwargs) -> tuple[list, IngestReport]:
    report = IngestReport()
    return list(load_articles(paths, report=report, **kwargs)), report


# --- 1. lone surrogate escapes in JSON ---------------------------------------------------------

@pytest.mark.parametrize(("line", "field"), [
    (r'{"text": "Rebels \ud800 shelled Marea."}', "'text'"),
    (r'{"text": "Rebels shelled Marea.", "title": "Marea \udfff"}', "'title'"),
    (r'{"text": "Rebels shelled Marea.", "meta": {"tags": ["ok", "\udc80"]}}', "'meta.tags[1]'"),
    (r'{"text": "Rebels shelled Marea.", "\ud83d": "key"}', "a key of the record"),
])
def test_a_lone_surrogate_rejects_its_line_and_the_rest_goes_on(tmp_path: Path, line: str, field: str) -> None:
    path = tmp_path / "wire.jsonl"
    good = json.dumps({"text": GOOD})
    path.write_text(f"{good}\n{line}\n" + json.dumps({"text": GOOD + " Again."}) + "\n", encoding="utf-8")
    articles, report = ingest(path)
    assert [a.meta["line"] for a in articles] == [1, 3]
    (error,) = report.rejected
    message = str(error)
    assert message.startswith(f"{path}:2: ") and "\n" not in message
    assert field in message and "lone surrogate" in message
    for article in articles:  # what is accepted can be written out as UTF-8
        json.dumps(article.meta, ensure_ascii=False).encode("utf-8")


def test_a_surrogate_pair_escape_is_one_valid_character(tmp_path: Path) -> None:
    path = tmp_path / "emoji.jsonl"
    path.write_text(r'{"text": "Rebels shelled Marea \ud83d\ude00."}' + "\n", encoding="utf-8")
    (article,), report = ingest(path)
    assert report.rejected == [] and article.text == "Rebels shelled Marea \U0001f600."


# --- 2-4. unreadable files and folders --------------------------------------------------------
# Root reads a chmod-000 file, so as root the CLI runs under setpriv without CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH: the permission check is the kernel's, and the code path is the real one.

# Runs the CLI with spaCy swapped for a stand-in that returns each article with no spans.
PASS_THROUGH = """
import sys
import annotate.preannotate as preannotate
from annotate.cli import main
from annotate.records import Document

class PassThrough:
    model_version = "pass-through"

    def annotate(self, articles, processes=1, batch_size=32):
        return (Document(a.id, a.text, (), dict(a.meta)) for a in articles)

preannotate.build_preannotator = lambda *args, **kwargs: PassThrough()
main(sys.argv[1:], prog_name="annotate")
"""


def run_unprivileged(root: Path, *args: str, stand_in: bool = False) -> subprocess.CompletedProcess[str]:
    """`annotate --root ROOT ARGS` in a child process that file permissions apply to."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.fail("tests run as root need setpriv (util-linux) to drop the permission override")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    program = ["-c", PASS_THROUGH] if stand_in else ["-m", "annotate"]
    return subprocess.run([*prefix, sys.executable, *program, "--root", str(root), *args],
                          capture_output=True, text=True, timeout=120, cwd=root)


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths to chmod 000 for one test; their modes are restored afterwards so tmp_path can be removed."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        path.chmod(0o755)


def lock(locked: list[Path], path: Path) -> Path:
    path.chmod(0)
    locked.append(path)
    return path


def stories(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [json.loads(line)["meta"]["source_file"] for line in result.stdout.splitlines()]


def test_unreadable_file_in_a_folder_is_one_line_and_the_rest_is_ingested(tmp_path: Path, locked: list[Path]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("a.txt", "b.txt"):
        (inbox / name).write_text(f"{GOOD} {name}", encoding="utf-8")
    (inbox / "c.jsonl").write_text(json.dumps({"text": GOOD + " c"}) + "\n", encoding="utf-8")
    (inbox / "d.csv").write_text(f"text\n{GOOD} d\n", encoding="utf-8")
    (inbox / "e.txt").write_text(GOOD + " e", encoding="utf-8")
    for name in ("b.txt", "c.jsonl", "d.csv"):
        lock(locked, inbox / name)
    result = run_unprivileged(tmp_path, "ingest", "inbox")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert stories(result) == ["inbox/a.txt", "inbox/e.txt"]
    rejected = [line.strip() for line in result.stderr.splitlines() if line.startswith("  rejected:")]
    assert rejected == [f"rejected: inbox/{name}: cannot read: Permission denied"
                        for name in ("b.txt", "c.jsonl", "d.csv")]


def test_unreadable_file_named_on_the_command_line_does_not_stop_the_run(tmp_path: Path, locked: list[Path]) -> None:
    (tmp_path / "first.txt").write_text(GOOD + " first", encoding="utf-8")
    (tmp_path / "locked.txt").write_text(GOOD + " locked", encoding="utf-8")
    lock(locked, tmp_path / "locked.txt")
    (tmp_path / "last.txt").write_text(GOOD + " last", encoding="utf-8")
    result = run_unprivileged(tmp_path, "ingest", "first.txt", "locked.txt", "last.txt")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert stories(result) == ["first.txt", "last.txt"]
    assert "  rejected: locked.txt: cannot read: Permission denied\n" in result.stderr
    assert "1 input(s) rejected" in result.stderr


def test_preannotate_goes_on_past_an_unreadable_file_named_on_the_command_line(
        tmp_path: Path, locked: list[Path]) -> None:
    (tmp_path / "first.txt").write_text(GOOD + " first", encoding="utf-8")
    (tmp_path / "locked.txt").write_text(GOOD + " locked", encoding="utf-8")
    lock(locked, tmp_path / "locked.txt")
    result = run_unprivileged(tmp_path, "preannotate", "first.txt", "locked.txt", "--out", "pre.jsonl",
                              stand_in=True)
    assert result.returncode == 1, result.stderr
    assert "  rejected: locked.txt: cannot read: Permission denied\n" in result.stderr
    rows = [json.loads(line) for line in (tmp_path / "pre.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["meta"]["source_file"] for r in rows] == ["first.txt"]


def test_unreadable_sub_folder_is_reported_by_name(tmp_path: Path, locked: list[Path]) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "closed").mkdir(parents=True)
    (inbox / "closed" / "inside.txt").write_text(GOOD + " inside", encoding="utf-8")
    (inbox / "open.txt").write_text(GOOD + " open", encoding="utf-8")
    (inbox / "zz.txt").write_text(GOOD + " zz", encoding="utf-8")
    lock(locked, inbox / "closed")
    result = run_unprivileged(tmp_path, "ingest", "inbox")
    assert result.returncode == 1, result.stderr
    assert stories(result) == ["inbox/open.txt", "inbox/zz.txt"]
    rejected = [line.strip() for line in result.stderr.splitlines() if line.startswith("  rejected:")]
    assert rejected == ["rejected: inbox/closed: cannot read folder: Permission denied; nothing in it was read"]


# --- 5. CSV quoting ----------------------------------------------------------------------------

UNCLOSED_MID = ('id,text,url\n'
                'a,"Rebels shelled Marea on Monday.",https://a\n'
                'b,"An unclosed quote starts here,https://b\n'  # swallows row c in the csv module's default mode
                'c,"Government forces retook Arshaf on Tuesday.",https://c\n'
                'd,Air strikes hit the Bayan hospital in Aleppo.,https://d\n')
UNCLOSED_END = ('id,text,url\n'
                'a,"Rebels shelled Marea on Monday.",https://a\n'
                'b,"Government forces retook Arshaf on Tuesday.\nTwo days of clashes.",https://b\n'
                'c,"An unclosed quote at the end,https://c\n'
                'd,Air strikes hit the Bayan hospital in Aleppo.,https://d\n'
                'e,Shelling went on near Azaz.,https://e\n')


@pytest.mark.parametrize(("data", "ids", "lines", "line", "runs_to"), [
    (UNCLOSED_MID, ["a", "c", "d"], [2, 4, 5], 3, 4),
    (UNCLOSED_END, ["a", "b", "d", "e"], [2, 3, 6, 7], 5, 7),
])
def test_csv_unclosed_quote_rejects_its_record_and_the_rows_it_swallowed_go_through(
        tmp_path: Path, data: str, ids: list[str], lines: list[int], line: int, runs_to: int) -> None:
    path = tmp_path / "wire.csv"
    path.write_text(data, encoding="utf-8")
    articles, report = ingest(path)
    assert [a.id for a in articles] == ids
    assert all(a.text.startswith(("Rebels", "Government", "Air", "Shelling")) for a in articles)
    assert [a.meta["url"] for a in articles] == [f"https://{i}" for i in ids]
    (error,) = report.rejected
    assert (error.path, error.line) == (str(path), line)
    assert str(error).startswith(f"{path}:{line}: not valid CSV") and "\n" not in str(error)
    assert f"to line {runs_to}" in str(error) and "unclosed quote" in str(error)
    assert [a.meta["line"] for a in articles] == lines  # line numbers stay right after the re-read


@pytest.mark.parametrize(("row", "count"), [
    ("b,Rebels shelled Marea, a monitor said.,https://b", 4),  # an unquoted comma would cut the text
    ("b,Rebels shelled Marea.", 2),
])
def test_csv_row_with_the_wrong_number_of_fields_is_rejected(tmp_path: Path, row: str, count: int) -> None:
    path = tmp_path / "wire.csv"
    path.write_text(f'id,text,url\na,"{GOOD}",https://a\n{row}\nc,"{GOOD} Again.",https://c\n', encoding="utf-8")
    articles, report = ingest(path)
    assert [a.id for a in articles] == ["a", "c"]
    assert [str(e) for e in report.rejected] == [
        f"{path}:3: the row has {count} fields but the header has 3; check its quotes and commas"]


def test_csv_blank_lines_and_quoted_multiline_fields_still_read(tmp_path: Path) -> None:
    path = tmp_path / "wire.csv"
    path.write_text(f'id,text\n\na,"{GOOD}\nSecond line, with a comma."\n\nb,"{GOOD} b"\n', encoding="utf-8")
    articles, report = ingest(path)
    assert report.rejected == []
    assert [(a.id, a.meta["line"]) for a in articles] == [("a", 3), ("b", 6)]
    assert articles[0].text == f"{GOOD}\nSecond line, with a comma."


# --- 6. furniture offsets in our own output, read back ------------------------------------------

BODY = "Rebels shelled Marea.\nFour people died."  # 39 characters


@pytest.mark.parametrize(("furniture", "problem"), [
    ([{"kind": "copyright", "start": 60, "text": "\n© 2014"}], "out of range"),
    ([{"kind": "copyright", "start": -1, "text": "© 2014\n"}], "out of range"),
    ([{"kind": "byline", "start": 0, "text": "By AFP\n"}, {"kind": "credit", "start": 3, "text": "AFP\n"}],
     "overlaps"),
    ([{"kind": "credit", "start": 30, "text": "\nAFP"}, {"kind": "byline", "start": 0, "text": "By AFP\n"}],
     "not in increasing order"),
    ([{"kind": "credit", "start": 21, "text": ""}], "empty"),
    ([{"kind": "credit", "start": "21", "text": "\nAFP"}], "'start' must be an integer"),
    ([{"kind": "credit", "start": 21.5, "text": "\nAFP"}], "'start' must be an integer"),
    ([{"kind": "credit", "start": 21}], "'text'"),
])
def test_furniture_that_does_not_fit_the_text_is_rejected_by_file_and_line(
        tmp_path: Path, furniture: list[dict], problem: str) -> None:
    path = tmp_path / "articles.jsonl"
    good = {"id": "good", "text": BODY, "meta": {}, "furniture": [{"kind": "credit", "start": 21, "text": "\nAFP"}]}
    bad = {"id": "bad", "text": BODY + " Bad.", "meta": {}, "furniture": furniture}
    path.write_text("".join(json.dumps(r) + "\n" for r in (good, bad, {**good, "id": "also", "text": BODY + "!"})),
                    encoding="utf-8")
    articles, report = ingest(path)
    assert [a.id for a in articles] == ["good", "also"]
    assert articles[0].original_text() == "Rebels shelled Marea.\nAFP\nFour people died."
    (error,) = report.rejected
    assert str(error).startswith(f"{path}:2: 'furniture'") and problem in str(error), str(error)
    assert "\n" not in str(error)


def test_furniture_at_both_ends_of_the_text_fits(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    furniture = [{"kind": "breadcrumb", "start": 0, "text": "Home / News\n"},
                 {"kind": "copyright", "start": 12 + len(BODY), "text": "\n© 2014"}]
    path.write_text(json.dumps({"id": "x", "text": BODY, "meta": {}, "furniture": furniture}) + "\n", encoding="utf-8")
    (article,), report = ingest(path)
    assert report.rejected == []
    assert article.original_text() == f"Home / News\n{BODY}\n© 2014"


# --- 7. control characters in file names --------------------------------------------------------

@pytest.mark.parametrize(("name", "shown"), [
    ("bad\nname.txt", "bad\\nname.txt"),
    ("tab\tand\rcr.txt", "tab\\tand\\rcr.txt"),
    ("\x1b[31mred.txt", "\\x1b[31mred.txt"),
    ("line\u2028sep.txt", "line\\u2028sep.txt"),
    (b"caf\xe9.txt", "caf\\xe9.txt"),  # not UTF-8: the byte is shown, not a surrogate that cannot be printed
])
def test_file_names_are_printed_escaped_on_one_line(tmp_path: Path, name: str | bytes, shown: str) -> None:
    from click.testing import CliRunner

    from annotate.cli import main

    folder = tmp_path / "inbox"
    folder.mkdir()
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else name.encode())))
    path.write_bytes(b"")  # an empty file: rejected
    (folder / "story.txt").write_text(GOOD, encoding="utf-8")
    (folder / "z-copy.txt").write_text(GOOD, encoding="utf-8")
    copy = path.with_name(path.stem + "-copy.txt")
    copy.write_text(GOOD, encoding="utf-8")  # a duplicate: its name is in the report too
    for given in ([str(folder)], [str(path), str(folder / "story.txt"), str(copy)]):
        result = CliRunner().invoke(main, ["--root", str(tmp_path), "ingest", *given])
        assert result.exit_code == 1, result.output
        lines = result.stderr.splitlines()
        assert f"  rejected: {folder}/{shown}: empty file" in lines, lines
        assert any(line.startswith("  duplicate: ") and shown.removesuffix(".txt") + "-copy.txt" in line
                   for line in lines), lines
        assert len(lines) == 3 if len(given) == 3 else len(lines) == 4, lines
        for line in result.stdout_bytes.decode("utf-8").split("\n")[:-1]:  # the JSONL stays UTF-8
            assert json.loads(line)["meta"]["source_file"].encode("utf-8")


def test_an_input_error_keeps_the_raw_path_for_programs() -> None:
    from annotate.errors import InputError

    error = InputError("empty file", "a\nb.txt", 3)
    assert (str(error), error.path, error.line) == ("a\\nb.txt:3: empty file", "a\nb.txt", 3)
    assert str(InputError("bad header 'x\ny'", "f.csv")) == "f.csv: bad header 'x\\ny'"


# --- 9. source_file is relative to the project folder -------------------------------------------

@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "inbox" / "deep").mkdir(parents=True)
    (root / "inbox" / "a.txt").write_text(f"{GOOD} a", encoding="utf-8")
    (root / "inbox" / "deep" / "b.jsonl").write_text(json.dumps({"text": f"{GOOD} b"}) + "\n", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "c.csv").write_text(f'text\n"{GOOD} c"\n', encoding="utf-8")
    return root


EXPECTED_SOURCES = ["inbox/a.txt", "inbox/deep/b.jsonl", "../elsewhere/c.csv"]


def test_source_file_is_relative_to_the_root_for_absolute_inputs(project: Path) -> None:
    articles, report = ingest(project / "inbox", project.parent / "elsewhere", root=project)
    assert report.rejected == []
    assert [a.meta["source_file"] for a in articles] == EXPECTED_SOURCES


def test_source_file_is_relative_to_the_root_from_another_working_folder(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "inbox")
    articles, _ = ingest("a.txt", "deep", "../../elsewhere/c.csv", root=project)
    assert [a.meta["source_file"] for a in articles] == EXPECTED_SOURCES


def test_source_file_without_a_root_is_relative_to_the_working_folder(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    articles, _ = ingest(project / "inbox", project.parent / "elsewhere")
    assert [a.meta["source_file"] for a in articles] == EXPECTED_SOURCES


def test_cli_ingest_writes_source_files_relative_to_its_root(project: Path) -> None:
    from click.testing import CliRunner

    from annotate.cli import main

    result = CliRunner().invoke(main, ["--root", str(project), "ingest", str(project / "inbox"),
                                       str(project.parent / "elsewhere")])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["meta"]["source_file"] for line in result.stdout.splitlines()] == EXPECTED_SOURCES


def test_preannotate_inputs_passes_the_root(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import annotate.preannotate
    from annotate import pipeline
    from annotate.config import load_settings
    from annotate.records import Document

    class PassThrough:  # stands in for spaCy: this test is about the articles it is given
        model_version = "pass-through"

        def annotate(self, articles, processes=1):
            return (Document(a.id, a.text, (), dict(a.meta)) for a in articles)

    monkeypatch.setattr(annotate.preannotate, "build_preannotator", lambda *args, **kwargs: PassThrough())
    docs, report = pipeline.preannotate_inputs(load_settings({}, root=project),
                                               [project / "inbox", project.parent / "elsewhere"])
    assert [d.meta["source_file"] for d in docs] == EXPECTED_SOURCES


def test_cli_preannotate_writes_source_files_relative_to_its_root(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import annotate.preannotate.annotator
    from annotate.cli import main
    from annotate.records import Document

    class PassThrough:  # stands in for spaCy: this test is about the articles it is given
        model_version = "pass-through"

        def annotate(self, articles, processes=1, batch_size=32):
            return (Document(a.id, a.text, (), dict(a.meta)) for a in articles)

    monkeypatch.setattr(annotate.preannotate, "build_preannotator", lambda *args, **kwargs: PassThrough())
    out = tmp_path / "pre.jsonl"
    result = CliRunner().invoke(main, ["--root", str(project), "preannotate", str(project / "inbox"),
                                       str(project.parent / "elsewhere"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["meta"]["source_file"] for line in out.read_text().splitlines()] == EXPECTED_SOURCES


def test_the_duplicate_log_line_escapes_file_names(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("a.txt", "b\nc.txt"):
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    with caplog.at_level("INFO", logger="annotate.ingest.load"):
        ingest(tmp_path)
    (message,) = [r.getMessage() for r in caplog.records if "repeats" in r.getMessage()]
    assert message == f"{tmp_path}/b\\nc.txt repeats {tmp_path}/a.txt (id {message.split('(id ')[1][:16]}); skipped"
