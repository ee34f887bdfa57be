"""Server-rendered SVG charts: no JavaScript, no chart library, nothing from a CDN.

Two shapes, enough for the reports: horizontal bars (one bar per practitioner, the label
beside it and the value at its end) and lines over the weeks (one line per figure, a
legend, axis labels). Every chart is an ``<svg role="img">`` with a ``<title>`` and a
``<desc>`` naming what it shows; the page puts the same figures in a table under it, the
text alternative. Colours are set as presentation attributes (the CSP allows no inline
style), with a dash pattern per line so the lines differ without colour too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#0b5ed7", "#b02a37", "#146c43", "#6f42c1", "#997404")
DASHES = ("", "6 4", "2 3", "8 3 2 3", "1 2")
TEXT = "#212529"
GRID = "#dee2e6"
MUTED = "#6c757d"
FONT = 'font-family="system-ui, sans-serif"'


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _svg(chart_id: str, width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="report-chart" '
        f'id="{chart_id}" {FONT} font-size="12">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[tuple[str, float | None]],
    axis_label: str,
    maximum: float = 1.0,
    value_text: Callable[[float | None], str] = percent,
) -> SafeString:
    """Horizontal bars, one per (label, value); values from 0 to ``maximum`` (a value
    above it, such as utilisation over 100 %, is drawn to the edge and labelled)."""
    label_width, plot_width, bar_height, gap = 170, 400, 18, 8
    top = 10
    height = top + len(bars) * (bar_height + gap) + 48
    width = label_width + plot_width + 70
    body = []
    for tick in range(5):  # 0, 25, 50, 75, 100 % of the maximum
        x = label_width + plot_width * tick / 4
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 36}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{height - 22}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(value_text(maximum * tick / 4))}</text>"
        )
    for index, (label, value) in enumerate(bars):
        y = top + index * (bar_height + gap)
        short = label if len(label) <= 26 else label[:25] + "…"
        body.append(
            f'<text x="{label_width - 8}" y="{y + bar_height - 5}" text-anchor="end" '
            f'fill="{TEXT}">{escape(short)}</text>'
        )
        if value is not None:
            length = plot_width * max(0.0, min(value, maximum)) / maximum
            body.append(
                f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
                f'fill="{PALETTE[0]}"><title>{escape(label)}: {escape(value_text(value))}'
                "</title></rect>"
            )
            end = label_width + length + 6
        else:
            end = label_width + 6
        body.append(
            f'<text x="{end:.1f}" y="{y + bar_height - 5}" fill="{TEXT}">'
            f"{escape(value_text(value))}</text>"
        )
    body.append(
        f'<text x="{label_width + plot_width / 2:.1f}" y="{height - 3}" text-anchor="middle" '
        f'fill="{TEXT}" font-weight="600">{escape(axis_label)}</text>'
    )
    return mark_safe(_svg(chart_id, width, height, title, desc, body))  # noqa: S308 (escaped)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def line_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    maximum: float = 1.0,
    value_text: Callable[[float | None], str] = percent,
) -> SafeString:
    """Lines over the weeks, one per series; a week without a value breaks the line."""
    left, plot_width, plot_height, top = 60, 560, 200, 12
    width, height = left + plot_width + 40, top + plot_height + 78
    count = max(1, len(x_labels))
    step = plot_width / max(1, count - 1) if count > 1 else 0

    def x(index: int) -> float:
        return left + (index * step if count > 1 else plot_width / 2)

    def y(value: float) -> float:
        return top + plot_height * (1 - max(0.0, min(value, maximum)) / maximum)

    body = []
    for tick in range(5):
        value = maximum * tick / 4
        body.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_width}" y2="{y(value):.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{escape(value_text(value))}</text>"
        )
    every = max(1, (count + 11) // 12)  # at most about 12 week labels
    for index, label in enumerate(x_labels):
        if index % every == 0 or index == count - 1:
            body.append(
                f'<text x="{x(index):.1f}" y="{top + plot_height + 16}" text-anchor="middle" '
                f'fill="{MUTED}">{escape(label)}</text>'
            )
    for number, line in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        dash = DASHES[number % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        segment: list[str] = []
        segments: list[list[str]] = []
        for index, point in enumerate(line.values):
            if point is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(index):.1f},{y(point):.1f}")
            body.append(
                f'<circle cx="{x(index):.1f}" cy="{y(point):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(line.name)}, week of {escape(x_labels[index])}: "
                f"{escape(value_text(point))}</title></circle>"
            )
        if segment:
            segments.append(segment)
        for points in segments:
            if len(points) > 1:
                body.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{dash_attr}/>'
                )
        legend_x = left + number * 190
        legend_y = top + plot_height + 52
        body.append(
            f'<line x1="{legend_x}" y1="{legend_y - 4}" x2="{legend_x + 24}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
            f'<text x="{legend_x + 30}" y="{legend_y}" fill="{TEXT}">{escape(line.name)}</text>'
        )
    body.append(
        f'<text x="14" y="{top + plot_height / 2:.1f}" text-anchor="middle" fill="{TEXT}" '
        f'font-weight="600" transform="rotate(-90 14 {top + plot_height / 2:.1f})">'
        f"{escape(y_label)}</text>"
        f'<text x="{left + plot_width / 2:.1f}" y="{top + plot_height + 34}" '
        f'text-anchor="middle" fill="{TEXT}" font-weight="600">Week starting</text>'
    )
    return mark_safe(_svg(chart_id, width, height, title, desc, body))  # noqa: S308 (escaped)
