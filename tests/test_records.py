"""records.Document carries relations by span id, round-trips them, and rejects one that joins no span."""

import json

import pytest

from annotate.errors import InputError
from annotate.records import Document, Relation, Span, read_documents

TEXT = "Rebels seized Idlib."


def _doc(relations: tuple[Relation, ...]) -> Document:
    spans = (Span(0, 6, "ACTOR", "Rebels", id="a1"), Span(7, 13, "OUTCOME", "seized", id="o1"),
             Span(14, 19, "LOCATION", "Idlib", id="l1"))
    return Document("d1", TEXT, spans, relations=relations)


def test_relations_round_trip_through_jsonl(tmp_path):
    doc = _doc((Relation("a1", "o1", "agent_of"), Relation("o1", "l1", "located_at")))
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps(doc.to_dict()) + "\n")
    assert list(read_documents(path)) == [doc]


@pytest.mark.parametrize("rel, missing", [(Relation("a1", "o9", "agent_of"), "'o9'"),
                                          (Relation("x", "o1", "agent_of"), "'x'")])
def test_a_relation_to_no_span_is_an_error_naming_the_line(tmp_path, rel, missing):
    path = tmp_path / "docs.jsonl"
    path.write_text("\n" + json.dumps(_doc((rel,)).to_dict()) + "\n")
    with pytest.raises(InputError) as err:
        list(read_documents(path))
    assert ":2" in str(err.value) and missing in str(err.value) and "no span id" in str(err.value)


def test_documents_without_relations_read_as_before(tmp_path):
    row = _doc(()).to_dict()
    del row["relations"]
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps(row) + "\n")
    assert list(read_documents(path))[0].relations == ()
