"""A small SVG bar chart: no plotting library, renders in browsers and in WeasyPrint.

Every text is XML-escaped (labels can come from data), sizes are fixed, and the chart
carries its numbers as text so a printed report is readable without the bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 36, 56


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart_svg(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    if len(labels) != len(values):
        raise ValueError("a bar chart needs one value per label")
    peak = max([*values, 0]) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(values), 1)
    slot = plot_w / n
    bar = slot * 0.7
    aria = escape(title, {'"': "&quot;"})
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{aria}" '
        'font-family="Noto Sans CJK KR, Noto Sans, sans-serif" font-size="12">',
        f'<text x="{WIDTH / 2:.0f}" y="20" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#333"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * (value / peak) if value > 0 else 0
        x = LEFT + i * slot + (slot - bar) / 2
        y = TOP + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#3b6ea5"/>'
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
            f"{escape(_fmt(value))}</text>"
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
            f"{escape(str(label))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
