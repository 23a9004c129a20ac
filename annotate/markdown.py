"""The project's Markdown (the only module that imports markdown_it): parse it to tokens, render it as safe HTML.

CommonMark plus pipe tables, and the span mark `[[text|LABEL]]` (or `[[text|LABEL#id]]`) as a `span_mark`
token rendered as a coloured <mark>. Raw HTML and images are off and every text is escaped; links keep only
http(s), mailto and relative targets. So the output is safe to put into Label Studio and the dashboard.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

__all__ = ["MARK", "Token", "parse_markdown", "render_markdown", "slug"]

# Span markup; the text may not contain brackets or "|", so "[[[Maarouf|ACTOR]]]" marks "Maarouf".
MARK = re.compile(r"\[\[([^\[\]|]+)\|([A-Z][A-Z0-9_]*)(?:#([\w-]+))?\]\]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
_SAFE_SCHEMES = {"http", "https", "mailto"}


class _SafeMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        """Allow-list, stricter than markdown-it's own (which refuses only javascript:, vbscript:, file:, data:)."""
        scheme = _SCHEME.match(url.strip().lower())
        return scheme is None or scheme.group(1) in _SAFE_SCHEMES


@cache
def _parser() -> MarkdownIt:
    # Images are off as before: a remote <img> in the instructions would call out from every annotator's browser.
    md = _SafeMarkdown("commonmark", {"html": False}).enable("table").disable("image")
    md.inline.ruler.before("link", "span_mark", _span_mark)
    md.add_render_rule("span_mark", _render_mark)
    return md


def parse_markdown(markdown: str) -> list[Token]:
    """The block token stream; `inline` tokens hold the inline ones (text, code_inline, span_mark...) as children."""
    return _parser().parse(markdown)


def render_markdown(markdown: str, colors: Mapping[str, str] | None = None) -> str:
    """Markdown to escaped HTML; `colors` maps a label to the background of its marked examples."""
    tokens = parse_markdown(markdown)
    for opening, inline in zip(tokens, tokens[1:], strict=False):
        if opening.type == "heading_open":
            opening.attrSet("id", slug(inline.content))
    return _parser().renderer.render(tokens, _parser().options, {"colors": colors or {}})


def slug(title: str) -> str:
    """The anchor id of a heading: lower case words joined by hyphens."""
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-")


def _span_mark(state: StateInline, silent: bool) -> bool:
    match = MARK.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    if not silent:
        token = state.push("span_mark", "mark", 0)
        token.content = match.group(1)
        token.meta = {"label": match.group(2), "id": match.group(3)}
    state.pos = match.end()
    return True


def plain_color(color: str) -> bool:
    """Whether `color` is a plain #rrggbb: the only kind that reaches a style, so nothing else can be injected."""
    return re.fullmatch(r"#[0-9a-fA-F]{6}", color) is not None


def _render_mark(_renderer: Any, tokens: list[Token], idx: int, _options: Any, env: dict[str, Any]) -> str:
    text, label = html.escape(tokens[idx].content), tokens[idx].meta["label"]
    color = env["colors"].get(label, "")
    ok = plain_color(color)
    style = f' style="background:{color}33;border-bottom:2px solid {color}"' if ok else ""
    return (f'<mark class="span span-{label.lower()}" data-label="{label}"{style}>{text}'
            f'<sup class="span-label">{label}</sup></mark>')
