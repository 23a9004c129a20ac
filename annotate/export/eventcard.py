"""The events section of the dataset card: every events column, the count conventions, a worked example."""

from __future__ import annotations

from ..events.table import COLUMNS

TYPES = {"string": "text", "int": "integer", "date": "date", "strings": "list of text (in the CSV joined by a bar)"}

# A real row: the seed gold's "On another front, Assad loyalists shelled Madira, northeast of Damascus, killing
# 11 people, said the Observatory." (seeds/000; tests/test_events_seeds.py checks it against the export).
# task_id, split and status depend on the export, so the example leaves them out.
EXAMPLE = {
    "event_id": "4c081468cfdf62ad:2746-2763-OUTCOME", "article_id": "4c081468cfdf62ad", "event_date": "",
    "source": "seeds/000_d73790f0d0b3e06f.txt", "span_id": "2746-2763-OUTCOME", "outcome": "killing 11 people",
    "outcome_start": "2746", "outcome_end": "2763", "outcome_source_start": "2746", "outcome_source_end": "2763",
    "outcome_type": "casualties", "casualty_kind": "killed", "count": "11", "count_qualifier": "exact",
    "count_rule": "span:digits", "fatalities": "11", "injured": "", "agent_of_ids": "2691-2706-ACTOR",
    "agent_of": "Assad loyalists", "target_of_ids": "", "target_of": "", "located_at_ids": "2715-2721-LOCATION",
    "located_at": "Madira",
    "sentence": "On another front, Assad loyalists shelled Madira, northeast of Damascus, killing 11 people, said "
                "the Observatory.",
    "meta": '{"guidelines_version": "1.1.0", "source_file": "seeds/000_d73790f0d0b3e06f.txt"}',
    "guideline_version": "1.1.0",
}

CONVENTIONS = [
    "One row per gold OUTCOME span, with or without relations; rows are mentions, so one incident reported twice "
    "(a headline and its story) is two rows: do not sum fatalities across rows of one article blindly.",
    "`outcome_type` and `casualty_kind` come from the word lists in `guidelines/rules/events.toml`.",
    "The count is read from the OUTCOME span (`span:`), else from the words just before its target_of actors "
    "(`target:`): in \"eight Islamic State fighters were killed\" the OUTCOME is \"killed\" and the count 8; "
    "several victim groups add up (\"31 rebel fighters and eight ...\" 39, rule `sum`).",
    "Numbers in digits and words count (\"two dozen\" 24). Vague plurals are one unit of themselves, as ACLED "
    "codes \"tens\" 10, \"dozens\" 12, \"hundreds\" 100; by the same rule \"scores\" 20, \"thousands\" 1,000, "
    "\"tens of thousands\" 10,000 (qualifier `at least`). \"several\", \"many\", \"multiple\" give no number "
    "(rule `vague`).",
    "A range or several figures give the lowest (\"between 30 and 40\": 30, qualifier `range`); \"more than\", "
    "\"over\", \"at least\" give `at least`; \"nearly\", \"about\" `about`; \"up to\", \"as many as\" `at most`.",
    "\"killed or injured\" (or \"and\") sharing one count, and \"casualties\", are `killed_or_injured`: the count "
    "is in `count` only, not in `fatalities` or `injured`, since it counts neither alone (ACLED records deaths "
    "only, and the most conservative figure).",
    "Read the Parquet with `pd.read_parquet(path, dtype_backend=\"numpy_nullable\")` to keep integer columns "
    "integers where some are empty; every export has the same schema, so `pd.read_parquet([a, b])` stacks them.",
]


def events_lines() -> list[str]:
    """The card's events section as Markdown lines."""
    lines = ["## Events (events.csv, events.parquet)", ""] + [f"- {c}" for c in CONVENTIONS] + [""]
    lines += ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {TYPES[c.kind]} | {c.description} |" for c in COLUMNS] + [""]
    lines += ["Worked example (the seed gold, \"killing 11 people\" in Madira; CSV values):", "",
              "| column | value |", "|---|---|"]
    lines += [f"| `{name}` | {value.replace('|', chr(92) + '|') or '(empty)'} |" for name, value in EXAMPLE.items()]
    return lines + [""]
