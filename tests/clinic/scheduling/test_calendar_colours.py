"""A readable calendar: every status and absence has colours of its own, a legend names
them on the day and week views, and text on each fill keeps a WCAG contrast of at
least 4.5:1. The colours are read from the stylesheet itself, so a later edit that
breaks one fails here."""

import colorsys
import itertools
import pathlib
import re

import pytest
from django.conf import settings
from django.urls import reverse

from clinic.models import AppointmentStatus
from clinic.scheduling import selectors

CSS = pathlib.Path(settings.BASE_DIR) / "clinic" / "static" / "clinic" / "scheduling.css"
STATUSES = [s.value for s in AppointmentStatus]  # booked … no_show, cancelled included
ABSENCES = ["away", "outside", "closed"]


def _properties() -> dict[str, str]:
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S)
    root = re.search(r":root\s*\{(.*?)\}", css, re.S)
    assert root, "scheduling.css declares its colours in a :root block"
    return {
        name: value.strip().lower()
        for name, value in re.findall(r"--(cal-[\w-]+)\s*:\s*([^;]+);", root.group(1))
    }


def _luminance(colour: str) -> float:
    match = re.fullmatch(r"#([0-9a-f]{6}|[0-9a-f]{3})", colour)
    assert match, f"{colour} is not a hex colour"
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _hue(colour: str) -> float:
    digits = colour.lstrip("#")
    r, g, b = (int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_formula_matches_wcag_reference_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#0b6e69", "#0b6e69") == pytest.approx(1)


def _keys() -> list[str]:
    legend = [item.key for item in selectors.calendar_legend()]
    return sorted(set(STATUSES + ABSENCES + legend + ["free", "legend"]))


@pytest.mark.parametrize("key", _keys())
def test_text_on_every_fill_has_a_contrast_of_at_least_4_5(key):
    colours = _properties()
    fg = colours[f"cal-{key}-fg"]
    fills = [colours[f"cal-{key}-bg"]] + (
        [colours[f"cal-{key}-bg2"]] if f"cal-{key}-bg2" in colours else []
    )
    for fill in fills:
        ratio = contrast(fg, fill)
        assert ratio >= 4.5, f"{key}: {fg} on {fill} is {ratio:.2f}:1"


def test_each_status_and_absence_has_a_fill_of_its_own():
    colours = _properties()
    keys = STATUSES + ABSENCES
    fills = {
        key: {colours[f"cal-{key}-bg"], colours.get(f"cal-{key}-bg2")} - {None} for key in keys
    }
    for a, b in itertools.combinations(keys, 2):
        assert not fills[a] & fills[b], f"{a} and {b} share a fill"
    # The reported confusion: "Away" shaded the same yellow as "Checked in".
    assert colours["cal-away-bg"] != colours["cal-checked_in-bg"]
    # Not just another shade of it: hues at least 90° apart on the colour wheel.
    away, checked_in = _hue(colours["cal-away-bg"]), _hue(colours["cal-checked_in-bg"])
    assert min(abs(away - checked_in), 360 - abs(away - checked_in)) >= 90


def test_every_status_and_swatch_rule_uses_its_colours():
    css = CSS.read_text()
    for status in STATUSES:
        rule = re.search(rf"\.cal-visit\.status-{status}\b[^{{]*\{{([^}}]*)\}}", css)
        assert rule, f"no rule for status {status}"
        assert f"var(--cal-{status}-bg)" in rule.group(1)
        assert f"var(--cal-{status}-fg)" in rule.group(1)
    for item in selectors.calendar_legend():
        assert re.search(rf"\.cal-swatch-{item.key}\b", css), f"no swatch for {item.key}"
    away = re.search(r"\.cal-away\s*\{([^}]*)\}", css).group(1)
    assert "var(--cal-away-bg)" in away and "var(--cal-away-fg)" in away
    closed = re.search(r"\.cal-closed\s*\{([^}]*)\}", css).group(1)
    assert "var(--cal-closed-bg)" in closed and "var(--cal-closed-fg)" in closed


@pytest.mark.parametrize("view", ["day", "week"])
def test_day_and_week_views_show_the_legend(client_for, front_desk, practitioner, view):
    url = (
        reverse("scheduling:day")
        if view == "day"
        else reverse("scheduling:week", args=[practitioner.pk])
    )
    response = client_for(front_desk).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    legend = page[page.index('<ul class="cal-legend') :]
    legend = legend[: legend.index("</ul>")]
    for label, key in [
        ("Booked", "booked"),
        ("Checked in", "checked_in"),
        ("Completed", "completed"),
        ("No-show", "no_show"),
        ("Away (time off)", "away"),
        ("Outside working hours", "outside"),
        ("Clinic closed", "closed"),
    ]:
        assert f'<span class="cal-swatch cal-swatch-{key}" aria-hidden="true"></span>{label}' in (
            legend
        )
    assert [item.key for item in response.context["legend"]] == [
        "booked",
        "checked_in",
        "completed",
        "no_show",
        "away",
        "outside",
        "closed",
    ]
