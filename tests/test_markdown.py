"""The project's Markdown (markdown-it) and the span markup: safe, and the shapes the guidelines use."""

from __future__ import annotations

import pytest

from annotate.guidelines import MarkedSpan, parse_marked
from annotate.markdown import render_markdown

ACTOR = '<mark class="span span-actor" data-label="ACTOR"'
STYLE = ' style="background:#d6272833;border-bottom:2px solid #d62728"'


@pytest.mark.parametrize(
    ("marked", "plain", "spans"),
    [
        ("no marks", "no marks", []),
        ("[[ISIL|ACTOR]] [[seized|OUTCOME#o1]] it",
         "ISIL seized it", [MarkedSpan(0, 4, "ACTOR", "ISIL"), MarkedSpan(5, 11, "OUTCOME", "seized", "o1")]),
        # A bracket in the article next to a mark stays article text.
        ("Khaled [[[Maarouf|ACTOR#a]]] escaped", "Khaled [Maarouf] escaped", [MarkedSpan(8, 15, "ACTOR", "Maarouf", "a")]),
        ("[as if] they", "[as if] they", []),
        ("[[lower|actor]] is not markup", "[[lower|actor]] is not markup", []),
    ],
)
def test_parse_marked(marked, plain, spans):
    assert parse_marked(marked) == (plain, spans)


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("## 2. ACTOR", '<h2 id="2-actor">2. ACTOR</h2>\n'),
        ("## Use `Alt+R` ##", '<h2 id="use-alt-r">Use <code>Alt+R</code></h2>\n'),
        ("one\ntwo\n\nthree", "<p>one\ntwo</p>\n<p>three</p>\n"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
        ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n"),
        ("- a\n  continued\n- b", "<ul>\n<li>a\ncontinued</li>\n<li>b</li>\n</ul>\n"),
        ("- a\n  - inner\n- b", "<ul>\n<li>a\n<ul>\n<li>inner</li>\n</ul>\n</li>\n<li>b</li>\n</ul>\n"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>\n"),
        ("**bold** and *em* and `co*de*`", "<p><strong>bold</strong> and <em>em</em> and <code>co*de*</code></p>\n"),
        ("model_labels stay", "<p>model_labels stay</p>\n"),
        ("```\n<b>x</b>\n```", "<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre>\n"),
        ("| a | b |\n|---|---|\n| 1 | `2` |",
         "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
         "<tbody>\n<tr>\n<td>1</td>\n<td><code>2</code></td>\n</tr>\n</tbody>\n</table>\n"),
        ("[x](https://example.org/a?b=1&c=2)", '<p><a href="https://example.org/a?b=1&amp;c=2">x</a></p>\n'),
        # An image is not shown (no request leaves an annotator's browser): its link stays, as before.
        ("![map](https://example.org/m.png)", '<p>!<a href="https://example.org/m.png">map</a></p>\n'),
    ],
)
def test_render_shapes(markdown, html):
    assert render_markdown(markdown) == html


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script>"),
        ("<div>\n<script>alert(1)</script>\n</div>", "<script>"),
        ("## <img src=x onerror=alert(1)>", "<img"),
        ('[[<b onclick="x">|ACTOR]]', "<b "),
        ('- "quoted" <i>', "<i>"),
        ("| a |\n|---|\n| <script>x</script> |", "<script>"),
    ],
)
def test_render_escapes_everything(markdown, forbidden):
    assert forbidden not in render_markdown(markdown)


def test_raw_script_is_shown_as_text():
    assert render_markdown("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](&#x6A;avascript:alert(1))",  # an entity is decoded before the check
        "[x](java\tscript:alert(1))",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](data:image/png;base64,AAAA)",  # markdown-it's own check lets this one through
        "[x](vbscript:msgbox(1))",
        "[x](file:///etc/passwd)",
        "[x](ftp://example.org/f)",
    ],
)
def test_unsafe_links_are_refused(markdown):
    assert "href" not in render_markdown(markdown)


@pytest.mark.parametrize(
    ("markdown", "href"),
    [
        ("[x](https://example.org)", "https://example.org"),
        ("[x](http://example.org)", "http://example.org"),
        ("[x](mailto:lead@example.org)", "mailto:lead@example.org"),
        ("<lead@example.org>", "mailto:lead@example.org"),
        ("[x](#2-actor)", "#2-actor"),
        ("[x](../CHANGELOG.md)", "../CHANGELOG.md"),
    ],
)
def test_safe_links_are_kept(markdown, href):
    assert f'href="{href}"' in render_markdown(markdown)


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("[[ISIL|ACTOR]]", f'<p>{ACTOR}{STYLE}>ISIL<sup class="span-label">ACTOR</sup></mark></p>\n'),
        ("[[ISIL|ACTOR#a1]] `[[x|ACTOR]]`",
         f'<p>{ACTOR}{STYLE}>ISIL<sup class="span-label">ACTOR</sup></mark> <code>[[x|ACTOR]]</code></p>\n'),
        ("Khaled [[[Maarouf|ACTOR]]]", f'<p>Khaled [{ACTOR}{STYLE}>Maarouf<sup class="span-label">ACTOR</sup></mark>]</p>\n'),
        # A label without a colour (unknown to the schema) is still a mark, unstyled, as before; the checker reports it.
        ("[[ISIL|GROUP]]", '<p><mark class="span span-group" data-label="GROUP">ISIL<sup class="span-label">GROUP</sup>'
                           "</mark></p>\n"),
        ("[[lower|actor]]", "<p>[[lower|actor]]</p>\n"),
        ("| a |\n|---|\n| [[IS\\|ACTOR]] |", f'<td>{ACTOR}{STYLE}>IS<sup class="span-label">ACTOR</sup></mark></td>'),
    ],
)
def test_mark_renders_with_its_label(markdown, html):
    assert html in render_markdown(markdown, {"ACTOR": "#d62728"})


def test_mark_uses_only_a_valid_colour():
    bad = render_markdown("[[ISIL|ACTOR]]", {"ACTOR": 'red" onmouseover="x'})
    assert "onmouseover" not in bad and "style" not in bad
