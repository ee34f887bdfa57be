"""Needs attention on Today (patients/sections.py), registered from ClinicConfig.ready():
the first rows of the therapist's list, with a link to the full page."""

from . import selectors
from .views import audit_list_view

TODAY_ROWS = 5


def load_attention(request) -> dict:
    # The first rows' one query (clinic/attention/selectors.py), and one audit event
    # when patients are shown.
    shown, more = selectors.needs_attention_first(request.user, TODAY_ROWS)
    if shown:
        audit_list_view(request, shown, "today")
    return {"rows": shown, "more": more}
