"""Server-rendered SVG for the outcome chart (no JavaScript, nothing external).

``outcome_chart`` turns the chart series into coordinates and writes the chart's SVG
body (``Chart.markup``); the template ``patients/partials/outcome_chart.html`` puts it in
its ``<svg>`` with the title and the legend. Two panels share the time axis: NPRS (0-10,
lower is better) and LEFS (0-80, higher is better).

A long history has hundreds of points (a pain score a day for a year and more), so the
panels, their grid lines and dots, and the date labels are written here as one string
rather than by template loops: the template engine costs tens of microseconds a node, a
page of 500 points several of them per dot. Each dot's title names a label and a month
that hundreds of dots share: each is escaped and formatted once per chart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
PANEL_HEIGHT = 150
LEFT = 48
RIGHT = 16
TOP = 16
GAP = 44
BOTTOM = 30

SOURCE_CLASS = {
    "assessment": "pt-assessment",
    "visit": "pt-visit",
    "email_link": "pt-email",
    "questionnaire": "pt-questionnaire",
}
# Patient-reported questionnaire answers are squares, so they stand apart from the
# clinic's measurements without relying on colour alone.
SQUARE_SOURCES = {"questionnaire"}


@dataclass
class Panel:
    title: str
    top: float
    path: str = ""
    # The panel as SVG (title, grid, line, and the dots with their titles), escaped here.
    markup: SafeString = field(default_factory=lambda: mark_safe(""))


@dataclass
class Chart:
    width: int
    height: int
    panels: list[Panel]
    x_ticks: list[tuple[float, str, str]]
    empty: bool
    # The panels and the date labels as SVG, escaped here.
    markup: SafeString = field(default_factory=lambda: mark_safe(""))


def _x_scale(start: float, end: float):
    """x of a moment (seconds since the epoch) on the time axis from ``start`` to ``end``."""
    if start == end:
        middle = LEFT + (WIDTH - LEFT - RIGHT) / 2
        return lambda epoch: middle
    factor = (WIDTH - LEFT - RIGHT) / (end - start)
    return lambda epoch: LEFT + (epoch - start) * factor


def _panel(title, points, top, maximum, tick_step, scale_x, line_css) -> Panel:
    panel = Panel(title=title, top=top)
    bottom = top + PANEL_HEIGHT
    parts = [
        f'<g class="panel">\n<text x="{LEFT}" y="{top - 4}" class="chart-title">'
        f"{escape(title)}</text>\n"
    ]
    for value in range(0, maximum + 1, tick_step):
        y = bottom - value / maximum * PANEL_HEIGHT
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" class="grid"/>\n'
            f'<text x="{LEFT - 6}" y="{y}" class="tick" text-anchor="end" '
            f'dominant-baseline="middle">{value}</text>\n'
        )
    zone = timezone.get_current_timezone()
    from_epoch = dt.datetime.fromtimestamp
    labels: dict[str, str] = {}  # a point's label, escaped
    months: dict[tuple[int, int], str] = {}  # "Mar 2025"
    heights: dict[int, tuple[float, str]] = {}  # a value's y, as a number and as text
    shapes = []
    coordinates = []  # "x,y" of each dot, for the line
    # Per point: one local time (for its title's date) and arithmetic on its epoch; a
    # long history has hundreds of points.
    for epoch, value, source, label in points:
        if value not in heights:
            y = round(bottom - value / maximum * PANEL_HEIGHT, 1)
            heights[value] = (y, str(y))
        y, y_text = heights[value]
        css = SOURCE_CLASS.get(source, "pt-assessment")
        x = round(scale_x(epoch), 1)
        x_text = f"{x:.1f}"  # str(x), in a third of the time
        coordinates.append(f"{x_text},{y_text}")
        local = from_epoch(epoch, zone)
        words = labels.get(label)
        if words is None:
            words = labels[label] = escape(label)
        month = months.get((local.year, local.month))
        if month is None:
            month = months[local.year, local.month] = f"{local:%b %Y}"
        title = f"<title>{words} {local.day} {month}: {value}</title>"
        if source in SQUARE_SOURCES:
            shapes.append(
                f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" '
                f'height="10" class="{css}" data-value="{value}">{title}</rect>'
            )
        else:
            shapes.append(
                f'<circle cx="{x_text}" cy="{y_text}" r="5" class="{css}" '
                f'data-value="{value}">{title}</circle>'
            )
    if coordinates:
        panel.path = "M" + " L".join(coordinates)
        parts.append(f'<path d="{panel.path}" class="line {line_css}"/>\n')
        parts.append("".join(shapes))
    else:
        parts.append(
            f'<text x="{LEFT + 12}" y="{top + 70}" class="tick">No complete LEFS signed yet.</text>'
        )
    parts.append("\n</g>\n")
    # Every value in the string is a number, a class from SOURCE_CLASS or escaped text.
    panel.markup = mark_safe("".join(parts))  # noqa: S308
    return panel


def outcome_chart(outcomes) -> Chart:
    everything = [p.epoch for p in outcomes.nprs] + [p.epoch for p in outcomes.lefs]
    height = TOP + 2 * PANEL_HEIGHT + GAP + BOTTOM
    if not everything:
        return Chart(WIDTH, height, [], [], True)
    start, end = min(everything), max(everything)
    scale_x = _x_scale(start, end)
    panels = [
        _panel("Pain (NPRS 0–10)", outcomes.nprs, TOP, 10, 2, scale_x, "line-nprs"),
        _panel(
            "Function (LEFS 0–80)",
            outcomes.lefs,
            TOP + PANEL_HEIGHT + GAP,
            80,
            20,
            scale_x,
            "line-lefs",
        ),
    ]
    # At most six date labels along the bottom, evenly spread between first and last.
    x_ticks = []
    count = 0 if start == end else 5
    zone = timezone.get_current_timezone()
    for i in range(count + 1):
        when = start + (end - start) * (i / count) if count else start
        anchor = "middle"
        if count and i == 0:
            anchor = "start"
        elif count and i == count:
            anchor = "end"
        x_ticks.append(
            (
                round(scale_x(when), 1),
                dt.datetime.fromtimestamp(when, zone).strftime("%d %b"),
                anchor,
            )
        )
    markup = "".join(panel.markup for panel in panels) + "".join(
        f'<text x="{x}" y="{height - 8}" class="tick" text-anchor="{anchor}">{escape(label)}'
        "</text>\n"
        for x, label, anchor in x_ticks
    )
    # Every value in the string is a number or escaped text (the panels' markup above).
    return Chart(WIDTH, height, panels, x_ticks, False, mark_safe(markup))  # noqa: S308
