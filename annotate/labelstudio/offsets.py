"""Offset conversion at the Label Studio boundary.

Python indexes strings by code point; Label Studio's editor measures text in the browser. Which unit it
stores is established by the browser test (tests/test_browser_offsets.py) and recorded in LS_UNIT:
"utf16" would mean JavaScript string indices, where every character outside the Basic Multilingual Plane
(emoji, some CJK) counts twice; "codepoint" means Python str indices.

Measured with Label Studio 1.23.2 in headless Chromium (Debian chromium, Playwright), Text tag with
granularity="word": Label Studio stores CODE POINTS, the same indices as Python.
- "🔥🔥 Breaking 😀 news: rebels seized Kidal yesterday.": "Kidal" drawn with the mouse was stored as
  start 34, end 39 = Python text.index("Kidal"); the JavaScript (UTF-16) indices would be 37, 42.
- "𠜎𠜱𝌆 math 𝒜 rebels seized Kidal yesterday." (astral CJK and maths letters): stored 25-30 (UTF-16: 29-34).
- A span containing an emoji, "rebels 😀 seized" in "🔥 rebels 😀 seized Kidal yesterday.", stored 2-17
  (UTF-16: 3-19), text[2:17] in Python is the span.
- Accents (precomposed and combining) and Arabic/Hebrew text before the word: stored == Python == UTF-16
  (no astral characters, so the units agree), e.g. 62-67 in "Café résumé naïve: الجيش السوري and שלום עליכם. ...".
- "\r\n" line breaks: the editor renders one line element per line, yet stores offsets into the original
  text (38-43 in "Line one.\r\nLine two.\r\n\r\nRebels seized Kidal yesterday."), i.e. Python indices.
- Reverse direction: a prediction with code-point offsets 34-39 renders highlighted on "Kidal"; one with
  UTF-16 offsets 37-42 highlights "al ye" (and still lists "Kidal" as its text in the regions panel).
So OffsetMap is the identity for Label Studio 1.23; it stays as the one place to change if a version differs.
"""

from __future__ import annotations

from bisect import bisect_left

LS_UNIT = "codepoint"


def _astral_positions(text: str) -> list[int]:
    """Code-point indices of characters that take two UTF-16 code units."""
    return [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]


class OffsetMap:
    """Converts offsets for one text between Python code points and Label Studio's unit."""

    def __init__(self, text: str, unit: str = LS_UNIT):
        self.text = text
        self._astral = _astral_positions(text) if unit == "utf16" else []
        # UTF-16 index of each astral character, for the reverse direction
        self._astral_u16 = [p + k for k, p in enumerate(self._astral)]

    @property
    def identity(self) -> bool:
        return not self._astral

    def to_ls(self, index: int) -> int:
        """Python index -> Label Studio index."""
        return index + bisect_left(self._astral, index)

    def from_ls(self, index: int) -> int:
        """Label Studio index -> Python index (an index inside a surrogate pair rounds down)."""
        return index - bisect_left(self._astral_u16, index)
