"""The one near-duplicate definition (annotate/ingest/neardup.py): shingles, signatures, bands, the index and the grouping."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from neardup_oracle import group_near_duplicates_naive

from annotate.config import Settings
from annotate.errors import ConfigError
from annotate.gold.split import assign_split
from annotate.ingest.neardup import (
    BINS,
    NearDuplicateIndex,
    bands,
    group_near_duplicates,
    jaccard,
    shingles,
    signature,
    similarity,
)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
WORDS = ["rebels", "army", "seized", "town", "village", "killed", "civilians", "withdrew", "province", "clashes",
         "near", "border", "troops", "militia", "shelling", "captured", "district", "officials", "said", "on"]


def article(seed: int, n: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def edited(text: str, share: float, seed: int) -> str:
    """`text` with about `share` of its words replaced (each replacement breaks up to five shingles)."""
    rng = random.Random(seed)
    return " ".join(f"x{rng.randrange(10**6)}" if rng.random() < share else w for w in text.split())


def seed_cuts() -> dict[str, str]:
    """Each seed article whole and cut to 90, 80 and 70% of its length: 6 near-duplicate pairs per seed."""
    texts = {}
    for path in SEEDS:
        text = path.read_text(encoding="utf-8")
        texts |= {f"{path.name[:3]}-{cut}": text[: len(text) * cut // 100] for cut in (100, 90, 80, 70)}
    return texts


# --- shingles ------------------------------------------------------------------------------------

def test_jaccard_of_shingles_is_hand_computable():
    # 8 words -> 4 five-word shingles each; the texts share the first 3 of 5 distinct shingles.
    a, b = shingles("a b c d e f g h"), shingles("a b c d e f g x")
    assert (len(a), len(b), jaccard(a, b)) == (4, 4, 3 / 5)


def test_shingles_ignore_case_and_punctuation():
    assert shingles("Rebels seized the town, on Monday!") == shingles("rebels SEIZED the town on monday")


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Rebels advance", "rebels advance!", 1.0),  # fewer words than a shingle: the whole text is one shingle
    ("Rebels advance", "Rebels advance on Azaz", 0.0),  # ... so a short text is no part of a longer one
    ("a b c d e", "a b c d e", 1.0),  # exactly one shingle's worth
    ("* * *", "--- ---", 0.0),  # no words: no shingles, nobody's near-duplicate (ingest said 1.0 before)
    ("", "", 0.0),
])
def test_short_texts(a: str, b: str, expected: float):
    assert jaccard(shingles(a), shingles(b)) == expected
    assert len(shingles(a)) <= 1
    found = NearDuplicateIndex(0.7)
    found.add("a", a)
    assert found.add("b", b) == ([("a", 1.0)] if expected == 1.0 else [])
    assert group_near_duplicates({"a": a, "b": b}, 0.7)["b"] == ("a" if expected == 1.0 else "b")


_PRINT = ("import json, sys; from annotate.ingest.neardup import shingles, signature; from annotate.gold.split import assign_split; "
          "texts = json.load(sys.stdin); print(json.dumps([sorted(shingles(t)) for t in texts.values()] "
          "+ [signature(shingles(t)).hex() for t in texts.values()] + [assign_split(texts, 0.3)]))")


def test_shingles_signatures_and_split_are_the_same_in_every_process():
    texts = {f"d{i}": article(i, 40) for i in range(12)} | {"copy": article(3, 40) + " Updated."}
    runs = set()
    for hash_seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", _PRINT], input=json.dumps(texts), capture_output=True,
                              text=True, env=env, cwd=ROOT, check=True)
        runs.add(done.stdout)
    assert len(runs) == 1
    here = [sorted(shingles(t)) for t in texts.values()] + [signature(shingles(t)).hex() for t in texts.values()]
    assert json.loads(runs.pop()) == [*here, assign_split(texts, 0.3)]  # and the same as in this process


# --- signature and estimate ---------------------------------------------------------------------

def test_identical_shingle_sets_have_identical_signatures():
    a = shingles(article(1))
    assert signature(a) == signature(shingles(article(1).upper())) and len(signature(a)) == 4 * BINS
    assert similarity(signature(a), signature(a)) == 1.0
    assert similarity(signature(a), signature(shingles(article(2)))) < 0.1


def test_estimate_tracks_the_exact_similarity_of_long_texts():
    texts = seed_cuts()
    sets = {k: shingles(t) for k, t in texts.items()}
    errors = [abs(similarity(signature(sets[a]), signature(sets[b])) - jaccard(sets[a], sets[b]))
              for a in texts for b in texts if a < b]
    assert max(errors) <= 0.15  # about two standard errors at 64 bins
    assert sum(errors) / len(errors) < 0.03  # unrelated articles: both near 0


@pytest.mark.parametrize(("threshold", "expected"), [(1.0, 1), (0.9, 6), (0.7, 14), (0.5, 32), (0.1, BINS // 2)])
def test_bands_bound_the_missed_pairs(threshold: float, expected: int):
    assert bands(threshold) == expected
    assert expected == BINS // 2 or (1 - threshold**2) ** expected <= 1e-4


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.01, float("nan")])
def test_threshold_outside_zero_one_is_refused(threshold: float):
    with pytest.raises(ConfigError, match=r"near-duplicate threshold must be in \(0, 1\]"):
        NearDuplicateIndex(threshold)
    with pytest.raises(ConfigError, match=r"near-duplicate threshold must be in \(0, 1\]"):
        group_near_duplicates({"a": "x"}, threshold)


# --- thresholds ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("threshold", "grouped"), [(0.6, True), (0.61, False), (0.59, True)])
def test_grouping_threshold_is_inclusive_on_the_exact_similarity(threshold: float, grouped: bool):
    a, b = "a b c d e f g h", "a b c d e f g x"  # Jaccard exactly 3/5
    assert group_near_duplicates({"a": a, "b": b}, threshold)["b"] == ("a" if grouped else "b")


def test_index_threshold_is_inclusive_on_the_estimate():
    a, b = article(5), edited(article(5), 0.02, 1)
    estimated = similarity(signature(shingles(a)), signature(shingles(b)))
    assert 0.5 < estimated < 1.0
    for threshold, found in ((estimated, True), (math.nextafter(estimated, 2.0), False)):
        index = NearDuplicateIndex(threshold)
        index.add("a", a)
        assert index.add("b", b) == ([("a", round(estimated, 3))] if found else [])


def test_similar_texts_are_found_and_dissimilar_ones_not():
    base = article(7)
    texts = {"base": base, "light": edited(base, 0.01, 1), "heavy": edited(base, 0.3, 2), "other": article(8)}
    sets = {k: shingles(t) for k, t in texts.items()}
    assert jaccard(sets["base"], sets["light"]) > 0.8 and jaccard(sets["base"], sets["heavy"]) < 0.2
    index = NearDuplicateIndex(0.7)
    found = {key: index.add(key, text) for key, text in texts.items()}
    assert [other for other, _ in found["light"]] == ["base"] and found["heavy"] == found["other"] == []
    assert group_near_duplicates(texts, 0.7) == {"base": "base", "heavy": "heavy", "light": "base", "other": "other"}


def test_grouping_is_transitive_and_named_by_the_smallest_id():
    base = article(3)
    texts = {"c": base, "b": edited(base, 0.03, 1), "a": edited(edited(base, 0.03, 1), 0.03, 2), "z": article(4)}
    assert group_near_duplicates(texts, 0.5) == {"a": "a", "b": "a", "c": "a", "z": "z"}
    assert group_near_duplicates(dict(reversed(list(texts.items()))), 0.5) == group_near_duplicates(texts, 0.5)


# One of its shingles hashes into the smallest 0.06%: the kind of shingle that, used alone as an index key
# (the split's bottom-k sketch did so), put every article carrying it into one bucket.
SIGN_OFF = "Reporting by staff in Beirut; editing by desk 1404."


def test_a_sign_off_every_article_carries_does_not_make_every_pair_a_candidate(monkeypatch):
    from annotate.ingest import neardup

    compared: list[int] = []
    monkeypatch.setattr(neardup, "jaccard", lambda a, b: compared.append(1) or jaccard(a, b))
    monkeypatch.setattr(neardup, "similarity", lambda a, b: compared.append(1) or similarity(a, b))
    texts = {f"d{i:03d}": article(i) + " " + SIGN_OFF for i in range(300)}
    assert len(set(group_near_duplicates(texts, 0.5).values())) == 300
    index = NearDuplicateIndex(0.7)
    assert not any(index.add(key, text) for key, text in texts.items())
    assert len(compared) < 300  # of 44,850 pairs, twice


# --- the index against full comparison -----------------------------------------------------------

def test_index_finds_every_pair_a_full_comparison_finds():
    texts = seed_cuts()
    sigs = {k: signature(shingles(t)) for k, t in texts.items()}
    keys = list(texts)
    expected = {(a, b) for i, a in enumerate(keys) for b in keys[i + 1:] if similarity(sigs[a], sigs[b]) >= 0.6}
    index = NearDuplicateIndex(0.6)
    found = {(other, key) for key in keys for other, _ in index.add(key, texts[key])}
    assert found == expected
    assert len(expected) == 30  # the 6 pairs among each seed's 4 cuts, and none across seeds


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7, 0.9])
def test_grouping_matches_the_all_pairs_oracle_around_the_threshold(threshold: float):
    # Copies edited by 0-12% of their words: Jaccard from 1 down to about 0.5, so many pairs near each threshold.
    texts = {f"d{i:03d}": article(i % 15) for i in range(15)}
    texts |= {f"e{i:03d}": edited(article(i % 15), 0.01 * (i % 13), i) for i in range(60)}
    assert group_near_duplicates(texts, threshold) == group_near_duplicates_naive(texts, threshold)
    assert len(set(group_near_duplicates(texts, threshold).values())) < len(texts)


# --- the two callers: one shingling, thresholds from the settings ---------------------------------

PAIR = {"a": "Rebels " + article(11), "b": "Rebels " + edited(article(11), 0.04, 2)}  # Jaccard 0.60


def test_pair_sits_between_the_two_default_thresholds():
    assert jaccard(shingles(PAIR["a"]), shingles(PAIR["b"])) == pytest.approx(0.60, abs=0.01)
    assert Settings.split_near_duplicate_threshold < 0.6 < Settings.near_duplicate_threshold


def test_ingest_and_split_use_the_one_shingling(monkeypatch, tmp_path: Path):
    import annotate.gold.split as split
    import annotate.ingest.load as ingest
    import annotate.ingest.neardup as neardup

    seen: list[str] = []
    monkeypatch.setattr(neardup, "shingles", lambda text: seen.append(text) or shingles(text))
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": k, "text": t}) + "\n" for k, t in PAIR.items()), encoding="utf-8")
    list(ingest.load_articles([rows], report=ingest.IngestReport()))
    assert seen == list(PAIR.values())
    split.assign_split(PAIR, 0.2)
    assert seen == [*PAIR.values(), *PAIR.values()]
    assert not any(hasattr(module, name) for module in (ingest, split) for name in ("shingles", "jaccard", "SHINGLE_WORDS"))


def test_callers_default_to_the_thresholds_named_in_the_settings():
    import inspect

    from annotate.ingest.load import load_articles

    assert inspect.signature(load_articles).parameters["near_threshold"].default == Settings.near_duplicate_threshold
    assert inspect.signature(assign_split).parameters["threshold"].default == Settings.split_near_duplicate_threshold
    assert (Settings.near_duplicate_threshold, Settings.split_near_duplicate_threshold) == (0.7, 0.5)


@pytest.mark.parametrize(("env", "reported"), [({}, 0), ({"ANNOTATE_NEAR_DUPLICATE_THRESHOLD": "0.55"}, 1)])
def test_ingest_threshold_setting_changes_what_ingest_reports(tmp_path: Path, env: dict, reported: int):
    from click.testing import CliRunner

    from annotate.cli import main

    rows, out = tmp_path / "rows.jsonl", tmp_path / "out.jsonl"
    rows.write_text("".join(json.dumps({"id": k, "text": t}) + "\n" for k, t in PAIR.items()), encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "ingest", str(rows), "--out", str(out), "--json"],
                                env=env)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["near_duplicates"]) == reported


@pytest.mark.parametrize(("env", "together"), [({}, True), ({"ANNOTATE_SPLIT_NEAR_DUPLICATE_THRESHOLD": "0.7"}, False)])
def test_split_threshold_setting_changes_the_split(tmp_path: Path, env: dict, together: bool):
    from annotate.config import load_settings

    settings = load_settings(env=env, root=tmp_path)
    sides = assign_split(PAIR, settings.dev_ratio, settings.split_near_duplicate_threshold)
    # One group stays on one side; two groups are sent to both, so a small dataset still gets a dev set.
    assert (sides["a"] == sides["b"]) is together


def test_export_split_follows_the_split_threshold_setting(tmp_path: Path):
    from gold_fixtures import ann, project, span, task

    from annotate.export import export_gold

    tasks = [task(n, [ann(n, "a@x", [span(0, 6, "ACTOR", text)], article=k)], text=text, article=k)
             for n, (k, text) in enumerate(PAIR.items(), 1)]
    strict = export_gold(tasks, project(tmp_path, split_near_duplicate_threshold=0.7), source="test")
    rows = [json.loads(line) for line in (strict.folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["split"] for r in rows} == {"train", "dev"}  # two groups: both sides (at 0.5 they are one group)
