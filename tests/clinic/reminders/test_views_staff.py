"""The staff Reminders page, the retry action and the patient page's Reminders section."""

import datetime as dt
import re

import pytest
from django.conf import settings
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
    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids: len(ids))


def _reminder(status=ReminderStatus.SENT, reason="", **kw):
    program = program_due(**kw)
    return Reminder.objects.create(
        reason=reason or ("address_refused" if status == ReminderStatus.FAILED else ""),
        kind="exercise",
        patient=program.patient,
        program=program,
        due_at=timezone.now() - dt.timedelta(hours=1),
        status=status,
        sent_at=timezone.now() if status == ReminderStatus.SENT else None,
        last_error="SMTPRecipientsRefused: 550 no such user" if status == "failed" else "",
        key=f"exercise:{program.id}:{status}:{reason}",
    )


def _populate(n: int):
    for _ in range(n):
        _reminder(ReminderStatus.SENT)
        _reminder(ReminderStatus.FAILED)
        _reminder(ReminderStatus.PENDING)
        PatientFactory(reminders_opt_in=False)
        # A visit whose reminder is not yet due: later than the reminders' lead.
        later = dt.timedelta(hours=settings.APPOINTMENT_REMINDER_HOURS + 6)
        AppointmentFactory(starts_at=timezone.now() + later)


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
    assert reverse("reminders:retry_failed") in html


def test_the_page_shows_no_clinical_content(client_for, front_desk):
    reminder = _reminder(ReminderStatus.SENT)
    html = client_for(front_desk).get(LIST, {"status": "sent"}).content.decode()
    prescription = reminder.program.prescriptions.select_related("exercise").get()
    assert prescription.exercise.name not in html
    assert "Exercise reminder" in html
    assert f'data-reminder="{reminder.pk}"' in html


def test_therapists_are_forbidden(client_for, therapist):
    assert client_for(therapist).get(LIST).status_code == 403


def test_navigation_shows_reminders_to_roles_that_may_open_it(client_for, role_users):
    for role, visible in (("front_desk", True), ("manager", True), ("therapist", False)):
        html = client_for(role_users[role]).get(reverse("today")).content.decode()
        assert (LIST in html) is visible


def test_counts_by_state_and_reason(client_for, front_desk):
    for _ in range(3):
        _reminder(ReminderStatus.FAILED, reason="address_refused")
    _reminder(ReminderStatus.FAILED, reason="mail_server")
    _reminder(ReminderStatus.SENT)
    _reminder(ReminderStatus.UNCONFIRMED, reason="worker_stopped")
    html = client_for(front_desk).get(LIST).content.decode()
    assert 'data-count="failed">4<' in html
    assert 'data-count="failed:address_refused">3<' in html
    assert 'data-count="failed:mail_server">1<' in html
    assert 'data-count="sent">1<' in html
    assert 'data-count="unconfirmed">1<' in html


def test_counts_stop_at_the_cap(client_for, front_desk, settings):
    settings.REMINDER_COUNT_CAP = 2
    for _ in range(3):
        _reminder(ReminderStatus.SENT)
    html = client_for(front_desk).get(LIST).content.decode()
    assert 'data-count="sent">2+<' in html


def test_unconfirmed_reminders_are_not_called_lost_and_offer_no_retry(client_for, front_desk):
    row = _reminder(ReminderStatus.UNCONFIRMED, reason="worker_stopped")
    Reminder.objects.filter(id=row.id).update(last_error=services.STALE_CLAIM_ERROR)
    html = client_for(front_desk).get(LIST, {"status": "unconfirmed"}).content.decode()
    assert f'data-reminder="{row.pk}"' in html
    assert "most likely reached the patient" in html
    assert "did not reach" not in html
    assert reverse("reminders:retry", args=[row.pk]) not in html


