"""Relations proposed by the pre-annotator: each rule family, held-out sentences, the seed figures, span ids."""

from __future__ import annotations

import pytest
from preannotate_fixtures import PROJECT_ROOT, copy_guidelines, parsed

from annotate.config import load_settings
from annotate.evaluate import score_documents
from annotate.ingest.load import load_articles
from annotate.preannotate import build_preannotator
from annotate.preannotate.relations import RelationFinder
from annotate.preannotate.relrules import RelationRules, load_relation_rules
from annotate.preannotate.rules import load_rules
from annotate.records import Article, Span, read_documents, span_id
from annotate.schema import load_schema

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pre():
    return build_preannotator(load_settings(env={}, root=PROJECT_ROOT))


def relations_of(pre, text: str) -> set[tuple[str, str, str]]:
    doc = next(pre.annotate([Article("x", text)]))
    by_id = {s.id: s.text for s in doc.spans}
    return {(by_id[r.from_id], r.label, by_id[r.to_id]) for r in doc.relations}


# One behaviour per case; sentences written for these tests, not taken from the seeds.
@pytest.mark.parametrize(
    ("family", "text", "expected"),
    [
        ("active subject of a taking verb is the agent", "Houthi fighters seized the town of Harib on Tuesday.",
         {("Houthi fighters", "agent_of", "seized")}),
        ("active subject of a withdrawal verb is the target", "Government troops withdrew from Kunduz on Monday.",
         {("Government troops", "target_of", "withdrew")}),
        ("passive subject is the target", "Five soldiers were killed in Mosul.", {("soldiers", "target_of", "killed")}),
        ("passive by-agent is the agent", "The town of Sirte was captured by Libyan forces.",
         {("Libyan forces", "agent_of", "captured")}),
        ("object of a killing verb is the target", "Boko Haram insurgents killed 14 soldiers near Maiduguri.",
         {("soldiers", "target_of", "killed")}),
        ("a counted named party is the victim", "Dozens of Houthi fighters were killed in Marib.",
         {("Houthi fighters", "target_of", "killed")}),
        ("prepositional place", "Government troops withdrew from Kunduz on Monday.", {("withdrew", "located_at", "Kunduz")}),
        ("place of a taken town and its province", "Houthi fighters seized the town of Harib in Marib province on Tuesday.",
         {("seized", "located_at", "Harib"), ("seized", "located_at", "Marib province")}),
        ("nearest governing place", "Al-Shabaab militants attacked the base in Lower Shabelle region, killing at least 19 soldiers.",
         {("killing", "located_at", "Lower Shabelle region"), ("Al-Shabaab militants", "agent_of", "killing")}),
        ("coordinated actors share the relation", "Kurdish fighters and Arab militias recaptured the village of Tal Abyad.",
         {("Kurdish fighters", "agent_of", "recaptured"), ("Arab militias", "agent_of", "recaptured")}),
        ("coordinated outcomes share the subject", "Dozens of Houthi fighters were killed or wounded in Marib.",
         {("Houthi fighters", "target_of", "killed"), ("Houthi fighters", "target_of", "wounded")}),
        ("the other side in the fighting", "Government troops withdrew from Kunduz after heavy fighting against Taliban insurgents.",
         {("Taliban insurgents", "agent_of", "withdrew")}),
        ("a forced outcome", "Taliban fighters overran the district of Ghormach, forcing Afghan troops to retreat.",
         {("Afghan troops", "target_of", "retreat"), ("Taliban fighters", "agent_of", "retreat")}),
        ("owner of a result noun", "The army's capture of Palmyra was hailed by officials.", {("army", "agent_of", "capture")}),
        # guidelines section 6 rule 2: "it" stands for "the group", which stands for the name three sentences back
        ("a pronoun through 'the group' to its name",
         "Al-Shabaab emerged from the Islamic Courts Union in 2006. Its insurgency spread across southern Somalia "
         "within two years. The group was driven out of Mogadishu in 2011. But it has since recaptured several towns "
         "in the Bay region.", {("Al-Shabaab", "agent_of", "recaptured")}),
        # rule 2: "as a result" links the previous sentence's subject
        ("'as a result': the previous sentence's subject is the agent",
         "Government forces shelled the town of Rastan on Monday. At least nine civilians were killed as a result.",
         {("Government forces", "agent_of", "killed")}),
        ("'as a consequence' too", "Houthi fighters attacked an army base in Marib. Dozens of soldiers have died as a consequence.",
         {("Houthi fighters", "agent_of", "died")}),
    ],
)
def test_rule_family(pre, family: str, text: str, expected: set) -> None:
    assert expected <= relations_of(pre, text), family


def test_as_a_result_of_names_its_own_cause(pre) -> None:
    got = relations_of(pre, "Government forces shelled the town of Rastan on Monday. At least nine civilians were "
                            "killed as a result of clashes with Kurdish militias.")
    assert ("Government forces", "agent_of", "killed") not in got


def test_a_reporting_source_is_never_linked(pre) -> None:
    got = relations_of(pre, "Houthi fighters seized the town of Harib, the Associated Press reported.")
    assert all("Associated Press" not in (a, b) for a, _, b in got)


