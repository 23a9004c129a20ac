"""A small, safe Markdown-to-HTML converter for the guidelines (stdlib only).

Supports what the guidelines use: ATX headings, paragraphs, nested bullet and numbered lists,
blockquotes, fenced code, pipe tables, inline code, **bold**, *emphasis*, http(s) and #anchor links,
and the span markup `[[text|LABEL]]` rendered as a coloured <mark>. Every piece of text is escaped and
no raw HTML passes through, so the output is safe to put into Label Studio and the dashboard.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_CODE = re.compile(r"(`+)(.+?)\1")
_MARK = re.compile(r"\[\[([^\[\]|]+)\|([A-Z][A-Z0-9_]*)(?:#[\w-]+)?\]\]")
_LINK = re.compile(r"\[([^\[\]]+)\]\((https?://[^\s()\"<>]+|#[\w-]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EM = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")


def render_markdown(markdown: str, colors: Mapping[str, str] | None = None) -> str:
    """Markdown to escaped HTML; `colors` maps a label to the background of its marked examples."""
    return "\n".join(_blocks(markdown.replace("\r\n", "\n").split("\n"), colors or {}))


def slug(title: str) -> str:
    """The anchor id of a heading: lower case words joined by hyphens."""
    return re.sub(r"[^\w]+", "-", title.lower()).strip("-")


def _blocks(lines: list[str], colors: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif _FENCE.match(line):
            end = next((j for j in range(i + 1, len(lines)) if _FENCE.match(lines[j])), len(lines))
            out.append("<pre><code>" + html.escape("\n".join(lines[i + 1 : end])) + "</code></pre>")
            i = end + 1
        elif heading := _HEADING.match(line):
            level, title = len(heading.group(1)), heading.group(2)
            out.append(f'<h{level} id="{slug(title)}">{_inline(title, colors)}</h{level}>')
            i += 1
        elif line.lstrip().startswith(">"):
            end = _run(lines, i, lambda s: s.lstrip().startswith(">"))
            inner = [re.sub(r"^\s*>\s?", "", s) for s in lines[i:end]]
            out.append("<blockquote>\n" + "\n".join(_blocks(inner, colors)) + "\n</blockquote>")
            i = end
        elif _ITEM.match(line):
            i = _list(lines, i, out, colors)
        elif "|" in line and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
            end = _run(lines, i + 2, lambda s: "|" in s and bool(s.strip()))
            out.append(_table(lines[i], lines[i + 2 : end], colors))
            i = end
        else:
            end = _run(lines, i, lambda s: bool(s.strip()) and not _starts_block(s))
            end = max(end, i + 1)
            out.append("<p>" + _inline(" ".join(s.strip() for s in lines[i:end]), colors) + "</p>")
            i = end
    return out


def _run(lines: list[str], i: int, keep) -> int:
    while i < len(lines) and keep(lines[i]):
        i += 1
    return i


def _starts_block(line: str) -> bool:
    return bool(_HEADING.match(line) or _FENCE.match(line) or _ITEM.match(line) or line.lstrip().startswith(">"))


def _list(lines: list[str], i: int, out: list[str], colors: Mapping[str, str]) -> int:
    first = _ITEM.match(lines[i])
    assert first is not None
    indent, ordered = len(first.group(1)), first.group(2)[0].isdigit()
    items: list[list[str]] = []
    while i < len(lines):
        item = _ITEM.match(lines[i])
        if item and len(item.group(1)) == indent:
            items.append([item.group(3)])
        elif lines[i].strip() and (len(lines[i]) - len(lines[i].lstrip()) > indent or not _starts_block(lines[i])):
            # An indented line continues the item (or opens a nested list); a lazy line continues it too.
            items[-1].append(lines[i][indent + 2 :] if lines[i][: indent + 2].isspace() else lines[i].strip())
        elif not lines[i].strip() and i + 1 < len(lines) and _is_item_at(lines[i + 1], indent):
            pass  # a blank line between items of the same list
        else:
            break
        i += 1
    tag = "ol" if ordered else "ul"
    out.append(f"<{tag}>")
    for body in items:
        inner = _blocks(body, colors)
        # A one-paragraph item renders without its <p>, as a tight list.
        if len(inner) >= 1 and inner[0].startswith("<p>"):
            inner[0] = inner[0][3:-4]
        out.append("<li>" + "\n".join(inner) + "</li>")
    out.append(f"</{tag}>")
    return i


def _is_item_at(line: str, indent: int) -> bool:
    item = _ITEM.match(line)
    return bool(item and len(item.group(1)) == indent)


def _table(header: str, rows: list[str], colors: Mapping[str, str]) -> str:
    def cells(row: str) -> list[str]:
        return [c.strip() for c in row.strip().strip("|").split("|")]

    head = "".join(f"<th>{_inline(c, colors)}</th>" for c in cells(header))
    body = "".join("<tr>" + "".join(f"<td>{_inline(c, colors)}</td>" for c in cells(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _inline(text: str, colors: Mapping[str, str]) -> str:
    parts: list[str] = []
    pos = 0
    for code in _CODE.finditer(text):
        parts.append(_styled(text[pos : code.start()], colors))
        parts.append("<code>" + html.escape(code.group(2).strip()) + "</code>")
        pos = code.end()
    parts.append(_styled(text[pos:], colors))
    return "".join(parts)


def _styled(text: str, colors: Mapping[str, str]) -> str:
    out = html.escape(text, quote=True)
    out = _MARK.sub(lambda m: _mark(m.group(1), m.group(2), colors), out)
    out = _LINK.sub(lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>', out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _EM.sub(r"<em>\2</em>", out)


def _mark(text: str, label: str, colors: Mapping[str, str]) -> str:
    color = colors.get(label, "")
    # Only a plain #rrggbb colour reaches the style attribute: nothing else can be injected there.
    ok = re.fullmatch(r"#[0-9a-fA-F]{6}", color)
    style = f' style="background:{color}33;border-bottom:2px solid {color}"' if ok else ""
    return (f'<mark class="span span-{label.lower()}" data-label="{label}"{style}>{text}'
            f'<sup class="span-label">{label}</sup></mark>')
