"""Needs attention on Today (patients/sections.py), registered from ClinicConfig.ready():
the first rows of the therapist's list, with a link to the full page."""

from . import selectors
from .views import audit_list_view

TODAY_ROWS = 5


def load_attention(request) -> dict:
    # The list's eight queries, and one audit event when patients are shown.
    rows = selectors.needs_attention(request.user)
    shown = rows[:TODAY_ROWS]
    if shown:
        audit_list_view(request, shown, "today")
    return {"rows": shown, "total": len(rows)}
