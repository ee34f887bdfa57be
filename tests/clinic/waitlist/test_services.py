"""The waitlist's rules: which entries a freed slot suits, waves and their expiry, claims."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AuditEvent,
    Reminder,
    ReminderKind,
    ReminderReason,
    ReminderStatus,
    SlotOffer,
    SlotOfferStatus,
    TimeOff,
    WaitlistStatus,
)
from clinic.reminders.services import reminders_send_batch
from clinic.scheduling.services import appointment_book, appointment_reschedule
from clinic.waitlist import services
from clinic.waitlist.services import ClaimOutcome, Slot
from tests.clinic.scheduling.conftest import at
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory

from .conftest import cancel, make_entry

pytestmark = pytest.mark.django_db


def _slot(visit) -> Slot:
    return Slot(visit.practitioner_id, visit.starts_at, visit.ends_at)


def _free(visit, desk, django_capture_on_commit_callbacks):
    """Cancel the visit through the scheduling service, running what waits for commit."""
    with django_capture_on_commit_callbacks(execute=True):
        cancel(visit, desk)


# Matching -----------------------------------------------------------------------


def test_cancelling_a_visit_offers_its_slot_to_the_oldest_matching_entries(
    visit, desk, enqueued, django_capture_on_commit_callbacks
):
    entries = [make_entry(created_by=desk) for _ in range(5)]

    _free(visit, desk, django_capture_on_commit_callbacks)

    offers = list(SlotOffer.objects.order_by("entry__created_at"))
    assert [offer.entry_id for offer in offers] == [entry.id for entry in entries[:3]]
    assert {(o.practitioner_id, o.starts_at, o.ends_at, o.wave) for o in offers} == {
        (visit.practitioner_id, visit.starts_at, visit.ends_at, 1)
    }
    assert all(o.status == SlotOfferStatus.OPEN for o in offers)
    assert offers[0].expires_at - offers[0].created_at == dt.timedelta(minutes=60)
    statuses = [e.status for e in type(entries[0]).objects.order_by("created_at")]
    assert statuses == ["offered"] * 3 + ["waiting"] * 2
    reminders = list(Reminder.objects.filter(kind=ReminderKind.WAITLIST_OFFER).order_by("id"))
    assert [r.key for r in reminders] == [f"waitlist_offer:{o.id}" for o in offers]
    assert [r.offer_id for r in reminders] == [o.id for o in offers]
    assert sorted(enqueued) == [r.id for r in reminders]


def test_a_wave_holds_at_most_the_wave_size(visit, desk, enqueued, settings):
    settings.WAITLIST_WAVE_SIZE = 2
    for _ in range(4):
        make_entry(created_by=desk)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()

    created = services.waitlist_offer_wave(slot=_slot(visit))

    assert len(created) == 2


@pytest.mark.parametrize(
    "reason",
    [
        "other_practitioner",
        "kind_too_long",
        "before_earliest",
        "after_latest",
        "weekday",
        "window_starts_later",
        "window_ends_sooner",
        "no_email",
        "opted_out",
        "archived",
        "visit_that_day",
        "withdrawn",
    ],
)
def test_an_entry_the_slot_does_not_suit_gets_no_offer(visit, desk, enqueued, monday, reason):
    patient = PatientFactory()
    fields: dict = {}
    if reason == "other_practitioner":
        fields["practitioner"] = PractitionerFactory()
    elif reason == "kind_too_long":
        fields["kind"] = AppointmentKind.INITIAL_EVALUATION  # 60 minutes in a 30-minute slot
    elif reason == "before_earliest":
        fields["earliest_date"] = monday + dt.timedelta(days=1)
        fields["latest_date"] = monday + dt.timedelta(days=5)
    elif reason == "after_latest":
        fields["latest_date"] = monday - dt.timedelta(days=1)
        fields["earliest_date"] = monday - dt.timedelta(days=2)
    elif reason == "weekday":
        fields["weekdays"] = [1, 2, 3, 4]  # not Monday
    elif reason == "window_starts_later":
        fields["window_start"] = dt.time(10, 15)
    elif reason == "window_ends_sooner":
        fields["window_end"] = dt.time(10, 20)  # the 30-minute visit ends 10:30
    elif reason == "no_email":
        patient.email = ""
    elif reason == "opted_out":
        patient.appointment_emails_opt_in = False
    elif reason == "archived":
        patient.archived_at = timezone.now()
    elif reason == "visit_that_day":
        start = at(monday, "16:00")
        AppointmentFactory(
            patient=patient, starts_at=start, ends_at=start + dt.timedelta(minutes=30)
        )
    elif reason == "withdrawn":
        fields["status"] = WaitlistStatus.WITHDRAWN
    patient.save()
    make_entry(created_by=desk, patient=patient, **fields)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()

    assert services.waitlist_offer_wave(slot=_slot(visit)) == []
    assert not SlotOffer.objects.exists()


def test_offers_follow_the_appointment_email_consent_not_the_exercise_one(visit, desk, enqueued):
    """Offers are appointment emails (docs/decisions.md, "Consent per kind"): a patient who
    turned exercise reminders off still hears of a freed time."""
    patient = PatientFactory(reminders_opt_in=False, appointment_emails_opt_in=True)
    make_entry(created_by=desk, patient=patient)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    assert len(services.waitlist_offer_wave(slot=_slot(visit))) == 1


def test_an_entry_for_this_practitioner_and_one_for_anyone_both_match(visit, desk, enqueued):
    mine = make_entry(created_by=desk, practitioner=visit.practitioner)
    anyone = make_entry(created_by=desk)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()

    created = services.waitlist_offer_wave(slot=_slot(visit))

    assert {o.entry_id for o in created} == {mine.id, anyone.id}


def test_a_patient_with_two_entries_gets_one_offer_of_a_slot(visit, desk, enqueued):
    patient = PatientFactory()
    make_entry(created_by=desk, patient=patient)
    make_entry(created_by=desk, patient=patient)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()

    assert len(services.waitlist_offer_wave(slot=_slot(visit))) == 1


def test_no_offer_for_a_slot_that_is_booked_again_or_the_practitioner_is_away(
    visit, desk, enqueued
):
    make_entry(created_by=desk)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    TimeOff.objects.create(
        practitioner=visit.practitioner, starts_at=visit.starts_at, ends_at=visit.ends_at
    )
    assert services.waitlist_offer_wave(slot=_slot(visit)) == []
    TimeOff.objects.all().delete()
    AppointmentFactory(
        practitioner=visit.practitioner, starts_at=visit.starts_at, ends_at=visit.ends_at
    )
    assert services.waitlist_offer_wave(slot=_slot(visit)) == []


def test_no_offer_for_a_slot_on_a_day_the_clinic_is_closed(visit, desk, enqueued):
    """A visit cancelled off a closure's worklist frees nothing: nobody may book that day."""
    from clinic.models import ClinicClosure

    make_entry(created_by=desk)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    day = timezone.localtime(visit.starts_at).date()
    closure = ClinicClosure.objects.create(starts_on=day, ends_on=day, reason="Holiday")
    assert services.waitlist_offer_wave(slot=_slot(visit)) == []
    closure.delete()
    assert len(services.waitlist_offer_wave(slot=_slot(visit))) == 1


