"""The staff Reminders page, the retry action and the patient page's Reminders section."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent, Reminder, ReminderStatus
from clinic.reminders import services
from tests.factories import AppointmentFactory, PatientFactory

from .helpers import program_due

pytestmark = pytest.mark.django_db

LIST = reverse("reminders:list")


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids, countdown=None: len(ids))


def _reminder(status=ReminderStatus.SENT, **kw):
    program = program_due(**kw)
    return Reminder.objects.create(
        kind="exercise",
        patient=program.patient,
        program=program,
        due_at=timezone.now() - dt.timedelta(hours=1),
        status=status,
        sent_at=timezone.now() if status == ReminderStatus.SENT else None,
        last_error="SMTPRecipientsRefused: 550 no such user" if status == "failed" else "",
        key=f"exercise:{program.id}:{status}",
    )


def _populate(n: int):
    for _ in range(n):
        _reminder(ReminderStatus.SENT)
        _reminder(ReminderStatus.FAILED)
        _reminder(ReminderStatus.PENDING)
        PatientFactory(reminders_opt_in=False)
        AppointmentFactory(starts_at=timezone.now() + dt.timedelta(hours=30))


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_front_desk_and_managers_see_the_reminders_page(client_for, role_users, role):
    failed = _reminder(ReminderStatus.FAILED, patient_first_name="Zoe")
    opted_out = PatientFactory(first_name="Olga", reminders_opt_in=False)
    response = client_for(role_users[role]).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-reminder="{failed.pk}"' in html
    assert "550 no such user" in html  # the reason
    assert opted_out.full_name in html
    assert reverse("reminders:retry", args=[failed.pk]) in html


def test_the_page_shows_no_clinical_content(client_for, front_desk):
    reminder = _reminder(ReminderStatus.SENT)
    html = client_for(front_desk).get(LIST).content.decode()
    prescription = reminder.program.prescriptions.select_related("exercise").get()
    assert prescription.exercise.name not in html
    assert "Exercise reminder" in html


def test_therapists_are_forbidden(client_for, therapist):
    assert client_for(therapist).get(LIST).status_code == 403


def test_navigation_shows_reminders_to_roles_that_may_open_it(client_for, role_users):
    for role, visible in (("front_desk", True), ("manager", True), ("therapist", False)):
        html = client_for(role_users[role]).get(reverse("today")).content.decode()
        assert (LIST in html) is visible


@pytest.mark.parametrize("rows", [1, 6])
def test_the_page_runs_a_fixed_number_of_queries(
    client_for, front_desk, django_assert_num_queries, rows
):
    _populate(rows)
    client = client_for(front_desk)
    # 1 session, 2 user, 3 user's own permissions, 4 permissions via groups (the
    # permission_required check), 5 status counts, 6 pending/sending rows + patients,
    # 7 sent rows + patients, 8 failed rows + patients, 9 booked appointments whose
    # reminder is not yet due + patients, 10 opted-out patients. The navigation checks
    # permissions, already loaded: no query for the user's groups.
    with django_assert_num_queries(10):
        response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-appointment="') == rows


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_retry_puts_a_failed_reminder_back_in_the_queue(client_for, role_users, role):
    failed = _reminder(ReminderStatus.FAILED)
    response = client_for(role_users[role]).post(reverse("reminders:retry", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (ReminderStatus.PENDING, 0)
    assert AuditEvent.objects.filter(
        actor=role_users[role], object_id=str(failed.pk), detail__contains="retry"
    ).exists()


def test_retry_of_a_sent_reminder_changes_nothing(client_for, front_desk):
    sent = _reminder(ReminderStatus.SENT)
    response = client_for(front_desk).post(reverse("reminders:retry", args=[sent.pk]), follow=True)
    assert "Only a failed reminder can be retried" in response.content.decode()
    sent.refresh_from_db()
    assert sent.status == ReminderStatus.SENT


def test_retry_is_forbidden_to_therapists_and_anonymous(client_for, therapist, client):
    failed = _reminder(ReminderStatus.FAILED)
    url = reverse("reminders:retry", args=[failed.pk])
    assert client_for(therapist).post(url).status_code == 403
    client.logout()
    assert client.post(url).status_code == 302
    failed.refresh_from_db()
    assert failed.status == ReminderStatus.FAILED


def test_retry_needs_post_and_a_real_reminder(client_for, front_desk):
    failed = _reminder(ReminderStatus.FAILED)
    assert (
        client_for(front_desk).get(reverse("reminders:retry", args=[failed.pk])).status_code == 405
    )
    assert client_for(front_desk).post(reverse("reminders:retry", args=[987654])).status_code == 404


def test_patient_page_shows_delivery_history_to_front_desk_and_managers(client_for, role_users):
    reminder = _reminder(ReminderStatus.FAILED)
    url = reverse("patients:detail", args=[reminder.patient_id])
    for role in ("front_desk", "manager"):
        html = client_for(role_users[role]).get(url).content.decode()
        assert 'data-section="reminders"' in html
        assert f'data-reminder="{reminder.pk}"' in html
        assert reminder.program.prescriptions.get().exercise.name not in html
    html = client_for(role_users["therapist"]).get(url).content.decode()
    assert 'data-section="reminders"' not in html


@pytest.mark.parametrize("rows", [1, 8])
def test_the_patient_section_runs_one_query(rows, django_assert_num_queries, rf, front_desk):
    from clinic.reminders.sections import _load

    reminder = _reminder(ReminderStatus.SENT)
    for index in range(rows):
        Reminder.objects.create(
            kind="exercise",
            patient=reminder.patient,
            program=reminder.program,
            due_at=timezone.now() - dt.timedelta(days=index + 1),
            key=f"history-{index}",
        )
    request = rf.get("/")
    request.user = front_desk
    # 1: the patient's latest reminders.
    with django_assert_num_queries(1):
        data = _load(request, reminder.patient)
    assert len(data["reminders"]) == rows + 1
