"""Ingest: normalisation, furniture removal on every seed, ids, duplicates, bad input, metadata, CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate.cli import main
from annotate.errors import InputError
from annotate.ingest.furniture import strip_furniture
from annotate.ingest.load import IngestReport, article_to_dict, load_articles, normalise_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data" / "ingest"


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def ingest(*paths: Path | str, **kwargs) -> tuple[list, IngestReport]:
    report = IngestReport()
    return list(load_articles(paths, report=report, **kwargs)), report


# --- normalisation -------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("\ufeffHeadline\nBody.", "Headline\nBody."),
    ("one\r\ntwo\r\nthree", "one\ntwo\nthree"),
    ("one\rtwo", "one\ntwo"),
    ("one  \t\ntwo \nthree\u00a0", "one\ntwo\nthree"),
    ("\n\nbody\n\n\n", "body"),
    ("\ufeffa \r\n\r\nb\r", "a\n\nb"),
])
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


def test_crlf_and_bom_file_gets_the_same_id_and_keeps_its_line_ends(tmp_path: Path) -> None:
    clean = seed("001").read_text(encoding="utf-8")
    messy = tmp_path / "messy.txt"
    messy.write_bytes(b"\xef\xbb\xbf" + clean.replace("\n", "  \r\n").encode("utf-8"))
    (a,), _ = ingest(seed("001"))
    (b,), _ = ingest(messy)
    assert b.id == a.id  # the id is the hash of the normalised text
    assert b.text != a.text and b.text.replace("  \r\n", "\n").removesuffix("  ") == a.text  # as given
    assert b.original_text() == clean.replace("\n", "  \r\n")  # the BOM is not text


# --- furniture on every seed ---------------------------------------------------------------------

SEED_FURNITURE = [
    ("000", "copyright", "Copyright © 2012 Naharnet.com. All Rights Reserved."),
    ("001", "breadcrumb", "Field Reports"),
    ("001", "comments", "Leave a comment: Comments represent their owners"),
    ("002", "caption", "Photograph: Abdalrhman Ismail/Reuters"),
    ("002", "promo", "READ SOME MORE"),
    ("002", "credit", "Agencies"),
    ("003", "credit", "Source: AFP"),
    ("003", "sidebar", "GMT 18:44 2018 Friday ,14 December"),
    ("003", "sidebar", "Yemen's warring sides agree on ceasefire in embattled Hodeida"),
    ("003", "sidebar", "117 voted against her"),
    ("003", "footer", "Maintained and developed by Arabs Today Group SAL."),
    ("003", "copyright", "All rights reserved to Arab Today Media Group 2021 ©"),
    ("003", "comments", "Send your comments"),
    ("003", "comments", "Your comment as a visitor"),
    ("004", "breadcrumb", "You are here"),
    ("004", "byline", "By Reuters - Nov 01,2014 - Last updated at Nov 01,2014"),
    ("004", "related", "Related Articles"),
    ("004", "related", "Al Qaeda-linked militants pressed an offensive Monday"),
    ("004", "related", "Others outright defected to the militants."),
]


@pytest.mark.parametrize(("prefix", "kind", "snippet"), SEED_FURNITURE)
def test_seed_furniture_is_removed_and_kept_aside(prefix: str, kind: str, snippet: str) -> None:
    (article,), _ = ingest(seed(prefix))
    assert snippet not in article.text
    assert any(f.kind == kind and snippet in f.text for f in article.furniture)


SEED_BODY = [
    ("000", "Jihadists on Friday withdrew from Saraqeb, their last bastion"),
    ("000", "Syria's nearly three-year war has killed more than 130,000 people"),
    ("001", "Syrian opposition militants ousted an Al-Qaeda-linked faction"),
    ("001", "ISIL detonated four car bombs against its opponents on Thursday alone"),
    ("002", "Islamic State withdraws from frontlines in northwest Syria"),  # headline
    ("002", "Sudden withdrawal points to the pressure Isis is feeling"),  # standfirst
    ("002", "It seems they (Islamic State) can't keep several fronts open"),  # after READ SOME MORE
    ("002", "Ten dead in air strikes\nAir strikes in rebel-held districts"),  # sub-heading stays
    ("003", "More than 170,000 people have been killed in Syria since the conflict began"),
    ("004", "Al Qaeda group seizes stronghold of Western-backed rebels"),
    ("004", "BEIRUT — Islamist militants affiliated to Al Qaeda seized"),
    ("004", "to defeat the ultra-hardline IS."),
]


@pytest.mark.parametrize(("prefix", "sentence"), SEED_BODY)
def test_seed_story_text_is_kept(prefix: str, sentence: str) -> None:
    (article,), _ = ingest(seed(prefix))
    assert sentence in article.text


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_original_text_round_trips_every_seed(prefix: str) -> None:
    (article,), _ = ingest(seed(prefix))
    assert article.original_text() == seed(prefix).read_text(encoding="utf-8")


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_text_has_no_blank_edges_or_gaps_left_by_removal(prefix: str) -> None:
    (article,), _ = ingest(seed(prefix))
    assert article.text == article.text.strip()
    assert "\n\n\n" not in article.text


def test_duplicated_headline_keeps_one_copy() -> None:
    (article,), _ = ingest(seed("001"))
    headline = "Militants push al-Qaeda affiliate from northwest stronghold"
    assert article.text.count(headline) == 1
    assert article.text.startswith(headline + "\n\nSyrian opposition")
    assert [f.kind for f in article.furniture if headline in f.text] == ["duplicate"]


def test_repeated_photo_caption_is_removed_entirely() -> None:
    (article,), _ = ingest(seed("002"))
    assert "al-Hallak" not in article.text
    (caption,) = [f for f in article.furniture if f.kind == "caption"]
    assert caption.text.count("Photograph: Abdalrhman Ismail/Reuters") == 2


def test_related_tail_is_everything_after_its_heading() -> None:
    (article,), _ = ingest(seed("004"))
    original = article.original_text()
    (related,) = [f for f in article.furniture if f.kind == "related"]
    assert related.start + len(related.text) == len(original)
    assert related.text.lstrip("\n").startswith("Related Articles\n")


# Lines from other sites (not in the seeds): the rules are patterns, not copied strings.
OTHER_SITE = [
    ("© 2023 Example News Ltd", "copyright"),
    ("Powered by WordPress", "footer"),
    ("Privacy Policy | Terms of Use", "footer"),
    ("12 Comments", "comments"),
    ("Staff and agencies", "credit"),
    ("(AFP)", "credit"),
    ("Reuters/AP", "credit"),
    ("Published: 14 March 2021 10:02 GMT", "byline"),
    ("A fighter walks past rubble in Idlib. (Photo: AFP)", "caption"),
    ("Read also: Turkey shells Kurdish positions near Afrin", "promo"),
    ("See more", "promo"),
]


@pytest.mark.parametrize(("line", "kind"), OTHER_SITE)
def test_furniture_rules_generalise(line: str, kind: str) -> None:
    body = "Rebels shelled the town of Marea on Monday, killing four people, a monitoring group said on Tuesday."
    text, furniture = strip_furniture(f"{body}\n{line}\n{body}")
    assert text == f"{body}\n{body}"
    assert [(f.kind, f.text.strip()) for f in furniture] == [(kind, line)]


@pytest.mark.parametrize("line", [
    "Sources said the attack killed five people.",
    "Reuters reported that the convoy was hit near Azaz.",
    "Related fighting left three dead in Aleppo.",
    "Read the statement issued by the army on Friday, which denied the claim.",
    "The photo: a burned truck, was shared widely.",
])
def test_story_lines_that_resemble_furniture_stay(line: str) -> None:
    body = "Rebels shelled the town of Marea on Monday, killing four people, a monitoring group said on Tuesday."
    text, furniture = strip_furniture(f"{body}\n{line}\n{body}")
    assert (text, furniture) == (f"{body}\n{line}\n{body}", ())


@pytest.mark.parametrize("stamps", [
    ["10:45 | Mon 3 April 2017", "09:12 | Sun 2 April 2017", "18:30 | Sat 1 April 2017"],  # stamp first
    ["- 3 April 2017, 10:45", "- 2 April 2017, 09:12", "- 1 April 2017, 18:30"],  # stamp last
])
def test_sidebar_headline_lists_with_other_stamp_formats(stamps: list[str]) -> None:
    body = "Rebels shelled the town of Marea on Monday, killing four people, a monitoring group said on Tuesday."
    heads = ["Army retakes Palmyra", "Talks resume in Geneva", "Aid convoy reaches Madaya"]
    lines = [f"{s} {h}" if stamps[0][0].isdigit() else f"{h} {s}" for s, h in zip(stamps, heads, strict=True)]
    text, furniture = strip_furniture("\n".join([body, *lines]))
    assert text == body
    assert [f.kind for f in furniture] == ["sidebar"]


def test_story_lines_with_times_are_not_a_sidebar() -> None:
    lines = ["At 10:30 on Friday the first shells hit the market, residents said, and the army denied it.",
             "By 11:15 on Friday the fighting had spread to the old city, where many families live.",
             "The ceasefire announced for 18:00 on Saturday did not hold, the monitor said later."]
    text, furniture = strip_furniture("\n".join(lines))
    assert furniture == ()


def test_breadcrumb_and_tail_rules_only_apply_where_they_belong() -> None:
    body = "Rebels shelled the town of Marea on Monday, killing four people, a monitoring group said on Tuesday."
    later = "Syria / Iraq"  # a sub-heading after the first paragraph is not a breadcrumb
    text, furniture = strip_furniture(f"Home › World › Middle East\n{body}\n{later}\n{body}")
    assert text == f"{body}\n{later}\n{body}"
    assert [f.kind for f in furniture] == ["breadcrumb"]


def test_related_heading_in_the_header_does_not_swallow_the_story() -> None:
    body = "Rebels shelled the town of Marea on Monday, killing four people, a monitoring group said on Tuesday."
    text, furniture = strip_furniture(f"Latest news\n{body}")
    assert text == f"Latest news\n{body}"
    assert furniture == ()


# --- ids, titles, duplicates ---------------------------------------------------------------------

def test_txt_id_is_sha256_of_normalised_text_before_furniture_removal() -> None:
    (article,), _ = ingest(seed("000"))
    raw = normalise_text(seed("000").read_text(encoding="utf-8"))
    assert article.id == hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16] == "4c081468cfdf62ad"


def test_ids_are_stable_across_runs() -> None:
    first, _ = ingest(SEEDS)
    second, _ = ingest(SEEDS)
    assert [a.id for a in first] == [a.id for a in second]
    assert len({a.id for a in first}) == 5


@pytest.mark.parametrize(("prefix", "title"), [
    ("000", None),  # starts with a sentence
    ("001", "Militants push al-Qaeda affiliate from northwest stronghold"),
    ("002", "Islamic State withdraws from frontlines in northwest Syria"),
    ("004", "Al Qaeda group seizes stronghold of Western-backed rebels in Syria’s Idlib region"),
])
def test_txt_title_from_a_headline_first_line(prefix: str, title: str | None) -> None:
    (article,), _ = ingest(seed(prefix), root=ROOT)
    assert article.meta.get("title") == title
    assert article.meta["source_file"] == f"seeds/{seed(prefix).name}"


def test_exact_duplicate_is_reported_and_yielded_once(tmp_path: Path) -> None:
    copy = tmp_path / "copy.txt"
    shutil.copy(seed("002"), copy)
    articles, report = ingest(seed("002"), copy)
    assert [a.id for a in articles] == ["288f19a1a370a882"]
    assert report.duplicates == [("288f19a1a370a882", str(seed("002")), str(copy))]
    assert report.rejected == []


def test_lightly_edited_seed_is_a_near_duplicate(tmp_path: Path) -> None:
    text = seed("002").read_text(encoding="utf-8")
    edited = tmp_path / "other-outlet.txt"
    edited.write_text(text.replace("on Wednesday", "on Wed.").replace("Agencies", "Reuters"), encoding="utf-8")
    articles, report = ingest(seed("002"), edited)
    assert len(articles) == 2 and report.duplicates == []
    ((id_a, id_b, similarity),) = report.near_duplicates
    assert (id_a, id_b) == (articles[0].id, articles[1].id)
    assert 0.7 <= similarity < 1.0


def test_same_story_with_different_furniture_has_similarity_one(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(seed("000").read_text(encoding="utf-8") + "\n© 2014 Another Outlet", encoding="utf-8")
    articles, report = ingest(seed("000"), page)
    assert report.duplicates == []
    assert report.near_duplicates == [("4c081468cfdf62ad", articles[1].id, 1.0)]


def test_distinct_seeds_are_not_near_duplicates() -> None:
    _, report = ingest(SEEDS)
    assert report.near_duplicates == []


def test_near_threshold_is_configurable(tmp_path: Path) -> None:
    text = seed("002").read_text(encoding="utf-8")
    trimmed = tmp_path / "trimmed.txt"  # the last paragraphs cut, as another outlet might (Jaccard about 0.8)
    trimmed.write_text(text[: int(len(text) * 0.85)], encoding="utf-8")
    _, strict = ingest(seed("002"), trimmed, near_threshold=0.95)
    _, loose = ingest(seed("002"), trimmed, near_threshold=0.6)
    assert strict.near_duplicates == []
    assert [s for _a, _b, s in loose.near_duplicates] == [pytest.approx(0.8, abs=0.1)]


def test_texts_without_words_are_not_near_duplicates(tmp_path: Path) -> None:
    # They share no word, so no shingle; ingest used to call any two of them near-duplicates (similarity 1.0).
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": "a", "text": "* * *"}\n{"id": "b", "text": "--- ---"}\n', encoding="utf-8")
    articles, report = ingest(rows)
    assert [a.id for a in articles] == ["a", "b"] and report.near_duplicates == []


# --- metadata ------------------------------------------------------------------------------------

def test_jsonl_metadata_travels_with_the_article() -> None:
    articles, report = ingest(DATA / "mixed.jsonl", root=ROOT)
    first = articles[0]
    assert first.id == "wire-1"
    assert first.meta == {"title": "Rebels shell Marea", "url": "https://example.org/a", "date": "2016-06-01",
                          "source": "Example Wire", "source_file": "tests/data/ingest/mixed.jsonl", "line": 1}
    last = articles[-1]
    assert last.meta["topic"] == "airstrike" and last.meta["line"] == 5
    assert last.id == hashlib.sha256(last.text.encode()).hexdigest()[:16]


def test_csv_metadata_ids_and_lines_with_a_configured_text_column() -> None:
    articles, report = ingest(DATA / "articles.csv", text_column="body", root=ROOT)
    assert report.rejected == []
    assert [a.id for a in articles][0] == "c-1"
    assert articles[0].text == "Fighting broke out near Azaz on Thursday, the Observatory said.\nTwo fighters died."
    assert articles[0].meta == {"headline": "Clashes in Azaz", "url": "https://example.org/c",
                                "source_file": "tests/data/ingest/articles.csv", "line": 2}
    assert articles[1].meta["line"] == 4  # the first record spans lines 2-3
    assert articles[1].id == hashlib.sha256(articles[1].text.encode()).hexdigest()[:16]


# --- bad input -----------------------------------------------------------------------------------

BAD_FILES = [
    ("empty.txt", b"", "empty file", None),
    ("blank.txt", b"  \r\n\n", "empty text", None),
    ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file", None),
    ("latin1.txt", "Déjà vu in Alep".encode("latin-1"), "not valid UTF-8", None),
    ("empty.jsonl", b"\n\n", "empty file", None),
    ("latin1.csv", "text\nok row\nD\xe9j\xe0 vu\n".encode("latin-1"), "not valid UTF-8", 3),
    ("empty.csv", b"", "empty file", None),
    ("binary.jsonl", b'{"text": "a"}\n\x00\x01\x02', "binary data", 2),
]


@pytest.mark.parametrize(("name", "data", "message", "line"), BAD_FILES)
def test_bad_file_is_rejected_by_name_and_the_batch_goes_on(tmp_path: Path, name: str, data: bytes, message: str,
                                                         line: int | None) -> None:
    bad = tmp_path / name
    bad.write_bytes(data)
    articles, report = ingest(bad, seed("000"))
    assert "4c081468cfdf62ad" in [a.id for a in articles]
    (error,) = report.rejected
    where = f"{bad}:{line}: " if line else f"{bad}: "
    assert str(error).startswith(where) and message in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize(("line", "message"), [
    (2, "not valid JSON"),
    (3, "no 'text' string (keys: title, url)"),
])
def test_bad_jsonl_lines_are_rejected_with_their_line(line: int, message: str) -> None:
    articles, report = ingest(DATA / "mixed.jsonl")
    assert [a.meta["line"] for a in articles] == [1, 5]
    errors = {e.line: str(e) for e in report.rejected}
    assert errors[line].startswith(f"{DATA / 'mixed.jsonl'}:{line}: ") and message in errors[line]


def test_csv_without_the_text_column_names_the_columns() -> None:
    articles, report = ingest(DATA / "no_text_column.csv", seed("000"))
    assert len(articles) == 1
    (error,) = report.rejected
    assert str(error) == (f"{DATA / 'no_text_column.csv'}:1: no column 'text' (columns: headline, content); "
                          "choose the text column with --text-column or csv_text_column")


def test_oversize_article_is_rejected_naming_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text(json.dumps({"id": "big", "text": "x" * 51}) + "\n" + json.dumps({"text": "small one"}) + "\n")
    articles, report = ingest(big, max_chars=50)
    assert [a.text for a in articles] == ["small one"]
    assert str(report.rejected[0]) == f"{big}:1: article is 51 characters, over the limit of 50 " \
                                      "(--max-chars / max_article_chars)"


def test_huge_txt_is_rejected_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 500)
    _, report = ingest(big, max_chars=100)
    assert "more than 100 characters" in str(report.rejected[0])


@pytest.mark.parametrize(("name", "message"), [
    ("missing.txt", "no such file or folder"),
    ("notes.docx", "unsupported file type '.docx'; valid: .txt, .jsonl, .csv"),
])
def test_missing_path_and_unsupported_type(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / name
    if name.endswith(".docx"):
        path.write_bytes(b"PK")
    articles, report = ingest(path, seed("000"))
    assert len(articles) == 1
    assert [str(e) for e in report.rejected] == [f"{path}: {message}"]


def test_folder_is_walked_sorted_and_rejects_other_extensions(tmp_path: Path) -> None:
    for prefix in ("003", "001"):
        shutil.copy(seed(prefix), tmp_path / seed(prefix).name)
    (tmp_path / "readme.md").write_text("notes")
    (tmp_path / ".hidden.txt").write_text("ignored")
    articles, report = ingest(tmp_path, root=tmp_path)
    assert [a.meta["source_file"] for a in articles] == [seed(p).name for p in ("001", "003")]
    assert [e.path for e in report.rejected] == [str(tmp_path / "readme.md")]


def test_one_id_for_two_texts_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ids.jsonl"
    path.write_text('{"id": "a", "text": "first text"}\n{"id": "a", "text": "second text"}\n')
    articles, report = ingest(path)
    assert [a.text for a in articles] == ["first text"]
    assert str(report.rejected[0]) == f"{path}:2: id 'a' is already used by a different text; ids must be unique"


def test_without_a_report_the_first_bad_input_raises_after_earlier_articles(tmp_path: Path) -> None:
    stream = load_articles([seed("000"), tmp_path / "missing.txt"])
    assert next(stream).id == "4c081468cfdf62ad"  # lazy: the good file comes out before the bad one is read
    with pytest.raises(InputError, match="missing.txt: no such file or folder"):
        next(stream)


# --- round trip and CLI --------------------------------------------------------------------------

def test_ingest_output_reads_back_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "articles.jsonl"
    articles, _ = ingest(SEEDS)
    out.write_text("".join(json.dumps(article_to_dict(a)) + "\n" for a in articles), encoding="utf-8")
    again, report = ingest(out)
    assert report.rejected == []
    assert again == articles


def test_read_articles_keeps_ids_meta_and_has_no_size_limit(tmp_path: Path) -> None:
    from annotate.ingest.load import read_articles

    out = tmp_path / "articles.jsonl"
    long_text = "Rebels shelled Marea. " * 6000  # 132,000 characters, over the default limit
    out.write_text(json.dumps({"id": "x", "text": long_text.strip(), "meta": {"source_file": "a.txt"},
                               "furniture": []}) + "\n", encoding="utf-8")
    (article,) = read_articles(out)
    assert (article.id, article.meta, len(article.text)) == ("x", {"source_file": "a.txt"}, 131_999)


def test_cli_writes_articles_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "articles.jsonl"
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "ingest", str(SEEDS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows][0] == "4c081468cfdf62ad" and len(rows) == 5
    assert set(rows[0]) == {"id", "text", "meta", "furniture"}
    assert rows[0]["furniture"][0]["kind"] == "copyright"
    assert "5 article(s) accepted, 0 input(s) rejected" in result.stderr


def test_cli_exits_1_after_writing_the_good_articles(tmp_path: Path) -> None:
    out = tmp_path / "articles.jsonl"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "ingest", str(seed("000")), str(bad),
                                       "--out", str(out)])
    assert result.exit_code == 1
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    assert f"rejected: {bad}: empty file" in result.stderr


def test_cli_text_column_and_max_chars_options(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "ingest", str(DATA / "articles.csv"),
                                       "--text-column", "body", "--max-chars", "70", "--out", str(out)])
    assert result.exit_code == 1  # the first record is 82 characters
    assert [json.loads(x)["text"] for x in out.read_text().splitlines()] == [
        "A strike hit a market in Idlib on Friday, killing six people."]
    assert "over the limit of 70" in result.stderr


@pytest.mark.parametrize(("name", "data"), [
    ("excel.csv", b"\xef\xbb\xbftext,url\r\nRebels took Azaz on Monday.,https://example.org/x\r\n"),
    ("bom.jsonl", b'\xef\xbb\xbf{"text": "Rebels took Azaz on Monday.", "url": "https://example.org/x"}\n'),
])
def test_a_bom_at_the_start_of_a_csv_or_jsonl_file_is_ignored(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    (article,), report = ingest(path)
    assert report.rejected == []
    assert (article.text, article.meta["url"]) == ("Rebels took Azaz on Monday.", "https://example.org/x")


def test_cli_writes_to_stdout_by_default_and_names_a_missing_input(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "ingest", str(seed("004")), str(missing)])
    assert result.exit_code == 1
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["id"] == "419028bd9962be3e"
    assert f"rejected: {missing}: no such file or folder" in result.stderr
