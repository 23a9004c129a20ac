"""Offsets through a real browser: spans drawn in Label Studio's editor, and predictions it renders.

Each text puts characters that count differently in Python and JavaScript (emoji and other characters
outside the Basic Multilingual Plane), or accents and right-to-left script, before the target word.
Label Studio stores code points, the same indices as Python, so the tool passes offsets through unchanged.

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
A Label Studio version that stored UTF-16 indices would fail test_label_studio_stores_python_indices.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from browser_fixtures import (
    TIMEOUT_MS,
    VIEWPORT,
    drag_over,
    highlight_texts,
    open_task,
    project_settings,
    screenshot,
    select_label,
    submit_annotation,
)

from annotate.config import Settings
from annotate.labelstudio.archive import latest_raw_export
from annotate.pipeline import push, read_tasks
from annotate.records import Document, Span, Task

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# case -> (text, target); the target occurs once. Python and UTF-16 indices of the target differ
# in the first three cases (by 3, 4 and 1 code units before it), and agree in the last two.
CASES = {
    "emoji": ("🔥🔥 Breaking 😀 news: rebels seized Kidal yesterday.", "Kidal"),
    "astral-cjk-math": ("𠜎𠜱𝌆 math 𝒜 rebels seized Kidal yesterday.", "Kidal"),
    "span-contains-emoji": ("🔥 rebels 😀 seized Kidal yesterday.", "rebels 😀 seized"),
    "accents-rtl": ("Café résumé naïve: الجيش السوري and שלום עליכם. Rebels seized Kidal yesterday.", "Kidal"),
    "crlf": ("Line one.\r\nLine two.\r\n\r\nRebels seized Kidal yesterday.", "Kidal"),
}
LABEL = "LOCATION"


def utf16_index(text: str, index: int) -> int:
    """JavaScript's index for Python index `index`: astral characters count twice."""
    return len(text[:index].encode("utf-16-le")) // 2


def test_cases_really_differ_between_python_and_javascript() -> None:
    """Guard the data: the astral cases must shift the target, or the browser tests prove nothing."""
    shifts = {case: utf16_index(text, text.index(word)) - text.index(word) for case, (text, word) in CASES.items()}
    assert shifts == {"emoji": 3, "astral-cjk-math": 4, "span-contains-emoji": 1, "accents-rtl": 0, "crlf": 0}


@pytest.fixture(scope="module")
def offsets_settings(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return project_settings(live_server, tmp_path_factory.mktemp("browser-offsets"), "browser offsets")


@dataclass(frozen=True)
class Drawn:
    text: str
    word: str
    highlighted: list[str]  # what the editor highlighted after the mouse selection
    stored: dict[str, Any]  # the annotation as the server answered the Submit request
    task: Task  # the task pulled back through the tool's pull path
    raw_value: dict[str, Any]  # the region's value in the pulled raw archive, untouched


@pytest.fixture(scope="module", params=list(CASES))
def drawn(request: pytest.FixtureRequest, offsets_settings: Settings, live_server: Any, chromium: Any,
          ls_login_state: dict[str, Any]) -> Iterator[Drawn]:
    """Push a plain task, draw the target as a LOCATION span with the mouse, submit, pull it back."""
    case = request.param
    text, word = CASES[case]
    project, report = push(offsets_settings, [Document(f"draw-{case}", text, ())])
    task_id = report.task_ids[f"draw-{case}"]
    context = chromium.new_context(viewport=VIEWPORT, storage_state=ls_login_state)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        open_task(page, live_server.url, project.id, task_id)
        select_label(page, LABEL)
        drag_over(page, word)
        page.wait_for_selector(".htx-highlight")
        highlighted = highlight_texts(page)
        screenshot(page, f"offsets-drawn-{case}")
        stored = submit_annotation(page)
    finally:
        context.close()
    task = next(t for t in read_tasks(offsets_settings, refresh=True).tasks if t.task_id == task_id)
    raw = json.loads(latest_raw_export(offsets_settings).read_text(encoding="utf-8"))
    raw_task = next(row for row in raw if row["id"] == task_id)
    yield Drawn(text, word, highlighted, stored, task, raw_task["annotations"][0]["result"][0]["value"])


def test_mouse_selection_highlights_the_word(drawn: Drawn) -> None:
    assert drawn.highlighted == [drawn.word]


def test_drawn_span_pulls_back_onto_the_word(drawn: Drawn) -> None:
    """Through read_tasks (a fresh pull): Python offsets that select exactly the word."""
    (annotation,) = drawn.task.completed
    (span,) = annotation.spans
    start = drawn.text.index(drawn.word)
    assert (span.start, span.end, span.label, span.text) == (start, start + len(drawn.word), LABEL, drawn.word)
    assert drawn.text[span.start : span.end] == span.text


def test_label_studio_stores_python_indices(drawn: Drawn) -> None:
    """The raw stored offsets are Python's code-point indices of the word, not JavaScript's UTF-16 ones."""
    start = drawn.text.index(drawn.word)
    expected = (start, start + len(drawn.word))
    assert (drawn.raw_value["start"], drawn.raw_value["end"]) == expected
    assert (drawn.stored["result"][0]["value"]["start"], drawn.stored["result"][0]["value"]["end"]) == expected


@pytest.mark.parametrize("case", list(CASES))
def test_pushed_prediction_renders_on_the_word(case: str, offsets_settings: Settings, live_server: Any,
                                               ls_page: Any) -> None:
    """A prediction pushed through the tool (Python offsets as they are) is highlighted on exactly its word."""
    text, word = CASES[case]
    start = text.index(word)
    span = Span(start, start + len(word), LABEL, word, 0.9, "browser-test")
    project, report = push(offsets_settings, [Document(f"pred-{case}", text, (span,), model_version="browser-test")])
    open_task(ls_page, live_server.url, project.id, report.task_ids[f"pred-{case}"])
    ls_page.wait_for_selector(".htx-highlight")
    screenshot(ls_page, f"offsets-predicted-{case}")
    assert highlight_texts(ls_page) == [word]
