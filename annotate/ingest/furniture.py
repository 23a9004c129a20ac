"""Page furniture: the parts of a scraped news page that are not the story (stdlib only).

What counts as furniture (decided from the seeds, written as patterns for any news page):

- ``copyright``  "Copyright (c) 2012 Site.com. All Rights Reserved", "All rights reserved to ... ©".
- ``comments``   "Leave a comment: ...", "Send your comments", "Your comment as a visitor", "12 comments".
- ``footer``     "Maintained/developed/powered by ...", "Privacy policy", "Follow us on ...".
- ``breadcrumb`` "You are here", "News / Field Reports": only in the header (before the first paragraph),
                 because a short "A / B" line further down may be a real sub-heading.
- ``byline``     "By Reuters - Nov 01,2014 - Last updated at ...", "Published: ...": who and when, not what.
- ``caption``    photo captions ("... Photograph: Name/Agency", "(Photo: ...)"); every copy is removed,
                 because a caption describes a picture (often of another day), not the reported event.
- ``credit``     a line that is only an agency credit: "Agencies", "Source: AFP", "(Reuters)".
- ``promo``      a single "READ SOME MORE" / "Read also: ..." line; the story continues after it.
- ``related``    a "Related Articles" / "You may also like" heading and EVERYTHING after it (other stories).
- ``sidebar``    a run of 3+ lines each starting or ending with a timestamp ("...GMT 15:21 2018 Friday ,14 December"), plus
                 the line after the run: such lists print "stamp, headline" pairs, so the last headline
                 has no stamp of its own.
- ``duplicate``  a line identical to the previous non-blank line (a headline printed twice); one copy stays.
- ``blank``      whitespace at the very start (blank lines; a stray BOM) or the very end of the document.

Kept (not furniture): the headline (first copy), a standfirst, datelines such as "BEIRUT —", and
in-text sub-headings such as "Ten dead in air strikes".

The rules are data (``RULES`` below): edit the table to teach the tool a new site.
The text is taken as given: lines may end in \\n, \\r\\n or \\r and keep their trailing spaces. Every
removed piece is returned as a `Furniture(kind, start, text)` whose start is an offset into that text,
so `Article.original_text()` rebuilds the input exactly; nothing else is changed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..records import Furniture

_AGENCY = r"afp|ap|reuters|dpa|xinhua|anadolu|upi|efe|ani|pti|ians|sana|qna|wam|spa|kuna|irna|tass|ria"

# (kind, where, pattern). where: "line" anywhere, "header" only before the first paragraph,
# "tail" this line and everything after it. Patterns must match the WHOLE stripped line, case-insensitively.
RULES: tuple[tuple[str, str, str], ...] = (
    ("related", "tail",
     r"(?:related|more|other|recommended|similar|latest|popular|trending)\s+"
     r"(?:articles?|stories|news|posts|content|coverage|reads?|videos?|headlines?)(?:\s+\w+){0,3}\s*:?"
     r"|you\s+(?:may|might)\s+also\s+(?:like|enjoy|be\s+interested\s+in|want\s+to\s+read)\s*:?"
     r"|recommended(?:\s+for\s+you)?\s*:?|most\s+(?:read|popular|viewed|shared)\s*:?"),
    ("copyright", "line",
     r"(?:copyright\b|©|\(c\)\s*(?:19|20)\d\d).{0,250}|.{0,120}\ball\s+rights\s+reserved\b.{0,200}"),
    ("comments", "line",
     r"(?:leave|post|add|write|send)\s+(?:a\s+|your\s+|us\s+)?comments?\b.{0,250}|your\s+comments?\b.{0,100}"
     r"|(?:\d+\s+)?comments?\s*(?:\(\d+\))?:?|comments\s+are\s+(?:closed|moderated)\b.{0,100}"),
    ("footer", "line",
     r"(?:maintained|developed|designed|powered|hosted|produced)(?:\s+and\s+\w+)?\s+by\b.{0,100}"
     r"|(?:terms\s+of\s+(?:use|service)|privacy\s+policy|cookie\s+policy|contact\s+us|about\s+us"
     r"|advertise\s+with\s+us|follow\s+us|subscribe\s+to)\b.{0,100}|sign\s+up\s+for\b.{0,60}\bnewsletter\b.{0,60}"),
    ("breadcrumb", "header",
     r"you\s+are\s+here\b.{0,100}|home\s*[/›»>|].{0,100}"
     r"|[\w'’&.-]+(?:\s+[\w'’&.-]+){0,3}(?:\s*[/›»>|]\s*[\w'’&.-]+(?:\s+[\w'’&.-]+){0,3}){1,5}"),
    ("byline", "line",
     r"by\s+[^.]{1,80}?\s+[-–—|]\s+.{0,80}(?:\d{4}|updated|published).{0,60}"
     r"|(?:last\s+)?(?:updated|published|posted)\s*(?:on|at|:)\s*.{0,40}\d.{0,40}"),
    ("caption", "line",
     r".{0,400}\b(?:photo(?:graph)?|picture|image)s?(?:\s+credit)?\s*:\s*"  # credit: capitalised names
     r"(?-i:[A-Z][\w'’.-]*(?:\s*[ /&,]\s*[A-Z][\w'’.-]*){0,6})\.?"
     r"|.{0,400}\((?:photo|picture|image)\b[^)]{0,80}\)|.{0,400}\b(?:" + _AGENCY + r"|epa|getty)\s+(?:photo|images)\b.{0,80}"),
    ("credit", "line",
     r"(?:source|sources|credit|via)\s*:\s*[^.:]{1,60}|(?:(?:news\s+|staff\s+and\s+)?agencies|wires)\.?"
     r"|[(—–-]?\s*\(?(?:" + _AGENCY + r")\)?(?:\s*[,/&]\s*\(?(?:" + _AGENCY + r")\)?)*\.?"),
    ("promo", "line",
     r"(?:(?:read|see|watch|listen)(?:\s+\w+){0,2}?\s+(?:more|also)|also\s+(?:read|see)|read\s+next"
     r"|more\s+on\s+this(?:\s+story)?|related)(?:\s*[:»›>|–—-].{0,200})?"),
)
_COMPILED = tuple((kind, where, re.compile(pattern, re.IGNORECASE)) for kind, where, pattern in RULES)

# A sidebar stamp: a run of date/time tokens (clock, year, day, weekday, month, GMT) holding a clock time
# and a date word, that starts or ends a line: "Headline GMT 15:21 2018 Friday ,14 December",
# "10:45 | Mon 3 April 2017 Headline". Prose ("At 10:30 on Friday ...") has words inside the run.
_STAMP_TOKEN = (r"(?:\d{1,2}:\d\d|\d{1,4}(?:st|nd|rd|th)?|gmt|utc|am|pm|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*"
                r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)")
_STAMP_RUN = rf"{_STAMP_TOKEN}(?:[\s,|/.-]+{_STAMP_TOKEN})+"
STAMP_AT_END = re.compile(_STAMP_RUN + r"[\W_]*$", re.IGNORECASE)
STAMP_AT_START = re.compile(r"^[\W_]*" + _STAMP_RUN + r"\b", re.IGNORECASE)
CLOCK = re.compile(r"\d{1,2}:\d\d")
DATE = re.compile(r"(?<![a-z])(?!gmt|utc)[a-z]{3}|\d{4}", re.IGNORECASE)  # in a stamp: weekday, month or year
SIDEBAR_MIN_RUN = 3
MAX_FURNITURE_LINE = 500  # longer lines are prose, whatever words they contain
_PARAGRAPH = re.compile(r".{80,}[.!?\"”’'»)]")


LINE_END = re.compile(r"\r\n|\r|\n")
# Blank lines (and a BOM left inside a JSON or CSV field) at the start; any whitespace at the end.
_LEADING_BLANK = re.compile(r"\ufeff?(?:[^\S\r\n]*(?:\r\n|\r|\n))*")


class _Line(NamedTuple):
    start: int
    end: int  # end of the line's own characters, before its line end
    stop: int  # end including the line end (== end on the last line)
    text: str


def _split_lines(text: str) -> list[_Line]:
    lines, pos = [], 0
    for match in LINE_END.finditer(text):
        lines.append(_Line(pos, match.start(), match.end(), text[pos : match.start()]))
        pos = match.end()
    lines.append(_Line(pos, len(text), len(text), text[pos:]))
    return lines


def _stamped(text: str) -> bool:
    for pattern in (STAMP_AT_END, STAMP_AT_START):
        match = pattern.search(text)
        if match and CLOCK.search(match.group()) and DATE.search(match.group()):
            return True
    return False


def _mark_sidebars(lines: list[_Line], kinds: list[str | None]) -> None:
    run: list[int] = []
    for i, line in enumerate([*lines, _Line(0, 0, 0, "")]):
        stamped = ":" in line.text and len(line.text) <= MAX_FURNITURE_LINE and _stamped(line.text.strip())
        if stamped:
            run.append(i)
            continue
        if len(run) >= SIDEBAR_MIN_RUN:
            if i < len(lines) and line.text.strip() and len(line.text) <= MAX_FURNITURE_LINE:
                run.append(i)
            for j in run:
                kinds[j] = "sidebar"
        run = []


def classify_lines(lines: list[_Line]) -> list[str | None]:
    """Furniture kind of each line (None for story text and blank lines)."""
    kinds: list[str | None] = [None] * len(lines)
    _mark_sidebars(lines, kinds)
    first_paragraph = next((i for i, ln in enumerate(lines) if _PARAGRAPH.fullmatch(ln.text.strip())), len(lines))
    previous, tail = "", None
    for i, line in enumerate(lines):
        stripped = line.text.strip()
        if tail or not stripped:
            kinds[i] = tail
            continue
        if kinds[i] is None and len(stripped) <= MAX_FURNITURE_LINE:
            for kind, where, pattern in _COMPILED:
                if where == "header" and i >= first_paragraph:
                    continue
                if where == "tail" and i < max(first_paragraph, 1):
                    continue
                if pattern.fullmatch(stripped):
                    kinds[i] = kind
                    tail = kind if where == "tail" else None
                    break
        if kinds[i] is None and stripped == previous:
            kinds[i] = "duplicate"
        previous = stripped
    return kinds


def strip_furniture(text: str) -> tuple[str, tuple[Furniture, ...]]:
    """Split text as given into (story text, removed furniture with offsets into `text`)."""
    match = _LEADING_BLANK.match(text)
    lead = match.end() if match else 0
    tail = max(lead, len(text.rstrip()))
    body, pieces = _strip_lines(text[lead:tail])
    edges = [Furniture("blank", 0, text[:lead])] if lead else []
    pieces = tuple(Furniture(p.kind, p.start + lead, p.text) for p in pieces)
    end = [Furniture("blank", tail, text[tail:])] if tail < len(text) else []
    return body, (*edges, *pieces, *end)


def _strip_lines(text: str) -> tuple[str, tuple[Furniture, ...]]:
    """The furniture lines of a text that starts and ends with non-blank characters."""
    lines = _split_lines(text)
    kinds = classify_lines(lines)
    # A piece after story text takes the newlines before it (the story keeps the gap that followed
    # its last line); a piece before any story text takes the blank lines after it instead.
    pieces: list[list] = []  # [kind, start, stop]
    body_end: int | None = None
    for line, kind in zip(lines, kinds, strict=True):
        blank = not line.text.strip()
        if kind is None:
            if not blank:
                body_end = line.end
            elif body_end is None and pieces and pieces[-1][2] == line.start:
                pieces[-1][2] = line.stop
            continue
        if body_end is None:
            start, stop = line.start, line.stop
        else:
            start, stop = max(body_end, pieces[-1][2] if pieces else 0), line.end
        if pieces and pieces[-1][0] == kind and pieces[-1][2] >= start:
            pieces[-1][2] = stop
        else:
            pieces.append([kind, start, stop])
    return _assemble(text, pieces)


def _assemble(text: str, pieces: list[list]) -> tuple[str, tuple[Furniture, ...]]:
    body, furniture, pos = [], [], 0
    for kind, start, stop in pieces:
        body.append(text[pos:start])
        furniture.append(Furniture(kind, start, text[start:stop]))
        pos = stop
    body.append(text[pos:])
    return "".join(body), tuple(furniture)
