"""Server-rendered SVG geometry for the outcome chart (no JavaScript, nothing external).

``outcome_chart`` turns the chart series into coordinates; the template
``patients/partials/outcome_chart.html`` draws them. Two panels share the time axis:
NPRS (0-10, lower is better) and LEFS (0-80, higher is better).

A long history has hundreds of points (a pain score a day for a year and more), so each
panel's dots are written here as one string of SVG (``Panel.markup``) rather than by a
template loop: the template engine costs tens of microseconds a node, a page of 500
points several of them per dot.
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
class Dot:
    x: float
    y: float
    value: int
    label: str
    css: str
    when: dt.datetime


@dataclass
class Panel:
    title: str
    top: float
    height: float
    maximum: int
    ticks: list[tuple[float, int]] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)
    path: str = ""
    # The dots as SVG circles with their titles, escaped here.
    markup: SafeString = field(default_factory=lambda: mark_safe(""))


@dataclass
class Chart:
    width: int
    height: int
    left: int
    right: float
    panels: list[Panel]
    x_ticks: list[tuple[float, str, str]]
    empty: bool


def _x_scale(start: dt.datetime, end: dt.datetime):
    span = (end - start).total_seconds() or 1.0

    def scale(when: dt.datetime) -> float:
        if start == end:
            return LEFT + (WIDTH - LEFT - RIGHT) / 2
        return LEFT + (when - start).total_seconds() / span * (WIDTH - LEFT - RIGHT)

    return scale


def _panel(title, points, top, maximum, tick_step, scale_x) -> Panel:
    panel = Panel(title=title, top=top, height=PANEL_HEIGHT, maximum=maximum)
    for value in range(0, maximum + 1, tick_step):
        panel.ticks.append((top + PANEL_HEIGHT - value / maximum * PANEL_HEIGHT, value))
    zone = timezone.get_current_timezone()
    circles = []
    for point in points:
        y = top + PANEL_HEIGHT - point.value / maximum * PANEL_HEIGHT
        dot = Dot(
            x=round(scale_x(point.at), 1),
            y=round(y, 1),
            value=point.value,
            label=point.label,
            css=SOURCE_CLASS.get(point.source, "pt-assessment"),
            when=point.at,
        )
        panel.dots.append(dot)
        local = point.at.astimezone(zone)
        title = f"<title>{escape(dot.label)} {local.day} {local:%b %Y}: {dot.value}</title>"
        if point.source in SQUARE_SOURCES:
            circles.append(
                f'<rect x="{round(dot.x - 5, 1)}" y="{round(dot.y - 5, 1)}" width="10" '
                f'height="10" class="{dot.css}" data-value="{dot.value}">{title}</rect>'
            )
        else:
            circles.append(
                f'<circle cx="{dot.x}" cy="{dot.y}" r="5" class="{dot.css}" '
                f'data-value="{dot.value}">{title}</circle>'
            )
    if panel.dots:
        panel.path = "M" + " L".join(f"{d.x},{d.y}" for d in panel.dots)
    # Every value in the string is a number, a class from SOURCE_CLASS or escaped text.
    panel.markup = mark_safe("".join(circles))  # noqa: S308
    return panel


def outcome_chart(outcomes) -> Chart:
    everything = [p.at for p in outcomes.nprs] + [p.at for p in outcomes.lefs]
    height = TOP + 2 * PANEL_HEIGHT + GAP + BOTTOM
    if not everything:
        return Chart(WIDTH, height, LEFT, WIDTH - RIGHT, [], [], True)
    start, end = min(everything), max(everything)
    scale_x = _x_scale(start, end)
    panels = [
        _panel("Pain (NPRS 0–10)", outcomes.nprs, TOP, 10, 2, scale_x),
        _panel("Function (LEFS 0–80)", outcomes.lefs, TOP + PANEL_HEIGHT + GAP, 80, 20, scale_x),
    ]
    # At most six date labels along the bottom, evenly spread between first and last.
    x_ticks = []
    count = 0 if start == end else 5
    for i in range(count + 1):
        when = start + (end - start) * (i / count) if count else start
        anchor = "middle"
        if count and i == 0:
            anchor = "start"
        elif count and i == count:
            anchor = "end"
        x_ticks.append(
            (round(scale_x(when), 1), timezone.localtime(when).strftime("%d %b"), anchor)
        )
    return Chart(WIDTH, height, LEFT, WIDTH - RIGHT, panels, x_ticks, False)
