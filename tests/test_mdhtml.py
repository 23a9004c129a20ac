"""The guidelines' Markdown converter and the span markup: safe, and the shapes the guidelines use."""

from __future__ import annotations

import pytest

from annotate.guidelines import MarkedSpan, parse_marked, render_guidelines_html


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
        ("## 2. ACTOR", '<h2 id="2-actor">2. ACTOR</h2>'),
        ("one\ntwo\n\nthree", "<p>one two</p>\n<p>three</p>"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"),
        ("- a\n  continued\n- b", "<ul>\n<li>a continued</li>\n<li>b</li>\n</ul>"),
        ("- a\n  - inner\n- b", "<ul>\n<li>a\n<ul>\n<li>inner</li>\n</ul></li>\n<li>b</li>\n</ul>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("**bold** and *em* and `co*de*`", "<p><strong>bold</strong> and <em>em</em> and <code>co*de*</code></p>"),
        ("model_labels stay", "<p>model_labels stay</p>"),
        ("```\n<b>x</b>\n```", "<pre><code>&lt;b&gt;x&lt;/b&gt;</code></pre>"),
        ("| a | b |\n|---|---|\n| 1 | 2 |",
         "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>"),
        ("[x](https://example.org/a?b=1&c=2)", '<p><a href="https://example.org/a?b=1&amp;c=2">x</a></p>'),
    ],
)
def test_render_shapes(markdown, html):
    assert render_guidelines_html(markdown) == html


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script>"),
        ("## <img src=x onerror=alert(1)>", "<img"),
        ('[x](javascript:alert(1))', "href"),
        ('[[<b onclick="x">|ACTOR]]', "<b "),
        ('- "quoted" <i>', "<i>"),
    ],
)
def test_render_escapes_everything(markdown, forbidden):
    assert forbidden not in render_guidelines_html(markdown)


def test_mark_uses_only_a_valid_colour():
    good = render_guidelines_html("[[ISIL|ACTOR]]", {"ACTOR": "#d62728"})
    bad = render_guidelines_html("[[ISIL|ACTOR]]", {"ACTOR": 'red" onmouseover="x'})
    assert good == ('<p><mark class="span span-actor" data-label="ACTOR" style="background:#d6272833;'
                    'border-bottom:2px solid #d62728">ISIL<sup class="span-label">ACTOR</sup></mark></p>')
    assert "onmouseover" not in bad and "style" not in bad
