"""Confirmation, change and cancellation emails: keys, calendar entries, consent."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from clinic.models import Appointment, Reminder, ReminderKind, ReminderStatus
from clinic.reminders import kinds, services
from clinic.reminders.emails import reminder_message
from clinic.scheduling import services as scheduling
from patients.localtime import patient_zone
from tests.clinic.reminders.helpers import reminder_send
from tests.factories import FrontDeskFactory, PatientFactory, PractitionerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    """What the outbox hands to the broker after commit, instead of publishing it."""
    calls: list[int] = []

    def fake_enqueue(*, ids):
        calls.extend(ids)
        return len(ids)

    monkeypatch.setattr(services, "reminders_enqueue", fake_enqueue)
    return calls


def _start(days=3, hour=15):
    day = timezone.now() + dt.timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def desk():
    return FrontDeskFactory()


@pytest.fixture
def therapist():
    practitioner = PractitionerFactory()
    practitioner.display_name = "Dana Ortiz"
    practitioner.save(update_fields=["display_name"])
    return practitioner


def _book(patient, therapist, desk, start=None):
    start = start or _start()
    return scheduling.appointment_book(
        patient=patient,
        practitioner=therapist,
        kind="follow_up",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        acting_user=desk,
        allow_outside_hours=True,
    )


def _move(appointment, therapist, desk, start):
    return scheduling.appointment_reschedule(
        appointment=appointment,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        practitioner=therapist,
        room=None,
        acting_user=desk,
        allow_outside_hours=True,
    )


def _event(message):
    (name, content, mimetype) = message.attachments[0]
    calendar = Calendar.from_ical(content)
    (event,) = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event, mimetype


def test_book_move_cancel_enqueue_one_email_each_after_commit_with_one_uid_and_rising_sequence(
    published, desk, therapist, django_capture_on_commit_callbacks
):
    patient = PatientFactory(email="ana@example.com", reminders_opt_in=False)
    rendered = []

    def render(kind):
        # As the send task would, right after the step: the row with what it needs.
        (row,) = services.selectors.reminders_for_send(
            list(Reminder.objects.filter(kind=kind).values_list("id", flat=True))
        )
        rendered.append(_event(reminder_message(row)))
        return row

    with django_capture_on_commit_callbacks(execute=True):
        first = _book(patient, therapist, desk)
    confirmation = render(ReminderKind.CONFIRMATION)
    assert confirmation.key == f"confirmation:{first.pk}"
    assert published == [confirmation.pk]  # published only once the booking committed
    assert (confirmation.appointment, confirmation.status) == (first, ReminderStatus.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        moved = _move(first, therapist, desk, _start(days=4))
    change = render(ReminderKind.CHANGE)
    assert change.key == f"change:{moved.pk}:1" and change.appointment == moved
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.appointment_cancel(appointment=moved, reason="Unwell", acting_user=desk)
    cancellation = render(ReminderKind.CANCELLATION)
    assert cancellation.key == f"cancellation:{moved.pk}"
    assert published == [confirmation.pk, change.pk, cancellation.pk]

    methods = [method for method, _event_, _type in rendered]
    assert methods == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({str(event["UID"]) for _m, event, _t in rendered}) == 1
    assert [int(event["SEQUENCE"]) for _m, event, _t in rendered] == [0, 1, 2]
    assert [t for _m, _e, t in rendered][-1] == "text/calendar; method=CANCEL"
    _method, last, _type = rendered[-1]
    assert str(last["STATUS"]) == "CANCELLED"
    assert str(last["ORGANIZER"]).startswith("mailto:")
    assert str(last["ATTENDEE"]) == "mailto:ana@example.com"


def test_a_second_cancel_or_a_repeated_insert_adds_no_second_row(published, desk, therapist):
    patient = PatientFactory()
    appointment = _book(patient, therapist, desk)
    services_outbox = __import__("clinic.reminders.outbox", fromlist=["x"])
    services_outbox.appointment_emails_enqueue(
        kind=ReminderKind.CONFIRMATION, appointments=[appointment]
    )
    assert Reminder.objects.filter(kind=ReminderKind.CONFIRMATION).count() == 1
    scheduling.appointment_cancel(appointment=appointment, reason="x", acting_user=desk)
    with pytest.raises(scheduling.InvalidTransition):
        scheduling.appointment_cancel(appointment=appointment, reason="x", acting_user=desk)
    assert Reminder.objects.filter(kind=ReminderKind.CANCELLATION).count() == 1


def test_a_visit_cancelled_before_its_confirmation_went_out_gets_no_confirmation(
    published, desk, therapist
):
    appointment = _book(PatientFactory(), therapist, desk)
    scheduling.appointment_cancel(
        appointment=appointment, reason="Booked by mistake", acting_user=desk
    )
    confirmation = Reminder.objects.get(kind=ReminderKind.CONFIRMATION)
    assert reminder_send(reminder_id=confirmation.pk).outcome == "skipped"
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.reason) == ("skipped", "appointment_changed")
    cancellation = Reminder.objects.get(kind=ReminderKind.CANCELLATION)
    assert reminder_send(reminder_id=cancellation.pk).outcome == "sent"
    assert len(mail.outbox) == 1 and "Cancelled" in mail.outbox[0].subject


def test_a_superseded_change_is_skipped_and_a_pending_one_past_the_start_expires(
    published, desk, therapist
):
    first = _book(PatientFactory(), therapist, desk)
    second = _move(first, therapist, desk, _start(days=4))
    _move(second, therapist, desk, _start(days=5))
    outcomes = {
        r.key: reminder_send(reminder_id=r.pk).outcome for r in Reminder.objects.order_by("id")
    }
    assert list(outcomes.values()) == ["skipped", "skipped", "sent"]
    # A confirmation still pending (mail server down) when the visit starts: expired.
    late = _book(PatientFactory(), therapist, desk, start=_start(days=2))
    begun = timezone.now() - dt.timedelta(minutes=1)
    Appointment.objects.filter(pk=late.pk).update(
        starts_at=begun, ends_at=begun + dt.timedelta(minutes=30)
    )
    result = services.reminders_dispatch()
    assert result.expired == 1
    assert Reminder.objects.get(appointment=late).status == ReminderStatus.EXPIRED


def _series(patient, therapist, desk, days=(3, 10, 17)):
    return scheduling.series_book(
        patient=patient,
        practitioner=therapist,
        kind="follow_up",
        starts=[_start(days=d) for d in days],
        duration=dt.timedelta(minutes=30),
        acting_user=desk,
        allow_outside_hours=True,
    )


def _events(message):
    (name, content, mimetype) = message.attachments[0]
    calendar = Calendar.from_ical(content)
    return str(calendar["METHOD"]), calendar.walk("VEVENT"), name


def test_a_series_is_booked_and_cancelled_in_one_email_each_listing_its_visits(
    published, desk, therapist
):
    patient = PatientFactory(email="ana@example.com")
    series = _series(patient, therapist, desk)
    first, second, third = Appointment.objects.filter(series=series).order_by("starts_at")
    (booked,) = Reminder.objects.all()
    assert (booked.kind, booked.key, booked.appointment) == (
        ReminderKind.SERIES_BOOKED,
        f"series_booked:{series.pk}",
        first,
    )
    assert published == []  # not before the booking commits (the test's transaction)
    # One visit cancelled on its own before the email goes out: its own cancellation,
    # and the series' email lists the two still booked.
    scheduling.appointment_cancel(appointment=second, reason="Away", acting_user=desk)
    assert Reminder.objects.filter(kind=ReminderKind.CANCELLATION, appointment=second).exists()
    message = reminder_message(booked)
    assert message.subject.startswith("Booked: 2 appointments")
    for part in (message.body, message.alternatives[0][0]):
        assert "Dana Ortiz" in part
        for visit in (first, third):
            assert f"{visit.starts_at.astimezone(patient_zone(patient)):%H:%M}" in part
    method, events, name = _events(message)
    assert (method, name) == ("REQUEST", "appointments.ics")
    assert [str(e["UID"]) for e in events] == [first.calendar_uid, third.calendar_uid]
    assert {int(e["SEQUENCE"]) for e in events} == {0}
    assert reminder_send(reminder_id=booked.pk).outcome == "sent"

    scheduling.series_cancel_remaining(series=series, reason="Discharged", acting_user=desk)
    (together,) = Reminder.objects.filter(kind=ReminderKind.SERIES_CANCELLED)
    assert together.appointment == first
    message = reminder_message(together)
    assert message.subject.startswith("Cancelled: 2 appointments")
    method, events, _name = _events(message)
    assert method == "CANCEL"
    assert [str(e["UID"]) for e in events] == [first.calendar_uid, third.calendar_uid]
    assert {int(e["SEQUENCE"]) for e in events} == {1}
    assert {str(e["STATUS"]) for e in events} == {"CANCELLED"}
    assert not Reminder.objects.filter(kind=ReminderKind.CONFIRMATION).exists()


def test_a_series_of_one_or_its_last_visit_cancelled_gets_the_one_visit_emails(
    published, desk, therapist
):
    series = _series(PatientFactory(), therapist, desk, days=(3,))
    (visit,) = series.appointments.all()
    assert Reminder.objects.get().key == f"confirmation:{visit.pk}"
    scheduling.series_cancel_following(appointment=visit, reason="Unwell", acting_user=desk)
    assert Reminder.objects.filter(key=f"cancellation:{visit.pk}").exists()


def test_a_series_email_reads_its_visits_once_for_its_check_words_and_calendar(
    published, desk, therapist, django_assert_num_queries
):
    _series(PatientFactory(), therapist, desk, days=(3, 10, 17, 24))
    (row,) = services.selectors.reminders_for_send(
        list(Reminder.objects.values_list("id", flat=True))
    )
    now = timezone.now()
    with django_assert_num_queries(1):  # the series' visits, with their practitioners
        assert kinds.spec_for(row.kind).still_wanted(row, now) is None
        message = reminder_message(row)
    _method, events, _name = _events(message)
    assert len(events) == 4


def test_a_series_email_with_no_visit_left_ahead_is_not_sent(published, desk, therapist):
    series = _series(PatientFactory(), therapist, desk, days=(3, 4))
    booked = Reminder.objects.get(kind=ReminderKind.SERIES_BOOKED)
    scheduling.series_cancel_remaining(series=series, reason="Moved away", acting_user=desk)
    assert reminder_send(reminder_id=booked.pk).outcome == "skipped"
    together = Reminder.objects.get(kind=ReminderKind.SERIES_CANCELLED)
    # Still pending when the visits have passed (the mail server was down): expired.
    past = timezone.now() - dt.timedelta(days=1)
    for visit in series.appointments.all():
        Appointment.objects.filter(pk=visit.pk).update(
            starts_at=past, ends_at=past + dt.timedelta(minutes=30)
        )
        past -= dt.timedelta(days=1)
    assert reminder_send(reminder_id=together.pk).outcome == "expired"
    assert mail.outbox == []


def test_a_series_email_in_spanish_names_each_therapist_when_they_differ(
    published, desk, therapist
):
    patient = PatientFactory(preferred_language="es", first_name="Lucía")
    series = _series(patient, therapist, desk, days=(3, 10, 17))
    other = PractitionerFactory()
    other.display_name = "Iker Soto"
    other.save(update_fields=["display_name"])
    last = series.appointments.order_by("starts_at").last()
    Appointment.objects.filter(pk=last.pk).update(practitioner=other)
    message = reminder_message(Reminder.objects.get(kind=ReminderKind.SERIES_BOOKED))
    assert message.subject.startswith("Reservadas: 3 citas")
    for part in (message.body, message.alternatives[0][0]):
        assert "Hola, Lucía" in part
        assert "con Dana Ortiz" in part and "con Iker Soto" in part
        assert "Follow-up" not in part and "Seguimiento" not in part


@pytest.mark.parametrize(
    "patient_kwargs",
    [{"appointment_emails_opt_in": False}, {"email": ""}],
)
def test_no_appointment_email_without_consent_or_address(
    published, desk, therapist, patient_kwargs
):
    _book(PatientFactory(**patient_kwargs), therapist, desk)
    assert not Reminder.objects.exists()


def test_turning_appointment_emails_off_skips_what_is_queued_but_not_exercise_reminders(
    published, desk, therapist
):
    patient = PatientFactory(reminders_opt_in=True)
    appointment = _book(patient, therapist, desk)
    services.appointment_emails_unsubscribe(patient=patient)
    reminder = Reminder.objects.get(appointment=appointment)
    assert reminder_send(reminder_id=reminder.pk).outcome == "skipped"
    patient.refresh_from_db()
    assert (patient.reminders_opt_in, patient.appointment_emails_opt_in) == (True, False)


def test_appointment_emails_name_therapist_address_and_phone_in_spanish_and_patient_zone(
    published, desk, therapist, settings
):
    settings.CLINIC_ADDRESS = "Calle Mayor 1, Madrid"
    patient = PatientFactory(
        first_name="Lucía", preferred_language="es", timezone="Europe/Madrid", email="l@example.com"
    )
    start = dt.datetime(2030, 7, 1, 14, 30, tzinfo=dt.UTC)  # 16:30 in Madrid
    appointment = _book(patient, therapist, desk, start=start)
    message = reminder_message(Reminder.objects.get(appointment=appointment))
    text = message.body
    html = message.alternatives[0][0]
    assert message.subject.startswith("Reservada") and "16:30" in message.subject
    for part in (text, html):
        assert "Hola, Lucía" in part
        assert "Dana Ortiz" in part and "Calle Mayor 1, Madrid" in part
        assert settings.CLINIC_PHONE in part
        assert "Europe/Madrid" in part
    _method, event, _type = _event(message)
    assert str(event["LOCATION"]) == "Calle Mayor 1, Madrid"
    assert "Dana Ortiz" in str(event["SUMMARY"]) and str(event["SUMMARY"]).startswith("Cita")
    # Nothing clinical: not even the kind of visit.
    assert "Follow-up" not in text + html + str(event)


def test_each_email_unsubscribes_from_its_own_family_only(published, desk, therapist, settings):
    patient = PatientFactory()
    appointment = _book(patient, therapist, desk)
    message = reminder_message(Reminder.objects.get(appointment=appointment))
    assert message.extra_headers["List-Unsubscribe"].startswith(f"<{settings.SITE_URL}/r/ua/")
    assert "Stop appointment emails" in message.body
