"""Pre-annotation rules on blank pipelines and hand-parsed Docs: loading, matching, resolution, OUTCOME."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import spacy
from preannotate_fixtures import PROJECT_ROOT, copy_guidelines, parsed

from annotate.errors import InputError
from annotate.preannotate.matchers import RuleMatcher, model_candidates, reporting_sources
from annotate.preannotate.model import model_version
from annotate.preannotate.outcome import OutcomeFinder
from annotate.preannotate.resolve import Candidate, clean, extend_names, propagate, resolve
from annotate.preannotate.rules import load_rules
from annotate.schema import load_schema

LABELS = ("ACTOR", "LOCATION", "OUTCOME")


@pytest.fixture(scope="module")
def rules():
    return load_rules(PROJECT_ROOT / "guidelines", LABELS)


@pytest.fixture(scope="module")
def phrase_rules(rules):
    """Only the phrase-list rules: token patterns on POS/DEP need a parsed Doc."""
    return dataclasses.replace(rules, patterns=tuple(r for r in rules.patterns if r.phrases))


@pytest.fixture(scope="module")
def blank():
    return spacy.blank("en")


def write_rules(root: Path, lines: list[dict], lexicon: str = '[lists]\nheads = ["front", "army"]\n') -> Path:
    folder = root / "rules"
    folder.mkdir(parents=True)
    (folder / "lexicon.toml").write_text(lexicon)
    (folder / "x.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    return root


# --- loading -----------------------------------------------------------------------------------------------

def test_lexicon_reference_expands_to_the_list(tmp_path: Path) -> None:
    root = write_rules(tmp_path, [{"id": "a", "label": "ACTOR", "pattern": [{"LOWER": {"IN": "@heads"}}]}])
    rule = load_rules(root, LABELS).patterns[0]
    assert rule.pattern == ({"LOWER": {"IN": ["army", "front"]}},)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "a", "label": "PLACE", "pattern": [{"LOWER": "x"}]}, "valid labels: ACTOR, LOCATION, OUTCOME, SOURCE"),
        ({"id": "a", "label": "ACTOR", "pattern": [{"LOWER": {"IN": "@nope"}}]}, "unknown word list '@nope'"),
        ({"id": "a", "label": "ACTOR", "pattern": [{"LOWER": "x"}], "span": [0, 3]}, "span"),
        ({"label": "ACTOR", "phrases": ["x"]}, "needs an `id`"),
    ],
)
def test_bad_rule_names_file_and_line(tmp_path: Path, row: dict, message: str) -> None:
    root = write_rules(tmp_path, [{"id": "ok", "label": "ACTOR", "phrases": ["y"]}, row])
    with pytest.raises(InputError, match=r"x\.jsonl:2") as info:
        load_rules(root, LABELS)
    assert message in str(info.value)


def test_invalid_spacy_pattern_is_an_input_error(tmp_path: Path, blank) -> None:
    root = write_rules(tmp_path, [{"id": "bad", "label": "ACTOR", "pattern": [{"LOWR": "x"}]}])
    with pytest.raises(InputError, match=r"rule 'bad' is not a valid spaCy pattern"):
        RuleMatcher(blank, load_rules(root, LABELS))


def test_missing_rules_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="rules folder not found"):
        load_rules(tmp_path, LABELS)


def test_model_version_changes_when_a_rule_file_changes(tmp_path: Path, blank) -> None:
    root = copy_guidelines(tmp_path)
    before = model_version(blank, load_rules(root / "guidelines", LABELS).digest, "{}")
    lexicon = root / "guidelines" / "rules" / "lexicon.toml"
    lexicon.write_text(lexicon.read_text().replace('"brigade",', '"brigade", "squadron",'))
    after = model_version(blank, load_rules(root / "guidelines", LABELS).digest, "{}")
    assert before != after
    assert before.startswith("rules-") and before.endswith("+en_pipeline-0.0.0") and len(before.split("+")[0]) == 14


@pytest.mark.parametrize(("name", "changes"), [("events.toml", False), ("relations.toml", True)])
def test_model_version_follows_only_the_files_pre_annotation_reads(tmp_path: Path, blank, name: str,
                                                                    changes: bool) -> None:
    # events.toml is the export's lexicon (annotate/events/lexicon.py): editing it changes no prediction.
    root = copy_guidelines(tmp_path)
    before = model_version(blank, load_rules(root / "guidelines", LABELS).digest, "{}")
    path = root / "guidelines" / "rules" / name
    path.write_text(path.read_text() + "\n# an edit\n")
    after = model_version(blank, load_rules(root / "guidelines", LABELS).digest, "{}")
    assert (before != after) is changes


def test_model_version_changes_with_the_label_mapping(rules, blank) -> None:
    assert model_version(blank, rules.digest, '{"ORG": "ACTOR"}') != model_version(blank, rules.digest, "{}")


# --- matching on blank pipelines ----------------------------------------------------------------------------

def test_phrase_rules_case_sensitive_acronym_not_the_verb(phrase_rules, blank) -> None:
    doc = blank("IS fighters said it is over; ISIL retreated.")
    found = {(doc[c.start:c.end].text, c.label, c.source) for c in RuleMatcher(blank, phrase_rules)(doc)}
    assert ("IS", "ACTOR", "rule:actor_named_acronym") in found
    assert ("ISIL", "ACTOR", "rule:actor_named_acronym") in found
    assert not any(text == "is" for text, _, _ in found)


def test_span_picks_only_the_name_after_place_noun(tmp_path: Path, blank) -> None:
    row = {"id": "loc", "label": "LOCATION", "span": [2, 2],
           "pattern": [{"LOWER": "village"}, {"LOWER": "of"}, {"IS_TITLE": True, "OP": "+"}]}
    root = write_rules(tmp_path, [row])
    doc = blank("They entered the village of Deir Foo yesterday")
    cands = RuleMatcher(blank, load_rules(root, LABELS))(doc)
    assert [(doc[c.start:c.end].text, c.label, c.source) for c in cands] == [("Deir Foo", "LOCATION", "rule:loc")]


@pytest.mark.parametrize("agency", ["Reuters", "AFP", "Associated Press", "Xinhua"])
def test_news_agencies_are_sources(phrase_rules, blank, agency: str) -> None:
    doc = blank(f"Rebels took the hill, {agency} reported.")
    labels = {doc[c.start:c.end].text: c.label for c in RuleMatcher(blank, phrase_rules)(doc)}
    assert labels[agency] == "SOURCE"


# --- resolution -------------------------------------------------------------------------------------------

def test_resolve_prefers_score_then_length() -> None:
    cands = [Candidate(0, 2, "ACTOR", 0.5, "model:ORG"), Candidate(0, 1, "LOCATION", 0.85, "rule:loc"),
             Candidate(1, 4, "ACTOR", 0.8, "rule:a"), Candidate(1, 3, "ACTOR", 0.8, "rule:b")]
    assert resolve(cands) == [Candidate(0, 1, "LOCATION", 0.85, "rule:loc"), Candidate(1, 4, "ACTOR", 0.8, "rule:a")]


def test_source_blocks_model_actor() -> None:
    cands = [Candidate(3, 8, "ACTOR", 0.5, "model:ORG"), Candidate(2, 8, "SOURCE", 0.9, "rule:source_head")]
    assert [c.label for c in resolve(cands)] == ["SOURCE"]


def test_clean_trims_determiner_and_drops_attribute(rules) -> None:
    doc = parsed(["the", "Britain", "-", "based", "monitor", "and", "the", "Islamic", "Front"],
                 ["DET", "PROPN", "PUNCT", "VERB", "NOUN", "CCONJ", "DET", "PROPN", "PROPN"],
                 ["det", "npadvmod", "punct", "amod", "ROOT", "cc", "det", "compound", "conj"],
                 [4, 3, 3, 4, 4, 4, 8, 8, 4])
    suffixes = rules.words("attribute_suffixes")
    assert clean(doc, Candidate(0, 2, "LOCATION", 0.5, "model:GPE"), suffixes) is None  # "Britain-based"
    assert clean(doc, Candidate(6, 9, "ACTOR", 0.5, "model:ORG"), suffixes) == Candidate(7, 9, "ACTOR", 0.5, "model:ORG")


def test_propagate_repeats_rule_names_and_acronyms_but_not_common_nouns() -> None:
    words = ["the", "Zorg", "Forces", "(", "ZF", ")", "left", "Kafr", "Zed", ";", "ZF", "and", "rebels",
             "hit", "Kafr", "Zed", "rebels"]
    pos = ["DET", "PROPN", "PROPN", "PUNCT", "PROPN", "PUNCT", "VERB", "PROPN", "PROPN", "PUNCT", "PROPN", "CCONJ",
           "NOUN", "VERB", "PROPN", "PROPN", "NOUN"]
    doc = parsed(words, pos, ["dep"] * len(words), list(range(len(words))))
    kept = [Candidate(1, 3, "ACTOR", 0.8, "rule:actor_group_head"), Candidate(7, 9, "LOCATION", 0.85, "rule:loc"),
            Candidate(12, 13, "ACTOR", 0.8, "rule:actor_group_head")]
    found = {(doc[c.start:c.end].text, c.start, c.label) for c in propagate(doc, kept)}
    assert ("ZF", 4, "ACTOR") in found and ("ZF", 10, "ACTOR") in found
    assert ("Kafr Zed", 14, "LOCATION") in found
    assert not any(text == "rebels" for text, _, _ in found)


def test_propagate_skips_names_with_two_labels() -> None:
    doc = parsed(["Marea", "and", "Marea", "and", "Marea"], ["PROPN", "CCONJ", "PROPN", "CCONJ", "PROPN"],
                 ["ROOT", "cc", "conj", "cc", "conj"], [0, 0, 0, 2, 2])
    kept = [Candidate(0, 1, "LOCATION", 0.85, "rule:l"), Candidate(2, 3, "ACTOR", 0.8, "rule:a")]
    assert propagate(doc, kept) == []


def test_extend_names_over_capitalised_group_head(rules) -> None:
    doc = parsed(["Al", "Nusra", "Front", "fighters", "left"], ["PROPN", "PROPN", "PROPN", "NOUN", "VERB"],
                 ["compound", "compound", "compound", "nsubj", "ROOT"], [2, 2, 3, 4, 4])
    heads = rules.words("group_heads") | rules.words("weak_group_heads")
    out = extend_names(doc, [Candidate(0, 2, "ACTOR", 0.95, "rule:actor_named_group")], heads)
    assert out == [Candidate(0, 3, "ACTOR", 0.95, "rule:actor_named_group")]  # lower-case "fighters" not taken


def test_model_mapping_skips_nationality_adjective_and_unmapped_labels() -> None:
    doc = parsed(["Syrian", "rebels", "and", "Islamists", "met", "Monday"],
                 ["ADJ", "NOUN", "CCONJ", "PROPN", "VERB", "PROPN"],
                 ["amod", "nsubj", "cc", "conj", "ROOT", "npadvmod"], [1, 4, 1, 1, 4, 4],
                 ents=["B-NORP", "O", "O", "B-NORP", "O", "B-DATE"])
    cands = model_candidates(doc, {"NORP": "ACTOR", "ORG": "ACTOR", "GPE": "LOCATION"})
    assert cands == [Candidate(3, 4, "ACTOR", 0.5, "model:NORP")]


def test_person_quoted_by_reporting_verb_is_a_source(rules) -> None:
    doc = parsed(["Rami", "Rahman", "said", "Abu", "Zed", "withdrew"],
                 ["PROPN", "PROPN", "VERB", "PROPN", "PROPN", "VERB"],
                 ["compound", "nsubj", "ROOT", "compound", "nsubj", "ccomp"], [1, 2, 2, 4, 5, 2],
                 lemmas=["Rami", "Rahman", "say", "Abu", "Zed", "withdraw"],
                 ents=["B-PERSON", "I-PERSON", "O", "B-PERSON", "I-PERSON", "O"])
    assert reporting_sources(doc, rules.words("reporting_verbs")) == [
        Candidate(0, 2, "SOURCE", 0.9, "rule:source_reporting_subject")]  # Abu Zed is the actor of "withdrew"


# --- OUTCOME from the parse --------------------------------------------------------------------------------

def outcomes(rules, words, pos, deps, heads, lemmas, entities=()):
    doc = parsed(words, pos, deps, heads, lemmas)
    return [(doc[c.start:c.end].text, c.score) for c in resolve(OutcomeFinder(rules)(doc, list(entities)))]


def test_outcome_casualty_count_of_generic_victims_includes_object(rules) -> None:
    got = outcomes(rules, ["Shelling", "killed", "at", "least", "12", "people"],
                   ["NOUN", "VERB", "ADV", "ADV", "NUM", "NOUN"],
                   ["nsubj", "ROOT", "advmod", "advmod", "nummod", "dobj"], [1, 1, 3, 4, 5, 1],
                   ["shelling", "kill", "at", "least", "12", "people"])
    assert got == [("killed at least 12 people", 0.85)]


def test_outcome_casualty_of_named_party_is_the_verb_alone(rules) -> None:
    # guidelines 5.5: "civilians" is a party (ACTOR), so the OUTCOME is "killed" and the count stays out
    got = outcomes(rules, ["Shelling", "killed", "12", "civilians"], ["NOUN", "VERB", "NUM", "NOUN"],
                   ["nsubj", "ROOT", "nummod", "dobj"], [1, 1, 3, 1], ["shelling", "kill", "12", "civilian"])
    assert got == [("killed", 0.7)]


def test_outcome_object_naming_what_was_taken_stays_out(rules) -> None:
    got = outcomes(rules, ["They", "had", "seized", "six", "villages"], ["PRON", "AUX", "VERB", "NUM", "NOUN"],
                   ["nsubj", "aux", "ROOT", "nummod", "dobj"], [2, 2, 2, 4, 2], ["they", "have", "seize", "six", "village"])
    assert got == [("seized", 0.7)]


def test_outcome_bare_count_subject_is_included(rules) -> None:
    got = outcomes(rules, ["at", "least", "10", "were", "killed"], ["ADV", "ADV", "NUM", "AUX", "VERB"],
                   ["advmod", "advmod", "nsubjpass", "auxpass", "ROOT"], [1, 2, 4, 4, 4],
                   ["at", "least", "10", "be", "kill"])
    assert got == [("at least 10 were killed", 0.85)]


def test_result_noun_is_an_outcome(rules) -> None:
    got = outcomes(rules, ["Their", "retreat", "came"], ["PRON", "NOUN", "VERB"], ["poss", "nsubj", "ROOT"],
                   [1, 2, 2], ["their", "retreat", "come"])
    assert got == [("retreat", 0.6)]


def test_outcome_required_object(rules) -> None:
    got = outcomes(rules, ["Militias", "took", "full", "control"], ["NOUN", "VERB", "ADJ", "NOUN"],
                   ["nsubj", "ROOT", "amod", "dobj"], [1, 1, 3, 1], ["militia", "take", "full", "control"])
    assert got == [("took full control", 0.85)]


def test_take_without_required_object_is_not_an_outcome(rules) -> None:
    got = outcomes(rules, ["They", "took", "a", "break"], ["PRON", "VERB", "DET", "NOUN"],
                   ["nsubj", "ROOT", "det", "dobj"], [1, 1, 3, 1], ["they", "take", "a", "break"])
    assert got == []


def test_outcome_verb_only_when_object_is_an_actor(rules) -> None:
    got = outcomes(rules, ["Troops", "ousted", "the", "Zed", "militia"], ["NOUN", "VERB", "DET", "PROPN", "NOUN"],
                   ["nsubj", "ROOT", "det", "compound", "dobj"], [1, 1, 4, 4, 1],
                   ["troop", "oust", "the", "Zed", "militia"], [Candidate(3, 5, "ACTOR", 0.8, "rule:a")])
    assert got == [("ousted", 0.7)]


def test_outcome_particle_and_passive(rules) -> None:
    got = outcomes(rules, ["Guards", "pulled", "out", "and", "two", "were", "wounded"],
                   ["NOUN", "VERB", "ADP", "CCONJ", "NUM", "AUX", "VERB"],
                   ["nsubj", "ROOT", "prt", "cc", "nsubjpass", "auxpass", "conj"], [1, 1, 1, 1, 6, 6, 1],
                   ["guard", "pull", "out", "and", "two", "be", "wound"])
    assert got == [("pulled out", 0.7), ("two were wounded", 0.85)]  # auxiliary kept only with a bare count


@pytest.mark.parametrize(
    ("words", "pos", "deps", "heads", "lemmas"),
    [
        # modal: "would seize"
        (["They", "would", "seize", "it"], ["PRON", "AUX", "VERB", "PRON"], ["nsubj", "aux", "ROOT", "dobj"],
         [2, 2, 2, 2], ["they", "would", "seize", "it"]),
        # negated: "did not withdraw"
        (["They", "did", "not", "withdraw"], ["PRON", "AUX", "PART", "VERB"], ["nsubj", "aux", "neg", "ROOT"],
         [3, 3, 3, 3], ["they", "do", "not", "withdraw"]),
        # denied: "denied that fighters had defected"
        (["He", "denied", "fighters", "had", "defected"], ["PRON", "VERB", "NOUN", "AUX", "VERB"],
         ["nsubj", "ROOT", "nsubj", "aux", "ccomp"], [1, 1, 4, 4, 1], ["he", "deny", "fighter", "have", "defect"]),
        # intention: "plan to capture"
        (["They", "plan", "to", "capture", "it"], ["PRON", "VERB", "PART", "VERB", "PRON"],
         ["nsubj", "ROOT", "aux", "xcomp", "dobj"], [1, 1, 3, 1, 3], ["they", "plan", "to", "capture", "it"]),
    ],
)
def test_hypothetical_events_are_not_outcomes(rules, words, pos, deps, heads, lemmas) -> None:
    doc = parsed(words, pos, deps, heads, lemmas)
    doc.vocab.strings.add("TO")
    for tok in doc:
        if tok.lower_ == "to":
            tok.tag_ = "TO"
    assert OutcomeFinder(rules)(doc, []) == []


def test_schema_model_labels_drive_the_mapping() -> None:
    schema = load_schema(PROJECT_ROOT / "guidelines")
    mapping = {m: lab.name for lab in schema.labels for m in lab.model_labels}
    assert mapping["GPE"] == "LOCATION" and mapping["ORG"] == "ACTOR" and "DATE" not in mapping
