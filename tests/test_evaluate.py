"""evaluate: scores of documents (spans and relations) against figures computed by hand; the matching itself is
annotate.scoring's (tests/test_scoring.py)."""

from __future__ import annotations

import json

import pytest

from annotate.errors import InputError
from annotate.evaluate import format_scores, match_relations, score_documents
from annotate.records import Document, Relation, Span
from annotate.scoring import Counts

TEXT = "ISIL fighters seized Saraqeb and killed 11 people in Idlib province."
#       0         1         2         3         4         5         6
#       0123456789012345678901234567890123456789012345678901234567890123456789


def sp(start: int, end: int, label: str, text: str = TEXT) -> Span:
    return Span(start, end, label, text[start:end])


def _doc(doc_id: str, spans: list[Span], text: str = TEXT) -> Document:
    return Document(doc_id, text, tuple(spans))


def test_score_documents_hand_computed() -> None:
    text2 = "Rebels withdrew from the town of Kafr Nabl."
    gold = [
        _doc("a", [sp(0, 4, "ACTOR"), sp(21, 28, "LOCATION"), sp(33, 49, "OUTCOME")]),
        _doc("b", [sp(0, 6, "ACTOR", text2), sp(7, 15, "OUTCOME", text2), sp(33, 42, "LOCATION", text2)], text2),
    ]
    pred = [
        # doc a: ACTOR exact; LOCATION exact; OUTCOME [33,42) "killed 11" overlaps gold [33,49) only.
        _doc("a", [sp(0, 4, "ACTOR"), sp(21, 28, "LOCATION"), sp(33, 42, "OUTCOME")]),
        # doc b: ACTOR predicted as LOCATION (fp LOCATION, fn ACTOR); OUTCOME exact; LOCATION [25,42) overlaps.
        _doc("b", [sp(0, 6, "LOCATION", text2), sp(7, 15, "OUTCOME", text2), sp(25, 42, "LOCATION", text2)], text2),
    ]
    result = score_documents(gold, pred)
    # exact: ACTOR tp1 fp0 fn1 | LOCATION tp1 fp2 fn1 | OUTCOME tp1 fp1 fn1 -> overall tp3 fp3 fn3
    assert {k: (v["tp"], v["fp"], v["fn"]) for k, v in result["exact"]["labels"].items()} == {
        "ACTOR": (1, 0, 1), "LOCATION": (1, 2, 1), "OUTCOME": (1, 1, 1)}
    # overall exact P = 3/6 = 0.5, R = 3/6 = 0.5, F1 = 0.5
    assert result["exact"]["overall"] == {"tp": 3, "fp": 3, "fn": 3, "precision": 0.5, "recall": 0.5, "f1": 0.5,
                                          "reason": None}
    # overlap: OUTCOME a and LOCATION b [25,42) now match -> ACTOR 1/0/1, LOCATION 2/1/0, OUTCOME 2/0/0
    # overall tp5 fp1 fn1: P = 5/6 = 0.8333, R = 5/6 = 0.8333, F1 = 0.8333
    assert result["overlap"]["labels"]["LOCATION"] == {
        "tp": 2, "fp": 1, "fn": 0, "precision": 0.6667, "recall": 1.0, "f1": 0.8, "reason": None}  # 2*(2/3)*1/(5/3)
    assert result["overlap"]["overall"] == {
        "tp": 5, "fp": 1, "fn": 1, "precision": 0.8333, "recall": 0.8333, "f1": 0.8333, "reason": None}


def test_missing_pred_document_counts_gold_as_missed_and_says_so() -> None:
    gold = [_doc("a", [sp(0, 4, "ACTOR")]), _doc("b", [sp(21, 28, "LOCATION"), sp(53, 58, "LOCATION")])]
    pred = [_doc("a", [sp(0, 4, "ACTOR")]), _doc("z", [sp(0, 4, "ACTOR")])]
    result = score_documents(gold, pred)
    assert result["documents"] == {"gold": 2, "pred": 2, "matched": 1, "missing_in_pred": ["b"],
                                   "extra_in_pred": ["z"]}
    assert result["exact"]["labels"]["LOCATION"]["fn"] == 2
    # overall: tp 1, fp 0, fn 2 -> R = 1/3 = 0.3333; the extra doc "z" is not counted.
    assert result["exact"]["overall"]["recall"] == 0.3333
    assert result["exact"]["overall"]["fp"] == 0
    assert "missing from predictions" in format_scores(result) and "b" in format_scores(result)


