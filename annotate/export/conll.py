"""CoNLL-2003 style BIO text: one token per line, sentences separated by blank lines (stdlib only).

Each document starts with `-DOCSTART- -X- O O`, the delimiter `spacy convert --converter conll` splits
documents on. (Classic CoNLL-2003 files write `-DOCSTART- -X- -X- O`; spaCy 3.8 does not recognise that
line and turns it into a one-token document of its own. Readers that test `startswith("-DOCSTART-")`
accept both.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..training.docbin import DocView

DOCSTART = "-DOCSTART- -X- O O"


def _clean(word: str) -> str:
    # Columns are whitespace-separated, so a token holding e.g. a no-break space would shift them.
    return "".join("_" if ch.isspace() else ch for ch in word)


def conll_lines(view: DocView) -> list[str]:
    """The lines of one document: the delimiter, then `word _ _ TAG` lines grouped by sentence."""
    lines = [DOCSTART, ""]
    ends = [end for _, end in view.sentences]
    sentence, started = 0, False
    for token in view.tokens:
        while sentence < len(ends) and token.start >= ends[sentence]:
            sentence += 1
            if started:
                lines.append("")
                started = False
        lines.append(f"{_clean(token.text)} _ _ {token.tag}")
        started = True
    if started:
        lines.append("")
    return lines


def conll_text(views: Iterable[DocView]) -> str:
    """Every document, in the order given, as one CoNLL text."""
    return "".join(line + "\n" for view in views for line in conll_lines(view))
