"""annotate: human-in-the-loop annotation of conflict news (ACTOR, LOCATION, OUTCOME)."""

__version__ = "0.1.0"