def test_text_mismatch_names_the_document() -> None:
    with pytest.raises(InputError, match="'a'"):
        score_documents([_doc("a", [])], [_doc("a", [], text="other text")])


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(InputError, match="twice"):
        score_documents([_doc("a", []), _doc("a", [])], [])


def test_format_scores_has_a_row_per_label_and_overall() -> None:
    table = format_scores(score_documents([_doc("a", [sp(0, 4, "ACTOR")])], [_doc("a", [sp(0, 4, "ACTOR")])]))
    assert "exact match" in table and "overlap match" in table
    assert any(line.startswith("ACTOR") and line.rstrip().endswith("1.000") for line in table.splitlines())
    assert sum(line.startswith("overall") for line in table.splitlines()) == 4  # spans and relations, two modes each


# Relations: TEXT = "ISIL fighters seized Saraqeb and killed 11 people in Idlib province."
def _rel_doc(spans: list[Span], rels: list[tuple[int, int, str]], doc_id: str = "a") -> Document:
    """A Document whose relations join spans by their index in `spans`."""
    with_ids = [Span(s.start, s.end, s.label, s.text, id=f"s{i}") for i, s in enumerate(spans)]
    return Document(doc_id, TEXT, tuple(with_ids), relations=tuple(Relation(f"s{a}", f"s{b}", lab) for a, b, lab in rels))


GOLD_SPANS = [sp(0, 13, "ACTOR"), sp(14, 20, "OUTCOME"), sp(21, 28, "LOCATION"), sp(33, 49, "OUTCOME")]
GOLD_RELS = [(0, 1, "agent_of"), (1, 2, "located_at"), (0, 3, "agent_of")]


def test_relations_exact_need_both_ends_exact_and_the_type() -> None:
    # pred ACTOR [0,4) "ISIL" overlaps gold [0,13) but is not exact: its two agent_of relations miss.
    pred_spans = [sp(0, 4, "ACTOR"), sp(14, 20, "OUTCOME"), sp(21, 28, "LOCATION"), sp(33, 49, "OUTCOME")]
    pred_rels = [(0, 1, "agent_of"), (1, 2, "located_at"), (0, 3, "target_of")]
    got = match_relations(_rel_doc(GOLD_SPANS, GOLD_RELS), _rel_doc(pred_spans, pred_rels), "exact")
    # agent_of: gold 2, pred 1 (wrong end) -> tp0 fp1 fn2, reachable 0 (gold ACTOR not predicted exactly)
    # located_at: tp1, reachable 1; target_of: pred 1 wrong -> fp1
    assert got == {"agent_of": (Counts(0, 1, 2), 0), "located_at": (Counts(1, 0, 0), 1), "target_of": (Counts(0, 1, 0), 0)}


def test_relations_overlap_match_ends_through_the_span_matching() -> None:
    pred_spans = [sp(0, 4, "ACTOR"), sp(14, 20, "OUTCOME"), sp(21, 28, "LOCATION"), sp(33, 42, "OUTCOME")]
    pred_rels = [(0, 1, "agent_of"), (1, 2, "located_at"), (0, 3, "target_of")]
    got = match_relations(_rel_doc(GOLD_SPANS, GOLD_RELS), _rel_doc(pred_spans, pred_rels), "overlap")
    # "ISIL" stands for "ISIL fighters", "killed 11" for "killed 11 people": both agent_of ends reachable,
    # one agent_of right; the target_of has the wrong type.
    assert got == {"agent_of": (Counts(1, 0, 1), 2), "located_at": (Counts(1, 0, 0), 1), "target_of": (Counts(0, 1, 0), 0)}


