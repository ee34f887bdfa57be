"""Links and dates for long lists, made once per list rather than once per row.

A ``{% url %}`` tag or a ``|date`` filter costs a template node, a resolver look-up and a
format parse each time it runs: on a list of 40 rows that is most of the list's render.
``path_maker`` reverses a URL once and fills in the ids with ``str.format``; ``when``
formats a moment in the current time zone with Django's own date formatting (the same
output as the ``|date`` filter). The calendar does the same (clinic/scheduling/selectors.py,
``_present``; docs/decisions.md, "Pages at a clinic group's size").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.urls import reverse
from django.utils import dateformat, timezone

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
    """``{{ value|date:fmt }}`` for an aware datetime, in the current time zone."""
    return dateformat.format(timezone.localtime(value), fmt)