def test_moving_a_visit_away_offers_its_old_slot(
    visit, desk, enqueued, monday, django_capture_on_commit_callbacks
):
    entry = make_entry(created_by=desk)
    new_start = at(monday, "15:00")
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(
            appointment=visit,
            starts_at=new_start,
            ends_at=new_start + dt.timedelta(minutes=30),
            practitioner=visit.practitioner,
            room=None,
            acting_user=desk,
        )

    offer = SlotOffer.objects.get()
    assert (offer.entry_id, offer.starts_at) == (entry.id, visit.starts_at)


# Waves and expiry ---------------------------------------------------------------


def test_an_unclaimed_wave_expires_and_the_next_wave_goes_out(visit, desk, enqueued):
    entries = [make_entry(created_by=desk) for _ in range(5)]
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    now = timezone.now()
    first = services.waitlist_offer_wave(slot=_slot(visit), now=now)
    assert len(first) == 3

    # Not yet expired: the sweep leaves the wave alone.
    result = services.waitlist_offers_sweep(now=now + dt.timedelta(minutes=59))
    assert (result.expired, result.waves) == (0, 0)

    result = services.waitlist_offers_sweep(now=now + dt.timedelta(minutes=61))

    assert (result.expired, result.waves, result.offers) == (3, 1, 2)
    by_entry = {o.entry_id: o for o in SlotOffer.objects.all()}
    assert [by_entry[e.id].status for e in entries[:3]] == ["expired"] * 3
    assert [by_entry[e.id].wave for e in entries[3:]] == [2, 2]
    assert [by_entry[e.id].status for e in entries[3:]] == ["open", "open"]
    entries_now = {e.id: e.status for e in type(entries[0]).objects.all()}
    # The first wave stays on the list, waiting for another slot.
    assert [entries_now[e.id] for e in entries] == ["waiting"] * 3 + ["offered"] * 2

    # The second wave expires too: nobody is left who was not offered this slot.
    result = services.waitlist_offers_sweep(now=now + dt.timedelta(minutes=125))
    assert (result.expired, result.waves) == (2, 0)
    assert SlotOffer.objects.count() == 5