def test_pages_through_every_row_of_a_state(client_for, front_desk, settings):
    from clinic.reminders import selectors

    rows = [_reminder(ReminderStatus.SENT) for _ in range(selectors.STAFF_LIST_LIMIT + 7)]
    client = client_for(front_desk)
    seen = []
    query = {"status": "sent"}
    for _ in range(5):
        html = client.get(LIST, query).content.decode()
        seen += [int(x) for x in re.findall(r'data-reminder="(\d+)"', html)]
        found = re.search(r'href="\?status=sent&amp;after=([0-9.]+)"', html)
        if not found:
            break
        query = {"status": "sent", "after": found.group(1)}
    assert sorted(seen) == sorted(row.pk for row in rows)  # each once, none missing


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"after": "x.y"}, {"reason": "nope"}])
def test_bad_list_parameters_show_the_default_list(client_for, front_desk, query):
    assert client_for(front_desk).get(LIST, query).status_code == 200


@pytest.mark.parametrize("rows", [1, 6])
@pytest.mark.parametrize("status", ["failed", "pending", "sent"])
def test_the_page_runs_a_fixed_number_of_queries(
    client_for, front_desk, django_assert_num_queries, rows, status
):
    _populate(rows)
    client = client_for(front_desk)
    # 1 session, 2 user, 3 user's own permissions, 4 permissions via groups (the
    # permission_required check), 5 one page of the chosen state + patients, 6 the
    # bounded counts by state and reason (one statement), 7 opted-out patients; on the
    # pending list, 8 booked appointments whose reminder is not yet due + patients.
    # The navigation checks permissions, already loaded: no query for the user's groups.
    with django_assert_num_queries(8 if status == "pending" else 7):
        response = client.get(LIST, {"status": status})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-reminder="') == rows
    if status == "pending":
        assert html.count('data-appointment="') == rows


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_retry_all_failed_for_a_reason(client_for, role_users, role):
    refused = [_reminder(ReminderStatus.FAILED, reason="mail_server") for _ in range(3)]
    other = _reminder(ReminderStatus.FAILED, reason="address_refused")
    user = role_users[role]
    response = client_for(user).post(reverse("reminders:retry_failed"), {"reason": "mail_server"})
    assert response.status_code == 302
    assert Reminder.objects.filter(id__in=[r.id for r in refused], status="pending").count() == 3
    other.refresh_from_db()
    assert other.status == ReminderStatus.FAILED  # another reason: untouched
    event = AuditEvent.objects.get(actor=user, object_id="failed:mail_server")
    assert "3 failed reminder(s)" in event.detail


def test_retry_all_is_forbidden_to_therapists_and_anonymous_and_needs_post(
    client_for, therapist, front_desk, client
):
    failed = _reminder(ReminderStatus.FAILED, reason="mail_server")
    url = reverse("reminders:retry_failed")
    assert client_for(therapist).post(url, {"reason": "mail_server"}).status_code == 403
    client.logout()
    assert client.post(url, {"reason": "mail_server"}).status_code == 302
    assert client_for(front_desk).get(url).status_code == 405
    failed.refresh_from_db()
    assert failed.status == ReminderStatus.FAILED


def test_retry_all_with_an_unknown_reason_changes_nothing(client_for, front_desk):
    failed = _reminder(ReminderStatus.FAILED, reason="mail_server")
    response = client_for(front_desk).post(
        reverse("reminders:retry_failed"), {"reason": "<script>"}, follow=True
    )
    assert "Choose a reason" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == ReminderStatus.FAILED


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


def test_patient_page_says_not_confirmed_and_waiting_in_words_that_do_not_claim_a_loss(
    client_for, front_desk
):
    unconfirmed = _reminder(ReminderStatus.UNCONFIRMED, reason="worker_stopped")
    waiting = Reminder.objects.create(
        kind="exercise",
        patient=unconfirmed.patient,
        program=unconfirmed.program,
        due_at=timezone.now(),
        status=ReminderStatus.PENDING,
        reason="mail_server",
        key="waiting",
    )
    url = reverse("patients:detail", args=[unconfirmed.patient_id])
    html = client_for(front_desk).get(url).content.decode()
    assert f'data-reminder="{unconfirmed.pk}"' in html and f'data-reminder="{waiting.pk}"' in html
    assert "Sent, not confirmed" in html
    assert "Waiting for the mail server" in html
    assert "Failed" not in html