# Held-out relation cases (conflict-news style, not from the seeds). Known misses are xfail(strict): they
# pass the day the rules learn them, and then the marker must go.
HELD_OUT = [
    ("Ukrainian troops advanced against Russian forces near Bakhmut.",
     {("Ukrainian troops", "agent_of", "advanced"), ("Russian forces", "target_of", "advanced"), ("advanced", "located_at", "Bakhmut")}),
    ("Rebels defected to the government side in Homs.", {("Rebels", "agent_of", "defected"), ("defected", "located_at", "Homs")}),
    ("The militia besieged the city of Taiz, stranding thousands of residents.",
     {("militia", "agent_of", "besieged"), ("besieged", "located_at", "Taiz")}),
    ("Boko Haram insurgents killed 14 soldiers near Maiduguri.",
     {("Boko Haram insurgents", "agent_of", "killed"), ("soldiers", "target_of", "killed"), ("killed", "located_at", "Maiduguri")}),
    ("Islamist militants captured the town of Palma in Cabo Delgado province after days of fighting with government forces.",
     {("Islamist militants", "agent_of", "captured"), ("captured", "located_at", "Palma"),
      ("captured", "located_at", "Cabo Delgado province"), ("government forces", "target_of", "captured")}),
    ("Three policemen were wounded in an ambush near Kandahar.",
     {("policemen", "target_of", "wounded"), ("wounded", "located_at", "Kandahar")}),
    pytest.param("Kurdish fighters pushed Islamic State militants out of Kobani.",
                 {("Kurdish fighters", "agent_of", "pushed"), ("Islamic State militants", "target_of", "pushed")},
                 marks=pytest.mark.xfail(strict=True, reason="span step: 'pushed X out of' gives no OUTCOME")),
    pytest.param("At least 12 civilians were killed when militants shelled Idlib.",
                 {("civilians", "target_of", "killed"), ("militants", "agent_of", "killed")},
                 marks=pytest.mark.xfail(strict=True, reason="the agent sits in a when-clause below the outcome")),
    pytest.param("Russian forces pulled out of Kherson and moved to the east bank.",
                 {("Russian forces", "target_of", "pulled out"), ("pulled out", "located_at", "Kherson")},
                 marks=pytest.mark.xfail(strict=True, reason="span step: 'pulled out of X' gives no OUTCOME, Kherson is an ACTOR")),
    pytest.param("Government forces retook the airport from the rebels on Sunday.",
                 {("Government forces", "agent_of", "retook"), ("rebels", "target_of", "retook")},
                 marks=pytest.mark.xfail(strict=True, reason="span step: 'retook' is no outcome verb")),
]


@pytest.mark.parametrize(("text", "expected"), HELD_OUT)
def test_held_out_relations(pre, text: str, expected: set) -> None:
    assert expected <= relations_of(pre, text)


def test_rules_decide_the_role_not_the_code() -> None:
    # "Rebels withdrew": withdraw is an undergoer verb in relations.toml; without it the subject would be the agent.
    doc = parsed(["Rebels", "withdrew", "."], ["NOUN", "VERB", "PUNCT"], ["nsubj", "ROOT", "punct"], [1, 1, 1],
                 ["rebel", "withdraw", "."])
    spans = [Span(0, 6, "ACTOR", "Rebels", id=span_id(0, 6, "ACTOR")), Span(7, 15, "OUTCOME", "withdrew", id=span_id(7, 15, "OUTCOME"))]
    schema = load_schema(PROJECT_ROOT / "guidelines")
    rules = load_relation_rules(PROJECT_ROOT / "guidelines", load_rules(PROJECT_ROOT / "guidelines", schema.label_names).lexicon)
    assert [r.label for r in RelationFinder(rules)(doc, spans)] == ["target_of"]
    words = {**rules.words, "undergoer_verbs": frozenset()}
    assert [r.label for r in RelationFinder(RelationRules(words, rules.places, rules.paths))(doc, spans)] == ["agent_of"]


def test_without_relation_rules_no_relations(tmp_path) -> None:
    root = copy_guidelines(tmp_path)
    (root / "guidelines" / "rules" / "relations.toml").unlink()
    pre = build_preannotator(load_settings(env={}, root=root))
    assert next(pre.annotate([Article("x", "Five soldiers were killed in Mosul.")])).relations == ()


@pytest.fixture(scope="module")
def seed_docs(pre):
    return list(pre.annotate(load_articles([PROJECT_ROOT / "seeds"])))


def test_span_ids_are_span_id_and_relations_point_at_them(seed_docs) -> None:
    assert sum(len(d.relations) for d in seed_docs) > 50
    for doc in seed_docs:
        doc.check()  # every relation names span ids of its document
        assert all(s.id == span_id(s.start, s.end, s.label) for s in doc.spans)
        labels = {s.id: s.label for s in doc.spans}
        for rel in doc.relations:
            ends = (labels[rel.from_id], labels[rel.to_id])
            assert ends == (("OUTCOME", "LOCATION") if rel.label == "located_at" else ("ACTOR", "OUTCOME"))


def test_seed_relation_figures(seed_docs) -> None:
    # In-sample: the rules were written looking at these seeds. Goal: P >= 0.75 and R >= 0.60 per type, exact.
    scores = score_documents(read_documents(PROJECT_ROOT / "guidelines" / "seed-gold.jsonl"), seed_docs)
    types = scores["relations"]["exact"]["types"]
    # Reached: agent_of 36/57 (0.632), target_of 33/52, located_at 30/48; 45 agent_of ones have both ends predicted.
    assert all(types[t]["precision"] >= 0.75 for t in ("agent_of", "target_of", "located_at")), types
    assert all(types[t]["recall"] >= 0.60 for t in ("agent_of", "target_of", "located_at")), types
