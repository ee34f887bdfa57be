"""Reads for the waitlist pages; each does its own select_related/prefetch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from clinic.models import SlotOffer, WaitlistEntry, WaitlistStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PAGE_SIZE = 50
# The staff page shows each entry's latest offers, at most this many.
OFFERS_SHOWN = 5

# The page's filters: "active" (waiting or offered) by default.
FILTERS: dict[str, list[str]] = {
    "active": [WaitlistStatus.WAITING, WaitlistStatus.OFFERED],
    "booked": [WaitlistStatus.BOOKED],
    "withdrawn": [WaitlistStatus.WITHDRAWN],
}


@dataclass(frozen=True)
class EntryPage:
    entries: Sequence[WaitlistEntry]
    page: int
    has_next: bool


def entry_page(*, state: str, page: int, patient_id: int | None = None) -> EntryPage:
    """One page of entries in ``state``, oldest first (the order offers go out in), each
    with its latest offers. Two queries whatever the page holds: the entries (index
    waitlist_status_created_idx) with patient and practitioner, and their offers (one
    windowed query, OFFERS_SHOWN per entry)."""
    offers = SlotOffer.objects.select_related("practitioner").order_by("-created_at", "-id")
    rows = (
        WaitlistEntry.objects.filter(status__in=FILTERS[state])
        .select_related("patient", "practitioner", "booked_appointment")
        .prefetch_related(Prefetch("offers", queryset=offers[:OFFERS_SHOWN], to_attr="latest"))
        .order_by("created_at", "id")
    )
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    start = (page - 1) * PAGE_SIZE
    entries = list(rows[start : start + PAGE_SIZE + 1])
    return EntryPage(entries=entries[:PAGE_SIZE], page=page, has_next=len(entries) > PAGE_SIZE)


def get_entry_for_user(user: User, entry_id: int) -> WaitlistEntry:
    if not user.has_perm("clinic.view_waitlistentry"):
        raise PermissionDenied
    return get_object_or_404(
        WaitlistEntry.objects.select_related("patient", "practitioner"), pk=entry_id
    )


def offer_for_link(offer_id: int) -> SlotOffer | None:
    """The offer a claim link names, with what its page shows."""
    return (
        SlotOffer.objects.select_related("entry__patient", "practitioner", "appointment")
        .filter(pk=offer_id)
        .first()
    )