def test_a_wave_never_outlives_the_slot(visit, desk, enqueued):
    make_entry(created_by=desk)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    now = visit.starts_at - dt.timedelta(minutes=20)

    (offer,) = services.waitlist_offer_wave(slot=_slot(visit), now=now)

    assert offer.expires_at == visit.starts_at


def test_a_slot_starting_too_soon_is_not_offered(visit, desk, enqueued):
    make_entry(created_by=desk)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    now = visit.starts_at - dt.timedelta(minutes=10)
    assert services.waitlist_offer_wave(slot=_slot(visit), now=now) == []


def test_a_second_wave_call_while_one_is_open_does_nothing(visit, desk, enqueued):
    for _ in range(5):
        make_entry(created_by=desk)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    services.waitlist_offer_wave(slot=_slot(visit))
    assert services.waitlist_offer_wave(slot=_slot(visit)) == []
    assert SlotOffer.objects.count() == 3


def test_the_sweep_offers_a_freed_slot_whose_first_wave_never_went_out(visit, desk, enqueued):
    """The process stopped between the cancellation's commit and its offers."""
    entry = make_entry(created_by=desk)
    cancel(visit, desk)  # on_commit callbacks do not run inside the test's transaction
    assert not SlotOffer.objects.exists()

    result = services.waitlist_offers_sweep()

    assert result.waves == 1
    assert SlotOffer.objects.get().entry_id == entry.id


# The offer email -------------------------------------------------------------------


def _offered(visit, desk, **entry_fields):
    entry = make_entry(created_by=desk, **entry_fields)
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    (offer,) = services.waitlist_offer_wave(slot=_slot(visit))
    return entry, offer


def test_the_offer_email_carries_the_time_and_a_claim_link_and_nothing_clinical(
    visit, desk, enqueued
):
    entry, offer = _offered(visit, desk)
    reminder = Reminder.objects.get(offer=offer)

    result = reminders_send_batch(ids=[reminder.id])

    assert result.counts["sent"] == 1
    (message,) = mail.outbox
    assert message.to == [entry.patient.email]
    body = message.body
    assert entry.patient.first_name in body
    assert "/r/w/" in body
    assert visit.practitioner.display_name in body
    assert "10:00" in body and "Monday" in message.subject
    html = message.alternatives[0][0]
    assert "/r/w/" in html
    for clinical in ("Follow-up", "follow_up", "knee", "ankle", "pain"):
        assert clinical not in body and clinical not in message.subject
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT


def test_the_offer_email_is_in_spanish_for_a_spanish_speaking_patient(visit, desk, enqueued):
    patient = PatientFactory(preferred_language="es")
    _entry, offer = _offered(visit, desk, patient=patient)

    reminders_send_batch(ids=[Reminder.objects.get(offer=offer).id])

    (message,) = mail.outbox
    assert "Se ha liberado una hora" in message.subject
    assert "lunes" in message.subject
    assert "Reservar esta hora" in message.alternatives[0][0]