def test_relations_each_gold_relation_counts_once() -> None:
    # Two predicted ACTORs overlap the one gold ACTOR: the one-to-one matching pairs only one of them,
    # so two identical-looking agent_of relations give one tp and one fp. A relation drawn twice is one relation
    # (relations are sets, as spans are): it neither scores twice nor costs a false positive.
    pred_spans = [sp(0, 4, "ACTOR"), sp(5, 13, "ACTOR"), sp(14, 20, "OUTCOME")]
    pred_rels = [(0, 2, "agent_of"), (1, 2, "agent_of")]
    gold = _rel_doc(GOLD_SPANS, GOLD_RELS)
    assert match_relations(gold, _rel_doc(pred_spans, pred_rels), "overlap")["agent_of"][0] == Counts(1, 1, 1)
    exact_dup = _rel_doc(GOLD_SPANS, [*GOLD_RELS, (0, 1, "agent_of")])
    assert match_relations(gold, exact_dup, "exact")["agent_of"][0] == Counts(2, 0, 0)


def test_overlap_pairs_prefer_exact_partners() -> None:
    # gold ACTOR [0,13); pred [0,13) exact and [0,4) overlapping: the exact one is paired, so its relation counts.
    pred_spans = [sp(0, 4, "ACTOR"), sp(0, 13, "ACTOR"), sp(14, 20, "OUTCOME")]
    got = match_relations(_rel_doc(GOLD_SPANS, GOLD_RELS), _rel_doc(pred_spans, [(1, 2, "agent_of")]), "overlap")
    assert got["agent_of"][0] == Counts(1, 0, 1)


def test_score_documents_reports_relations_per_type_and_in_the_table() -> None:
    gold = _rel_doc(GOLD_SPANS, GOLD_RELS)
    pred = _rel_doc(GOLD_SPANS, [(0, 1, "agent_of"), (1, 2, "located_at")])
    result = score_documents([gold], [pred])
    # agent_of: tp1 fn1 -> P 1.0 R 0.5 F1 0.6667; reachable 2 (all ends predicted)
    assert result["relations"]["exact"]["types"]["agent_of"] == {
        "tp": 1, "fp": 0, "fn": 1, "precision": 1.0, "recall": 0.5, "f1": 0.6667, "reason": None, "reachable": 2}
    assert result["relations"]["overlap"]["overall"]["tp"] == 2
    table = format_scores(result)
    assert "relations, exact match" in table and "relations, overlap match" in table
    assert any(line.startswith("agent_of") and line.split()[-1] == "2" for line in table.splitlines())


def test_missing_pred_document_misses_its_relations() -> None:
    result = score_documents([_rel_doc(GOLD_SPANS, GOLD_RELS)], [])
    assert result["relations"]["exact"]["overall"]["fn"] == 3


def test_nothing_on_either_side_is_na_with_its_reason_not_zero() -> None:
    result = score_documents([_doc("a", [])], [_doc("a", [])])
    overall = result["exact"]["overall"]
    assert (overall["precision"], overall["recall"], overall["f1"]) == (None, None, None)
    assert overall["reason"] == "neither side has any span, so F1 is n/a (undefined: neither 1 nor 0)"
    assert result["relations"]["overlap"]["overall"]["reason"].startswith("neither side has any relation")
    json.dumps(result, allow_nan=False)
    table = format_scores(result)
    overall_line = next(line for line in table.splitlines() if line.startswith("overall"))
    assert overall_line.split()[4:7] == ["n/a", "n/a", "n/a"] and "(neither side has any span" in overall_line
    assert "nan" not in table and "0.000" not in table


def test_a_label_never_predicted_has_no_precision_but_zero_f1() -> None:
    result = score_documents([_doc("a", [sp(0, 4, "ACTOR")])], [_doc("a", [])])
    actor = result["exact"]["labels"]["ACTOR"]
    assert (actor["precision"], actor["recall"], actor["f1"]) == (None, 0.0, 0.0)
    assert actor["reason"] == "no predicted span, so precision is n/a"
