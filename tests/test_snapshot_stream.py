"""The export snapshot's download is parsed one task at a time (snapshot.iter_json_array): any chunking of the
bytes gives the same items as json.loads, and a truncated or foreign file is a ValueError, never a half list."""

from __future__ import annotations

import json
import random

import pytest

from annotate.labelstudio.snapshot import iter_json_array

ITEMS = [{"id": 1, "data": {"text": "Homs – Ḥimṣ “quoted” 😀"}, "annotations": [{"result": [], "lead_time": 3.25}]},
         {"id": 2, "n": 12345678901234567890, "x": -1.5e-7, "t": True, "z": None, "s": "]}[{,\\\"escaped"},
         {"id": 3, "nested": [[[]], {}, [{"a": [1, 2, {"b": "c"}]}]]}]


def _chunks(data: bytes, sizes: list[int]) -> list[bytes]:
    out, at = [], 0
    for size in sizes:
        out.append(data[at:at + size])
        at += size
    return [*out, data[at:]] if at < len(data) else out


@pytest.mark.parametrize("seed", range(40))
def test_any_chunking_gives_the_same_items(seed):
    rng = random.Random(seed)
    items = ITEMS * rng.randint(0, 4)
    text = json.dumps(items, ensure_ascii=rng.random() < 0.3, indent=rng.choice([None, 0, 2]))
    data = text.encode("utf-8")
    sizes = [rng.randint(1, 9) for _ in range(len(data))]  # cuts inside numbers, escapes and UTF-8 sequences
    assert list(iter_json_array(_chunks(data, sizes))) == items


def test_numbers_as_items_and_cut_at_a_chunk_end():
    assert list(iter_json_array([b"[12", b"34, 5", b"6]"])) == [1234, 56]
    assert list(iter_json_array([b" \n[ ] \n"])) == []


@pytest.mark.parametrize("data, problem", [
    (b'[{"id": 1}, {"id": 2', "truncated"),
    (b'[{"id": 1},', "truncated"),
    (b'[{"id": 1}', "truncated"),
    (b'{"id": 1}', "expected a JSON array"),
    (b"", "expected a JSON array"),
    (b'[{"id": 1} {"id": 2}]', "expected ','"),
    (b'[{"id": 1}] extra', "text after the end"),
])
def test_broken_text_is_a_value_error(data, problem):
    with pytest.raises(ValueError, match=problem):
        list(iter_json_array([data[i:i + 3] for i in range(0, len(data), 3)]))