def test_an_offer_closed_before_its_email_left_is_skipped(visit, desk, enqueued):
    _entry, offer = _offered(visit, desk)
    SlotOffer.objects.filter(pk=offer.pk).update(status=SlotOfferStatus.WITHDRAWN)
    reminder = Reminder.objects.get(offer=offer)

    reminders_send_batch(ids=[reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, reminder.reason) == (
        ReminderStatus.SKIPPED,
        ReminderReason.OFFER_CLOSED,
    )
    assert mail.outbox == []


def test_an_offer_to_a_patient_who_opted_out_meanwhile_is_skipped(visit, desk, enqueued):
    entry, offer = _offered(visit, desk)
    type(entry.patient).objects.filter(pk=entry.patient_id).update(appointment_emails_opt_in=False)
    reminder = Reminder.objects.get(offer=offer)

    reminders_send_batch(ids=[reminder.id])

    reminder.refresh_from_db()
    assert (reminder.status, reminder.reason) == (ReminderStatus.SKIPPED, ReminderReason.OPTED_OUT)


# Claims -------------------------------------------------------------------------


def test_the_first_claim_books_and_withdraws_the_other_offers(visit, desk, enqueued):
    entries = [make_entry(created_by=desk) for _ in range(3)]
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    offers = services.waitlist_offer_wave(slot=_slot(visit))
    by_entry = {o.entry_id: o for o in offers}

    result = services.slot_offer_claim(offer=by_entry[entries[1].id])

    assert result.outcome == ClaimOutcome.BOOKED
    booked = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    assert booked == result.appointment
    assert (booked.patient_id, booked.practitioner_id, booked.starts_at) == (
        entries[1].patient_id,
        visit.practitioner_id,
        visit.starts_at,
    )
    assert booked.ends_at - booked.starts_at == dt.timedelta(minutes=30)
    states = {o.entry_id: o.status for o in SlotOffer.objects.all()}
    assert states == {
        entries[0].id: "withdrawn",
        entries[1].id: "claimed",
        entries[2].id: "withdrawn",
    }
    entry_states = {e.id: e.status for e in type(entries[0]).objects.all()}
    assert entry_states == {
        entries[0].id: "waiting",
        entries[1].id: "booked",
        entries[2].id: "waiting",
    }
    assert AuditEvent.objects.filter(
        object_id=str(booked.pk), actor__isnull=True, detail__contains="waitlist offer"
    ).exists()

    # Everyone else who clicks later is told the time has been taken, and stays listed.
    late = services.slot_offer_claim(offer=by_entry[entries[0].id])
    assert late.outcome == ClaimOutcome.TAKEN
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
    # A second click of the winner is not a second booking.
    again = services.slot_offer_claim(offer=by_entry[entries[1].id])
    assert (again.outcome, again.appointment) == (ClaimOutcome.ALREADY_YOURS, booked)


def test_a_claim_after_the_desk_booked_the_time_is_refused_and_the_patient_stays_listed(
    visit, desk, enqueued
):
    entries = [make_entry(created_by=desk) for _ in range(2)]
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    offers = services.waitlist_offer_wave(slot=_slot(visit))
    appointment_book(
        patient=PatientFactory(),
        practitioner=visit.practitioner,
        kind=AppointmentKind.FOLLOW_UP,
        starts_at=visit.starts_at,
        ends_at=visit.ends_at,
        acting_user=desk,
    )

    result = services.slot_offer_claim(offer=offers[0])

    assert result.outcome == ClaimOutcome.TAKEN
    assert set(SlotOffer.objects.values_list("status", flat=True)) == {"withdrawn"}
    assert set(type(entries[0]).objects.values_list("status", flat=True)) == {"waiting"}
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1


def test_a_claim_after_the_offer_expired_books_nothing(visit, desk, enqueued):
    entry, offer = _offered(visit, desk)

    result = services.slot_offer_claim(offer=offer, now=offer.expires_at + dt.timedelta(seconds=1))

    assert result.outcome == ClaimOutcome.EXPIRED
    assert not Appointment.objects.filter(status=AppointmentStatus.BOOKED).exists()
    offer.refresh_from_db()
    entry.refresh_from_db()
    assert (offer.status, entry.status) == ("expired", "waiting")


def test_withdrawing_an_entry_withdraws_its_open_offer(visit, desk, enqueued):
    entry, offer = _offered(visit, desk)

    assert services.waitlist_entry_withdraw(entry=entry, acting_user=desk)

    offer.refresh_from_db()
    entry.refresh_from_db()
    assert (offer.status, entry.status) == ("withdrawn", "withdrawn")
    assert services.slot_offer_claim(offer=offer).outcome == ClaimOutcome.TAKEN
    assert not services.waitlist_entry_withdraw(entry=entry, acting_user=desk)


def test_booking_an_entry_by_hand_goes_through_the_booking_rules(visit, desk, enqueued):
    entry, offer = _offered(visit, desk)
    taken = at(visit.starts_at.date(), "12:00")
    AppointmentFactory(
        practitioner=visit.practitioner, starts_at=taken, ends_at=taken + dt.timedelta(minutes=30)
    )

    with pytest.raises(services.scheduling.SlotTaken):
        services.waitlist_entry_book(
            entry=entry,
            practitioner=visit.practitioner,
            starts_at=taken,
            ends_at=taken + dt.timedelta(minutes=30),
            acting_user=desk,
        )
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.OFFERED

    appointment = services.waitlist_entry_book(
        entry=entry,
        practitioner=visit.practitioner,
        starts_at=taken + dt.timedelta(hours=1),
        ends_at=taken + dt.timedelta(hours=1, minutes=30),
        acting_user=desk,
    )

    entry.refresh_from_db()
    offer.refresh_from_db()
    assert (entry.status, entry.booked_appointment) == (WaitlistStatus.BOOKED, appointment)
    assert offer.status == SlotOfferStatus.WITHDRAWN
