import datetime as dt
import re

from django.utils import timezone

from patients import charts
from patients.selectors import ChartPoint, Outcomes


def _point(days, value, source="assessment"):
    at = timezone.now() - dt.timedelta(days=days)
    return ChartPoint(epoch=at.timestamp(), value=value, source=source, label=source)


def _dots(panel) -> list[tuple[float, float, str]]:
    """The panel's dots as drawn: centre x, centre y and class of each, in order."""
    found = re.findall(
        r'<(?:circle cx="([\d.]+)" cy="([\d.]+)" r="5"|rect x="([\d.]+)" y="([\d.]+)" '
        r'width="10" height="10") class="([\w-]+)"',
        str(panel.markup),
    )
    return [
        (float(cx), float(cy), css) if cx else (float(rx) + 5, float(ry) + 5, css)
        for cx, cy, rx, ry, css in found
    ]


def test_an_empty_history_gives_an_empty_chart():
    assert charts.outcome_chart(Outcomes()).empty


def test_points_are_placed_by_date_and_value():
    chart = charts.outcome_chart(
        Outcomes(
            nprs=[_point(20, 10), _point(10, 5, "visit"), _point(0, 0, "email_link")],
            lefs=[_point(20, 40), _point(0, 80)],
        )
    )
    nprs, lefs = chart.panels
    dots = _dots(nprs)
    xs = [x for x, _y, _css in dots]
    assert xs == sorted(xs) and xs[0] == charts.LEFT and xs[-1] == charts.WIDTH - charts.RIGHT
    # 10/10 at the top of the panel, 0 at the bottom, 5 half way.
    assert dots[0][1] == nprs.top
    assert dots[2][1] == nprs.top + charts.PANEL_HEIGHT
    assert dots[1][1] == nprs.top + charts.PANEL_HEIGHT / 2
    assert [css for _x, _y, css in dots] == ["pt-assessment", "pt-visit", "pt-email"]
    assert _dots(lefs)[1][1] == lefs.top  # 80/80 at the top
    assert nprs.path.startswith("M") and nprs.path.count("L") == 2


def test_a_single_point_sits_in_the_middle():
    chart = charts.outcome_chart(Outcomes(nprs=[_point(0, 4)]))
    assert (
        _dots(chart.panels[0])[0][0]
        == charts.LEFT + (charts.WIDTH - charts.LEFT - charts.RIGHT) / 2
    )
    assert len(chart.x_ticks) == 1


def test_the_chart_is_written_whole_grid_line_dots_and_dates():
    chart = charts.outcome_chart(Outcomes(nprs=[_point(20, 10), _point(0, 0, "visit")]))
    markup = chart.markup
    assert markup.count('class="grid"') == 6 + 5  # NPRS 0-10 by 2, LEFS 0-80 by 20
    assert markup.count('dominant-baseline="middle"') == 6 + 5
    assert markup.count('<path d="M') == 1 and 'class="line line-nprs"' in markup
    assert markup.count("<circle") == 2
    assert "No complete LEFS signed yet." in markup  # the LEFS panel has no point
    # Six dates along the bottom, the first and last anchored at the ends.
    assert markup.count('text-anchor="start"') == 1 and markup.count('text-anchor="middle"') == 4
    assert [label for _x, label, _anchor in chart.x_ticks][0] in markup


def test_dot_titles_and_date_labels_use_the_clinics_day_not_utcs():
    """Points are placed and worded from seconds since the epoch: a check-in at 03:30 UTC
    is the evening before in New York (the clinic's zone), and a title says so."""
    evening = dt.datetime(2026, 3, 4, 3, 30, tzinfo=dt.UTC)  # 3 Mar, 22:30 in New York
    later = dt.datetime(2026, 3, 20, 15, 0, tzinfo=dt.UTC)
    with timezone.override("America/New_York"):
        chart = charts.outcome_chart(
            Outcomes(
                nprs=[
                    ChartPoint(evening.timestamp(), 6, "email_link", "Email check-in"),
                    ChartPoint(later.timestamp(), 2, "visit", "Visit"),
                ]
            )
        )
    assert "<title>Email check-in 3 Mar 2026: 6</title>" in chart.markup
    assert "<title>Visit 20 Mar 2026: 2</title>" in chart.markup
    assert [label for _x, label, _anchor in chart.x_ticks][0] == "03 Mar"
    assert ChartPoint(evening.timestamp(), 6, "email_link", "x").at == evening
