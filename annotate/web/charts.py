"""Small inline SVG charts drawn server-side (no JavaScript, no CDN); every text in them is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

PALETTE = ("#2b8a3e", "#e67700", "#c92a2a", "#5f3dc4", "#1971c2", "#868e96")


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def interval_bars(rows: Sequence[tuple[str, float | None, float | None, float | None]], title: str,
                  lo: float = -0.2, hi: float = 1.0) -> Markup:
    """Horizontal bars (label, value, ci_low, ci_high) on a lo..hi axis, with the CI as a whisker."""
    left, width, row_h = 150, 360, 26
    height = 30 + row_h * len(rows)

    def x(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / (hi - lo) * width

    body = [f'<line x1="{x(0):.1f}" y1="10" x2="{x(0):.1f}" y2="{height - 14}" stroke="#adb5bd"/>']
    for tick in (lo, 0.0, 0.5, hi):
        body.append(f'<text x="{x(tick):.1f}" y="{height - 2}" font-size="10" text-anchor="middle">{tick:g}</text>')
    for i, (label, value, ci_low, ci_high) in enumerate(rows):
        y = 12 + i * row_h
        body.append(f'<text x="{left - 6}" y="{y + 13}" font-size="12" text-anchor="end">{escape(label)}</text>')
        if value is None:
            body.append(f'<text x="{left + 4}" y="{y + 13}" font-size="11" fill="#868e96">not measurable</text>')
            continue
        x0, x1 = sorted((x(0), x(value)))
        body.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" height="14" fill="#4c6ef5"/>')
        if ci_low is not None and ci_high is not None:
            body.append(f'<line x1="{x(ci_low):.1f}" y1="{y + 10}" x2="{x(ci_high):.1f}" y2="{y + 10}" '
                        'stroke="#212529" stroke-width="1.5"/>')
        body.append(f'<text x="{left + width + 6}" y="{y + 13}" font-size="11">{_num(value)}</text>')
    return _svg(left + width + 50, height, body, title)


def heatmap(names: Sequence[str], values: Mapping[tuple[str, str], float | None], title: str) -> Markup:
    """An annotator x annotator grid coloured from red (0 or less) to green (1); empty cells are grey."""
    cell, left, top = 46, 170, 120
    size = len(names)
    body = []
    for i, name in enumerate(names):
        short = escape(name if len(name) <= 24 else name[:23] + "…")
        body.append(f'<text x="{left - 6}" y="{top + i * cell + cell / 2 + 4}" font-size="11" '
                    f'text-anchor="end">{short}</text>')
        cx = left + i * cell + cell / 2
        body.append(f'<text x="{cx}" y="{top - 6}" font-size="11" transform="rotate(-45 {cx} {top - 6})">{short}</text>')
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            value = 1.0 if a == b else values.get((a, b), values.get((b, a)))
            fill = "#e9ecef" if value is None else _ramp(value)
            x, y = left + j * cell, top + i * cell
            body.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}"><title>'
                        f'{escape(a)} × {escape(b)}: {_num(value)}</title></rect>')
            body.append(f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 3}" font-size="11" '
                        f'text-anchor="middle">{_num(value)}</text>')
    # Column names are rotated up and to the right: leave room for the last one.
    return _svg(left + size * cell + 120, top + size * cell + 10, body, title)


def _ramp(value: float) -> str:
    """Red at 0 (or below), yellow at 0.5, green at 1."""
    v = min(max(value, 0.0), 1.0)
    red = int(230 if v < 0.5 else 230 - (v - 0.5) * 2 * 150)
    green = int(90 + v * 2 * 110 if v < 0.5 else 200)
    return f"#{red:02x}{green:02x}78"


def stacked_bars(groups: Sequence[tuple[str, Mapping[str, int]]], categories: Sequence[str], title: str) -> Markup:
    """One horizontal bar per group, split into categories by share; a legend on top."""
    left, width, row_h = 170, 380, 26
    height = 40 + row_h * len(groups)
    body = []
    x_legend = 10.0
    for k, cat in enumerate(categories):
        body.append(f'<rect x="{x_legend:.0f}" y="4" width="12" height="12" fill="{PALETTE[k % len(PALETTE)]}"/>'
                    f'<text x="{x_legend + 16:.0f}" y="14" font-size="11">{escape(cat)}</text>')
        x_legend += 30 + 6.2 * len(cat)  # about 6 px per character at 11 px
    for i, (name, counts) in enumerate(groups):
        y = 26 + i * row_h
        total = sum(counts.get(c, 0) for c in categories)
        body.append(f'<text x="{left - 6}" y="{y + 13}" font-size="12" text-anchor="end">{escape(name)}</text>')
        x = float(left)
        for k, cat in enumerate(categories):
            share = counts.get(cat, 0) / total if total else 0.0
            if share:
                body.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{share * width:.1f}" height="16" '
                            f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(name)}: {escape(cat)} '
                            f'{counts.get(cat, 0)} ({share:.0%})</title></rect>')
            x += share * width
        body.append(f'<text x="{left + width + 6}" y="{y + 13}" font-size="11">n={total}</text>')
    return _svg(int(max(left + width + 60, x_legend)), height, body, title)


def line_chart(points: Sequence[tuple[str, int]], title: str) -> Markup:
    """A cumulative count over days: x is the day index, y the count; first and last day labelled."""
    left, width, height, top = 50, 480, 160, 10
    if not points:
        return _svg(left + width, 40, ['<text x="10" y="24" font-size="12">no dated annotations yet</text>'], title)
    peak = max(v for _, v in points) or 1
    step = width / max(len(points) - 1, 1)
    coords = [(left + i * step, top + height - v / peak * height) for i, (_, v) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    body = [f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" stroke="#adb5bd"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + height}" stroke="#adb5bd"/>',
            f'<polyline points="{path}" fill="none" stroke="#1971c2" stroke-width="2"/>',
            f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">{peak}</text>',
            f'<text x="{left}" y="{top + height + 14}" font-size="10">{escape(points[0][0])}</text>',
            f'<text x="{left + width}" y="{top + height + 14}" font-size="10" text-anchor="end">'
            f'{escape(points[-1][0])}</text>']
    body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1971c2"><title>{escape(d)}: {v}</title></circle>'
             for (x, y), (d, v) in zip(coords, points, strict=True)]
    return _svg(left + width + 10, top + height + 20, body, title)
