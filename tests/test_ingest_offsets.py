"""The article text is the input as given minus the furniture: source maps, to_source, ids, round trips."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from annotate.errors import OffsetError
from annotate.ingest.load import IngestReport, article_to_dict, content_id, load_articles, normalise_text
from annotate.records import Article, Furniture, to_source

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

STORY = ["Rebels shelled the town of Marea on Monday, killing four people, a monitoring group said on Tuesday.",
         "Government forces retook the village of Arshaf after two days of clashes, state media reported.",
         "Air strikes hit the Bayan hospital in Aleppo on Wednesday, activists said.",
         "Ten dead in air strikes",
         "The army denied the claim."]
FURNITURE = ["Copyright © 2014 Example News. All Rights Reserved.", "Source: AFP", "Leave a comment: be kind",
             "Powered by WordPress", "READ SOME MORE"]


def ingest_bytes(tmp_path: Path, data: bytes, name: str = "story.txt") -> tuple[Article, IngestReport]:
    path = tmp_path / name
    path.write_bytes(data)
    report = IngestReport()
    articles = list(load_articles([path], report=report))
    assert report.rejected == [], report.summary()
    (article,) = articles
    return article, report


def messy_text(rng: random.Random) -> str:
    """A page with furniture, trailing spaces, \\r\\n / \\r / \\n line ends and blank lines at both ends."""
    lines = [""] * rng.randint(0, 3)
    if rng.random() < 0.5:
        lines.append("You are here")  # a header breadcrumb
    lines.append("Rebels seize the town of Marea in northern Syria")  # a headline
    for _ in range(rng.randint(3, 8)):
        lines.append(rng.choice(STORY + STORY + FURNITURE + ["", " "]) + rng.choice(["", "", " ", "  \t"]))
    lines.append(STORY[0])
    if rng.random() < 0.5:
        lines += ["Related Articles", STORY[1], STORY[2]]  # a tail
    lines += [rng.choice(FURNITURE)] * rng.randint(0, 1) + [" "] * rng.randint(0, 2)
    end = rng.choice(["\r\n", "\n", "\r", "\r\n"])
    return end.join(lines) + end * rng.randint(0, 2)


def removal_points(article: Article) -> set[int]:
    return {offset for offset, _length in article.source_map}


def check_maps_back(article: Article, given: str, rng: random.Random) -> None:
    body, points = article.text, removal_points(article)
    for i in range(len(body)):  # every character
        start, end = to_source(article.source_map, i, i + 1)
        assert given[start:end] == body[i], (i, body[max(0, i - 10):i + 10])
    for _ in range(300):  # spans of any length that no removal point cuts
        start = rng.randrange(len(body))
        stops = [p for p in sorted(points) if p > start]
        end = rng.randint(start + 1, min([len(body), *stops]))
        source_start, source_end = to_source(article.source_map, start, end)
        assert given[source_start:source_end] == body[start:end]


@pytest.mark.parametrize("seed", range(60))
def test_every_body_span_maps_back_to_the_input_as_given(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    given = messy_text(rng)
    bom = b"\xef\xbb\xbf" if seed % 3 == 0 else b""
    article, _ = ingest_bytes(tmp_path, bom + given.encode("utf-8"))
    assert article.original_text() == given  # the BOM is an encoding artefact, nothing else is lost
    assert article.id == content_id(normalise_text(given))
    check_maps_back(article, given, rng)
    if article.furniture:
        assert article.meta["source_map"] == [list(pair) for pair in article.source_map]
    else:
        assert "source_map" not in article.meta


@pytest.mark.parametrize("seed", range(20))
def test_spans_map_back_for_jsonl_and_csv_inputs(tmp_path: Path, seed: int) -> None:
    rng = random.Random(1000 + seed)
    given = messy_text(rng)
    if seed % 2:
        data = (json.dumps({"text": given, "id": "x"}) + "\n").encode("utf-8")
        name = "wire.jsonl"
    else:
        data = ("id,text\r\nx,\"" + given.replace('"', '""') + "\"\r\n").encode("utf-8")
        name = "wire.csv"
    article, _ = ingest_bytes(tmp_path, data, name)
    assert article.original_text() == given
    check_maps_back(article, given, rng)


def test_trailing_spaces_and_crlf_stay_and_the_edges_are_blank_furniture(tmp_path: Path) -> None:
    given = "\r\n \r\nRebels shelled Marea.  \r\nFour people died. \r\n\r\n"
    article, _ = ingest_bytes(tmp_path, given.encode("utf-8"))
    assert article.text == "Rebels shelled Marea.  \r\nFour people died."
    assert article.furniture == (Furniture("blank", 0, "\r\n \r\n"), Furniture("blank", 47, " \r\n\r\n"))
    assert article.source_map == ((0, 5), (42, 5))
    assert article.meta["source_map"] == [[0, 5], [42, 5]]
    assert article.original_text() == given


def test_first_line_indentation_is_kept_like_before(tmp_path: Path) -> None:
    article, _ = ingest_bytes(tmp_path, b"\n  Rebels shelled Marea.\nFour people died.")
    assert article.text == "  Rebels shelled Marea.\nFour people died."


def test_lone_cr_line_ends_still_find_furniture(tmp_path: Path) -> None:
    given = "\r".join([STORY[0], "Source: AFP", STORY[1], "Copyright © 2014 Example News"])
    article, _ = ingest_bytes(tmp_path, given.encode("utf-8"))
    assert article.text == f"{STORY[0]}\r{STORY[1]}"
    assert [f.kind for f in article.furniture] == ["credit", "copyright"]


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_crlf_trailing_spaces_and_bom_keep_the_id_and_the_text_up_to_line_ends(tmp_path: Path, prefix: str) -> None:
    clean_path = next(SEEDS.glob(f"{prefix}_*.txt"))
    clean = clean_path.read_text(encoding="utf-8")
    given = "\n\n" + clean.replace("\n", "  \r\n") + "\r\n"
    (a,) = load_articles([clean_path])
    b, _ = ingest_bytes(tmp_path, b"\xef\xbb\xbf" + given.encode("utf-8"))
    assert b.id == a.id  # ids are the hash of the normalised text, as before
    assert b.text.replace("  \r\n", "\n").removesuffix("  ") == a.text  # spaces before furniture stay too
    assert [(f.kind, normalise_text(f.text)) for f in b.furniture if f.kind != "blank"] == \
        [(f.kind, normalise_text(f.text)) for f in a.furniture]
    assert b.original_text() == given


def test_exact_duplicates_are_found_on_the_normalised_text(tmp_path: Path) -> None:
    clean = tmp_path / "clean.txt"
    messy = tmp_path / "messy.txt"
    clean.write_text(f"{STORY[0]}\n{STORY[1]}", encoding="utf-8")
    messy.write_bytes(f"\r\n{STORY[0]}  \r\n{STORY[1]}\r\n".encode())
    report = IngestReport()
    articles = list(load_articles([clean, messy], report=report))
    assert len(articles) == 1
    assert report.duplicates == [(articles[0].id, str(clean), str(messy))]


def test_clean_text_has_no_source_map(tmp_path: Path) -> None:
    article, _ = ingest_bytes(tmp_path, f"{STORY[0]}\n{STORY[1]}".encode())
    assert (article.furniture, article.source_map, "source_map" in article.meta) == ((), (), False)


def test_seed_text_is_unchanged_and_maps_back_to_the_seed_file() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        (article,) = load_articles([path])
        given = path.read_text(encoding="utf-8")
        assert article.original_text() == given
        assert article.meta["source_map"] == [list(pair) for pair in article.source_map] != []
        check_maps_back(article, given, random.Random(0))


def test_output_reads_back_with_its_source_map(tmp_path: Path) -> None:
    given = "\r\n".join(["You are here", STORY[0] + " ", STORY[1], "Source: AFP", STORY[2]]) + "\r\n"
    article, _ = ingest_bytes(tmp_path, given.encode("utf-8"))
    out = tmp_path / "articles.jsonl"
    row = article_to_dict(article)
    out.write_text(json.dumps(row) + "\n", encoding="utf-8")
    report = IngestReport()
    (again,) = load_articles([out], report=report)
    assert again == article and report.rejected == []
    row["meta"]["source_map"] = [[0, 1]]  # a stale map is recomputed from the furniture, not trusted
    out.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (again,) = load_articles([out])
    assert again.meta["source_map"] == [list(pair) for pair in article.source_map]


# --- to_source -----------------------------------------------------------------------------------

MAP = ((0, 3), (10, 4), (10, 2), (20, 5))  # two removals at 10 count as one of 6


@pytest.mark.parametrize(("start", "end", "expected"), [
    (0, 5, (3, 8)),  # a start at a removal point moves past the removed text
    (1, 10, (4, 13)),  # an end exactly at a removal point does not
    (10, 12, (19, 21)),
    (12, 20, (21, 29)),
    (20, 21, (34, 35)),
    (5, 15, (8, 24)),  # a span cut by a removal point covers the removed text too
    (7, 7, (10, 10)),
])
def test_to_source(start: int, end: int, expected: tuple[int, int]) -> None:
    assert to_source(MAP, start, end) == expected


def test_to_source_with_an_empty_map_is_the_identity() -> None:
    assert to_source((), 4, 9) == (4, 9)


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (5, 4)])
def test_to_source_refuses_a_span_that_is_not_one(start: int, end: int) -> None:
    with pytest.raises(OffsetError):
        to_source(MAP, start, end)


def test_a_span_cut_by_a_removal_maps_to_text_that_holds_the_removal(tmp_path: Path) -> None:
    given = "\n".join([STORY[0], "Source: AFP", STORY[1]])
    article, _ = ingest_bytes(tmp_path, given.encode())
    ((point, length),) = article.source_map
    start, end = to_source(article.source_map, point - 5, point + 5)
    assert given[start:end] == article.text[point - 5:point] + given[point:point + length] + article.text[point:point + 5]
