"""The appointment reminder's confirm and cancel links, and the appointment unsubscribe."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Reminder,
    ReminderKind,
    SchedulingSettings,
)
from clinic.reminders.signing import Purpose, link_path, make_token
from tests.factories import AppointmentFactory, FrontDeskFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    from clinic.reminders import services

    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids: len(ids))


@pytest.fixture
def visit():
    patient = PatientFactory(first_name="Ana", email="ana@example.com")
    start = (timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    return AppointmentFactory(patient=patient, starts_at=start)


def _path(purpose, appointment, email=None):
    return link_path(
        purpose,
        patient_id=appointment.patient_id,
        email=email or appointment.patient.email,
        appointment_id=appointment.pk,
    )


def test_confirm_get_changes_nothing_post_records_once_and_audits(client, visit):
    path = _path(Purpose.CONFIRM, visit)
    page = client.get(path)
    assert page.status_code == 200 and "Yes, I will come" in page.content.decode()
    visit.refresh_from_db()
    assert visit.confirmed_at is None  # link scanners prefetch: GET never acts
    assert client.post(path).status_code == 302
    assert client.post(path).status_code == 302
    visit.refresh_from_db()
    assert visit.confirmed_at is not None
    event = AuditEvent.objects.get(detail__contains="confirmed by the patient")
    assert event.actor is None and event.patient_id == visit.patient_id
    assert 'data-state="confirmed"' in client.get(path).content.decode()


def test_staff_see_the_confirmation_on_the_visit_page_and_the_calendar(client, visit):
    client.post(_path(Purpose.CONFIRM, visit))
    staff = FrontDeskFactory()
    client.force_login(staff)
    detail = client.get(reverse("scheduling:appointment", args=[visit.pk]))
    assert "Confirmed" in detail.content.decode()
    local_day = timezone.localtime(visit.starts_at).date()
    day = client.get(f"{reverse('scheduling:day')}?date={local_day:%Y-%m-%d}")
    assert "Confirmed ✓" in day.content.decode()


def test_cancel_asks_for_a_reason_then_cancels_through_the_front_desk_service(client, visit):
    path = _path(Purpose.CANCEL, visit)
    page = client.get(path)
    assert page.status_code == 200 and "Why are you cancelling?" in page.content.decode()
    refused = client.post(path, {"reason": "   "})
    assert refused.status_code == 400
    assert "Please tell us why you are cancelling." in refused.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    done = client.post(path, {"reason": "I have to work"}, follow=True)
    assert 'data-state="cancelled"' in done.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED and not visit.late_cancellation
    assert visit.cancel_reason == "Cancelled by the patient (email link): I have to work"
    event = AuditEvent.objects.filter(object_id=str(visit.pk)).latest("id")
    assert event.actor is None and "cancelled" in event.detail
    # The slot is free: the same time can be booked for someone else.
    assert Reminder.objects.get(kind=ReminderKind.CANCELLATION).appointment == visit
    AppointmentFactory(practitioner=visit.practitioner, starts_at=visit.starts_at)
    # A second POST (a double tap) changes nothing more.
    again = client.post(path, {"reason": "again"})
    assert again.status_code == 410


def test_inside_the_late_window_the_page_gives_the_phone_and_post_cancels_nothing(
    client, visit, settings
):
    SchedulingSettings.objects.update_or_create(pk=1, defaults={"late_cancellation_hours": 96})
    path = _path(Purpose.CANCEL, visit)
    page = client.get(path).content.decode()
    assert 'data-state="too-late"' in page and settings.CLINIC_PHONE in page
    assert "<textarea" not in page
    response = client.post(path, {"reason": "Sick"})
    assert 'data-state="too-late"' in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


@pytest.mark.parametrize("purpose", [Purpose.CONFIRM, Purpose.CANCEL])
def test_a_cancelled_or_moved_visit_says_so_and_records_nothing(client, visit, purpose):
    Appointment.objects.filter(pk=visit.pk).update(status=AppointmentStatus.CANCELLED)
    path = _path(purpose, visit)
    assert client.get(path).status_code == 410
    assert client.post(path, {"reason": "x"}).status_code == 410
    visit.refresh_from_db()
    assert visit.confirmed_at is None


@pytest.mark.parametrize("purpose", [Purpose.CONFIRM, Purpose.CANCEL])
def test_links_are_bound_to_address_appointment_and_purpose(client, visit, purpose):
    # Sent to an old address: outdated, nothing recorded.
    old = _path(purpose, visit, email="old@example.com")
    assert client.post(old, {"reason": "x"}).status_code == 410
    # Another patient's appointment id under this patient's signature: not theirs.
    other = AppointmentFactory()
    token = make_token(
        purpose,
        patient_id=visit.patient_id,
        email=visit.patient.email,
        appointment_id=other.pk,
    )
    wrong = _path(purpose, visit).rsplit("/", 2)[0] + f"/{token}/"
    assert client.post(wrong, {"reason": "x"}).status_code == 410
    # A confirm token on the cancel page (and the other way round): wrong purpose.
    swapped = Purpose.CANCEL if purpose is Purpose.CONFIRM else Purpose.CONFIRM
    token = _path(swapped, visit).rstrip("/").rsplit("/", 1)[1]
    assert client.post(wrong.rsplit("/", 2)[0] + f"/{token}/", {"reason": "x"}).status_code == 403
    # A token without an appointment: not valid here.
    bare = make_token(purpose, patient_id=visit.patient_id, email=visit.patient.email)
    assert client.get(wrong.rsplit("/", 2)[0] + f"/{bare}/").status_code == 400
    visit.refresh_from_db()
    other.refresh_from_db()
    assert visit.status == other.status == AppointmentStatus.BOOKED
    assert visit.confirmed_at is None and other.confirmed_at is None


def test_appointment_unsubscribe_turns_off_only_appointment_emails_and_says_so(client, visit):
    patient = visit.patient
    patient.reminders_opt_in = True
    patient.save()
    path = link_path(Purpose.UNSUBSCRIBE_APPOINTMENTS, patient_id=patient.id, email=patient.email)
    assert "Exercise reminders are not affected" in client.get(path).content.decode()
    patient.refresh_from_db()
    assert patient.appointment_emails_opt_in is True
    done = client.post(path).content.decode()
    assert "no more emails about your appointments" in done
    patient.refresh_from_db()
    assert (patient.appointment_emails_opt_in, patient.reminders_opt_in) == (False, True)


def test_the_pages_speak_the_patients_language(client, visit):
    visit.patient.preferred_language = "es"
    visit.patient.save()
    page = client.get(_path(Purpose.CANCEL, visit)).content.decode()
    assert "¿Por qué cancela?" in page and "Cancelar esta cita" in page
    assert "Sí, iré" in client.get(_path(Purpose.CONFIRM, visit)).content.decode()


def test_one_click_list_unsubscribe_of_an_appointment_email_works_without_csrf(visit):
    from django.test import Client

    patient = visit.patient
    path = link_path(Purpose.UNSUBSCRIBE_APPOINTMENTS, patient_id=patient.id, email=patient.email)
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.appointment_emails_opt_in is False
