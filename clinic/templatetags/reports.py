"""Filters for the caseload reports' figures (clinic/reports/)."""

from django import template

from clinic.reports.svg import percent as _percent

register = template.Library()


@register.filter
def percent(value):
    """A share as a whole percentage ("37 %"), or a dash when there is nothing to divide."""
    return _percent(value)


@register.filter
def decimal1(value):
    """A median as one decimal ("4.5"), a dash when there is none."""
    return "–" if value is None else f"{value:.1f}"


@register.filter
def hours(minutes):
    """Minutes as hours, one decimal ("37.5 h")."""
    return f"{minutes / 60:.1f} h"


@register.filter
def get_cell(mapping, key):
    """``mapping[key]`` (a report's figures for one practitioner or week), or None."""
    return mapping.get(key)
