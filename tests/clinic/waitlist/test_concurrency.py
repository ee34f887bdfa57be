"""Two patients claim one freed slot at the same instant, against PostgreSQL: exactly one
is booked, the other is told the time has been taken and stays on the waitlist."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from clinic.models import (
    Appointment,
    AppointmentStatus,
    SlotOffer,
    SlotOfferStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from clinic.waitlist import services
from clinic.waitlist.services import ClaimOutcome, Slot

from .conftest import make_entry

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def _race(offers: list[SlotOffer]) -> list:
    barrier = threading.Barrier(len(offers))
    results: list = [None] * len(offers)

    def claim(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = services.slot_offer_claim(offer=offers[i]).outcome
        except BaseException as error:  # noqa: BLE001 - any escape fails the test
            results[i] = ("unexpected", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(offers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_patients_claiming_one_slot_at_once_book_it_exactly_once(
    require_service, desk, visit, monkeypatch, round_
):
    require_service("postgresql")
    monkeypatch.setattr(services, "_enqueue", lambda ids: None)
    first, second = make_entry(created_by=desk), make_entry(created_by=desk)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    offers = services.waitlist_offer_wave(
        slot=Slot(visit.practitioner_id, visit.starts_at, visit.ends_at)
    )
    assert len(offers) == 2

    results = _race(offers)

    assert sorted(results) == sorted([ClaimOutcome.BOOKED, ClaimOutcome.TAKEN]), results
    booked = Appointment.objects.filter(status=AppointmentStatus.BOOKED)
    assert booked.count() == 1
    winner = offers[results.index(ClaimOutcome.BOOKED)].entry_id
    loser = first.id if winner == second.id else second.id
    assert booked.get().patient_id == WaitlistEntry.objects.get(pk=winner).patient_id
    states = dict(SlotOffer.objects.values_list("entry_id", "status"))
    assert states == {winner: SlotOfferStatus.CLAIMED, loser: SlotOfferStatus.WITHDRAWN}
    entries = dict(WaitlistEntry.objects.values_list("id", "status"))
    assert entries == {winner: WaitlistStatus.BOOKED, loser: WaitlistStatus.WAITING}
