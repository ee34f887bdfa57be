"""The waitlist pages: who may use them, what they show and cost, and the claim link."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentStatus,
    SlotOffer,
    SlotOfferStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from clinic.reminders.signing import Purpose, make_token
from clinic.waitlist import services
from clinic.waitlist.services import Slot
from clinic.waitlist.signing import make_claim_token
from tests.clinic.scheduling.conftest import at
from tests.factories import PatientFactory

from .conftest import make_entry

pytestmark = pytest.mark.django_db

LIST = reverse("waitlist:list")
ADD = reverse("waitlist:add")


def _offers(visit, desk, count=2):
    entries = [make_entry(created_by=desk) for _ in range(count)]
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    offers = services.waitlist_offer_wave(
        slot=Slot(visit.practitioner_id, visit.starts_at, visit.ends_at)
    )
    return entries, offers


def _claim_url(offer, *, email=None, expires_at=None):
    patient = offer.entry.patient
    token = make_claim_token(
        offer_id=offer.pk,
        patient_id=patient.pk,
        email=email or patient.email,
        expires_at=expires_at or offer.expires_at,
    )
    return reverse("reminder_links:claim", args=[token])


# Who may do what --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "list_status", "add_status", "change_status"),
    [
        ("therapist", 200, 200, 403),
        ("front_desk", 200, 200, 200),
        ("manager", 200, 403, 403),
    ],
)
def test_each_role_gets_what_it_may_use(
    client_for, role_users, desk, visit, role, list_status, add_status, change_status
):
    entry = make_entry(created_by=desk)
    client = client_for(role_users[role])
    assert client.get(LIST).status_code == list_status
    assert client.get(ADD).status_code == add_status
    assert client.get(reverse("waitlist:book", args=[entry.pk])).status_code == change_status
    response = client.post(reverse("waitlist:withdraw", args=[entry.pk]))
    assert response.status_code == (302 if change_status == 200 else 403)
    entry.refresh_from_db()
    expected = WaitlistStatus.WITHDRAWN if change_status == 200 else WaitlistStatus.WAITING
    assert entry.status == expected


def test_anonymous_visitors_are_sent_to_login(client, desk):
    entry = make_entry(created_by=desk)
    for url in (LIST, ADD, reverse("waitlist:book", args=[entry.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(reverse("waitlist:withdraw", args=[entry.pk]))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


# The list page ------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 12])
def test_the_list_runs_a_fixed_number_of_queries(
    client_for, front_desk, desk, visit, rows, django_assert_num_queries, enqueued
):
    _entries, offers = _offers(visit, desk, count=min(rows, 3))
    for _ in range(rows - len(offers)):
        make_entry(created_by=desk)
    client = client_for(front_desk)
    # 1 session, 2 user, 3 user's own permissions, 4 permissions via groups, 5 one page
    # of entries with patient, practitioner and booked visit, 6 their latest offers with
    # practitioners (one windowed query).
    with django_assert_num_queries(6):
        response = client.get(LIST)
    html = response.content.decode()
    assert html.count('data-entry="') == rows
    assert html.count('data-offer-state="open"') == len(offers)


def test_the_list_is_paged(client_for, front_desk, desk):
    for _ in range(51):
        make_entry(created_by=desk)
    client = client_for(front_desk)
    first = client.get(LIST).content.decode()
    second = client.get(LIST, {"page": 2}).content.decode()
    assert first.count('data-entry="') == 50 and "page=2" in first
    assert second.count('data-entry="') == 1


def test_the_list_filters_by_state_and_patient(client_for, front_desk, desk):
    kept = make_entry(created_by=desk)
    make_entry(created_by=desk, status=WaitlistStatus.WITHDRAWN)
    client = client_for(front_desk)
    assert client.get(LIST).content.decode().count('data-entry="') == 1
    assert client.get(LIST, {"state": "withdrawn"}).content.decode().count('data-entry="') == 1
    only = client.get(LIST, {"patient": kept.patient_id}).content.decode()
    assert f'data-entry="{kept.pk}"' in only and only.count('data-entry="') == 1


# Adding an entry ----------------------------------------------------------------------


def _entry_form(who, **overrides):
    today = timezone.localdate()
    data = {
        "patient": who.pk,
        "practitioner": "",
        "kind": "follow_up",
        "earliest_date": today.isoformat(),
        "latest_date": (today + dt.timedelta(days=14)).isoformat(),
        "weekdays": ["0", "2", "4"],
        "window_start": "08:00",
        "window_end": "12:00",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_staff_add_a_patient_to_the_waitlist(client_for, role_users, role):
    patient = PatientFactory()
    response = client_for(role_users[role]).post(ADD, _entry_form(patient))
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.practitioner, entry.weekdays) == (patient, None, [0, 2, 4])
    assert (entry.window_start, entry.window_end) == (dt.time(8), dt.time(12))
    assert entry.created_by == role_users[role]


@pytest.mark.parametrize(
    "overrides",
    [
        {"latest_date": "2020-01-01", "earliest_date": "2020-01-01"},
        {"window_start": "12:00", "window_end": "08:00"},
        {"weekdays": []},
        {"kind": "surgery"},
        {"patient": "99999"},
    ],
)
def test_a_bad_entry_is_refused_on_the_form_and_nothing_is_saved(client_for, front_desk, overrides):
    response = client_for(front_desk).post(ADD, _entry_form(PatientFactory(), **overrides))
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode() or "alert-danger" in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_the_add_form_is_prefilled_from_the_booking_links(
    client_for, front_desk, practitioner, monday
):
    patient = PatientFactory()
    response = client_for(front_desk).get(
        ADD,
        {
            "patient": patient.pk,
            "practitioner": practitioner.pk,
            "kind": "reassessment",
            "date": monday.isoformat(),
        },
    )
    form = response.context["form"]
    assert form.initial["patient"] == patient.pk
    assert form.initial["practitioner"] == practitioner.pk
    assert form.initial["kind"] == "reassessment"
    assert form.initial["earliest_date"] == monday


def test_the_patient_page_and_booking_form_link_to_the_waitlist(client_for, front_desk):
    patient = PatientFactory()
    client = client_for(front_desk)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert f"{ADD}?patient={patient.pk}" in page
    book = client.get(reverse("scheduling:book"), {"patient": patient.pk, "kind": "follow_up"})
    assert "data-waitlist-add" in book.content.decode()


# Booking by hand ------------------------------------------------------------------------


def test_front_desk_books_an_entry_by_hand(client_for, front_desk, desk, practitioner, monday):
    entry = make_entry(created_by=desk)
    response = client_for(front_desk).post(
        reverse("waitlist:book", args=[entry.pk]),
        {"practitioner": practitioner.pk, "date": monday.isoformat(), "time": "11:00"},
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    appointment = Appointment.objects.get()
    assert entry.status == WaitlistStatus.BOOKED and entry.booked_appointment == appointment
    assert appointment.starts_at == at(monday, "11:00")
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=30)


def test_booking_by_hand_into_a_taken_time_says_so_and_books_nothing(
    client_for, front_desk, desk, visit, monday
):
    entry = make_entry(created_by=desk)
    response = client_for(front_desk).post(
        reverse("waitlist:book", args=[entry.pk]),
        {"practitioner": visit.practitioner_id, "date": monday.isoformat(), "time": "10:00"},
    )
    assert response.status_code == 400
    assert "This slot is taken" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


# The claim link ------------------------------------------------------------------------


def test_the_claim_page_shows_the_time_and_books_on_post(client, desk, visit, enqueued):
    entries, offers = _offers(visit, desk)
    url = _claim_url(offers[0])

    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "data-claim-button" in html
    assert "10:00" in html and visit.practitioner.display_name in html
    assert page["Cache-Control"] == "no-store"
    assert not Appointment.objects.filter(status=AppointmentStatus.BOOKED).exists()

    booked = client.post(url)
    assert booked.status_code == 200
    assert 'data-claim="booked"' in booked.content.decode()
    assert Appointment.objects.get(status=AppointmentStatus.BOOKED).patient == entries[0].patient

    # The other patient clicks a moment later.
    taken = client.post(_claim_url(offers[1]))
    assert taken.status_code == 409
    assert 'data-claim="taken"' in taken.content.decode()
    assert "this time has been taken" in taken.content.decode()
    entries[1].refresh_from_db()
    assert entries[1].status == WaitlistStatus.WAITING
    again = client.get(_claim_url(offers[1]))
    assert 'data-claim="taken"' in again.content.decode()


def test_the_claim_page_speaks_the_patients_language(client, desk, visit, enqueued):
    make_entry(created_by=desk, patient=PatientFactory(preferred_language="es"))
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    (offer,) = services.waitlist_offer_wave(
        slot=Slot(visit.practitioner_id, visit.starts_at, visit.ends_at)
    )
    html = client.get(_claim_url(offer)).content.decode()
    assert "Reservar esta hora" in html and "lunes" in html


def test_a_claim_link_that_is_tampered_expired_or_for_an_old_address_does_nothing(
    client, desk, visit, enqueued
):
    entries, offers = _offers(visit, desk, count=1)
    offer = offers[0]
    url = _claim_url(offer)
    assert client.post(url[:-3] + "xx/").status_code == 400
    expired = _claim_url(offer, expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.post(expired).status_code == 410
    old_address = _claim_url(offer, email="someone.else@example.com")
    assert client.post(old_address).status_code == 410
    reminder_link = make_token(
        Purpose.PAIN, patient_id=entries[0].patient_id, email="x@example.com"
    )
    assert client.post(reverse("reminder_links:claim", args=[reminder_link])).status_code == 403
    offer.refresh_from_db()
    assert offer.status == SlotOfferStatus.OPEN
    assert not Appointment.objects.filter(status=AppointmentStatus.BOOKED).exists()


def test_an_expired_offer_says_so_and_keeps_the_patient_listed(client, desk, visit, enqueued):
    entries, offers = _offers(visit, desk, count=1)
    SlotOffer.objects.filter(pk=offers[0].pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    # The token itself is still valid: the offer's own expiry decides.
    url = _claim_url(offers[0], expires_at=timezone.now() + dt.timedelta(minutes=5))
    response = client.post(url)
    assert 'data-claim="expired"' in response.content.decode()
    entries[0].refresh_from_db()
    assert entries[0].status == WaitlistStatus.WAITING
