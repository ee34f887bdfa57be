"""Links and dates for long lists, made once per list rather than once per row.

A ``{% url %}`` tag or a ``|date`` filter costs a template node, a resolver look-up and a
format parse each time it runs: on a list of 40 rows that is most of the list's render.
``path_maker`` reverses a URL once and fills in the ids with ``str.format``; ``when``
formats a moment in the current time zone as the ``|date`` filter does (the same output,
the usual formats filled in without parsing them each time), and ``when_maker`` does it
for a list's rows with the time zone and language looked up once. The calendar does the same
(clinic/scheduling/selectors.py, ``_present``; docs/decisions.md, "Pages at a clinic
group's size").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import get_language

# Ids no real URL holds: they mark where each id goes in the reversed path.
_MARKERS = [987_654_321_000 + n for n in range(4)]


def path_maker(name: str, ids: int) -> Callable[..., str]:
    """``path_maker("patients:assessment_detail", 2)(patient_id, pk)`` equals
    ``reverse("patients:assessment_detail", args=[patient_id, pk])``."""
    markers = _MARKERS[:ids]
    path = reverse(name, args=markers).replace("{", "{{").replace("}", "}}")
    for marker in markers:
        path = path.replace(str(marker), "{}", 1)
    return path.format


def when(value: dt.datetime, fmt: str) -> str:
    """``{{ value|date:fmt }}`` for an aware datetime, in the current time zone.

    The formats lists use (day, weekday and month abbreviations, day and month numbers,
    year, hours, minutes, seconds) are filled in directly, with the names translated once
    per language; any other format goes through Django's date formatting, which parses
    it each time."""
    return when_maker(fmt)(value)


def when_maker(fmt: str) -> Callable[[dt.datetime], str]:
    """``when`` in one format for the rows of a list: the current time zone and language
    are looked up once for the list, not per row (a few microseconds each)."""
    zone = timezone.get_current_timezone()
    pieces = _compiled(fmt)
    if pieces is None:
        return lambda value: dateformat.format(timezone.localtime(value, zone), fmt)
    weekdays, months = _names(get_language())
    fields = [(_FIELDS.get(piece), piece) for piece in pieces]

    def format_(value: dt.datetime) -> str:
        local = timezone.localtime(value, zone)
        return "".join(
            field(local, weekdays, months) if field else piece for field, piece in fields
        )

    return format_


# The format characters ``when`` fills in itself, as Django's DateFormat does.
_FIELDS: dict[str, Callable[[dt.datetime, tuple[str, ...], tuple[str, ...]], str]] = {
    "D": lambda d, weekdays, months: weekdays[d.weekday()],
    "M": lambda d, weekdays, months: months[d.month],
    "j": lambda d, weekdays, months: str(d.day),
    "d": lambda d, weekdays, months: f"{d.day:02d}",
    "m": lambda d, weekdays, months: f"{d.month:02d}",
    "Y": lambda d, weekdays, months: f"{d.year:04d}",
    "H": lambda d, weekdays, months: f"{d.hour:02d}",
    "i": lambda d, weekdays, months: f"{d.minute:02d}",
    "s": lambda d, weekdays, months: f"{d.second:02d}",
}


@cache
def _compiled(fmt: str) -> tuple[str, ...] | None:
    """``fmt`` as format characters and literal text, or None when it has a character
    ``when`` does not fill in (or a backslash escape)."""
    if "\\" in fmt or any(c.isalpha() and c not in _FIELDS for c in fmt):
        return None
    return tuple(fmt)


@cache
def _names(language: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Weekday and month abbreviations in ``language`` (the current one when called),
    as DateFormat's "D" and "M" give them."""
    weekdays = tuple(str(WEEKDAYS_ABBR[day]) for day in range(7))
    months = ("", *(str(MONTHS_3[month]).title() for month in range(1, 13)))
    return weekdays, months
