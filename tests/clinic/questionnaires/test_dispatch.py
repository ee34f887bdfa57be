"""When a questionnaire is asked for: the dispatch sweep's cadence, idempotent by the
outbox key (clinic/questionnaires/selectors.py, services.py), and its email."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from clinic.models import AppointmentKind, Reminder, ReminderKind, ReminderReason
from clinic.questionnaires import selectors as questionnaire_selectors
from clinic.reminders import services
from patients.models import QuestionnaireResponse, QuestionnaireStatus
from tests.clinic.reminders.helpers import reminder_send, words_read
from tests.factories import AppointmentFactory, PatientFactory, TreatmentPlanFactory
from treatments.models import PlanStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    """Record what dispatch hands to the broker instead of publishing it."""
    calls = []

    def fake_enqueue(*, ids):
        calls.extend(ids)
        return len(ids)

    monkeypatch.setattr(services, "reminders_enqueue", fake_enqueue)
    return calls


def questionnaire_rows():
    return list(
        Reminder.objects.filter(kind=ReminderKind.QUESTIONNAIRE)
        .select_related("questionnaire")
        .order_by("id")
    )


def visit(kind=AppointmentKind.REASSESSMENT, *, in_hours=24, **patient):
    starts = timezone.now() + dt.timedelta(hours=in_hours)
    return AppointmentFactory(
        kind=kind,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=45),
        patient=PatientFactory(**patient),
    )


def plan(days_ago: int, **patient):
    start = timezone.localdate() - dt.timedelta(days=days_ago)
    plan = TreatmentPlanFactory(start_date=start)
    if patient:
        type(plan.patient).objects.filter(pk=plan.patient_id).update(**patient)
    return plan


@pytest.mark.parametrize("kind", [AppointmentKind.REASSESSMENT, AppointmentKind.DISCHARGE])
def test_a_re_assessment_or_discharge_visit_gets_one_questionnaire_however_many_runs(
    enqueued, kind, django_capture_on_commit_callbacks
):
    appointment = visit(kind, in_hours=30)
    with django_capture_on_commit_callbacks(execute=True):
        services.reminders_dispatch()
        services.reminders_dispatch()
    (row,) = questionnaire_rows()
    assert row.key == f"questionnaire:visit:{appointment.pk}"
    assert row.patient_id == appointment.patient_id
    assert row.questionnaire.status == QuestionnaireStatus.REQUESTED
    assert row.questionnaire.instrument == "lefs"
    assert row.questionnaire.source == "email_link"
    assert QuestionnaireResponse.objects.count() == 1
    assert row.id in enqueued


def test_follow_up_and_initial_visits_get_none(enqueued):
    visit(AppointmentKind.FOLLOW_UP)
    visit(AppointmentKind.INITIAL_EVALUATION)
    services.reminders_dispatch()
    assert questionnaire_rows() == []


@pytest.mark.parametrize(("days", "asked"), [(2, True), (3, False)])
def test_the_visit_is_asked_for_the_configured_days_before(enqueued, settings, days, asked):
    settings.QUESTIONNAIRE_DAYS_BEFORE_VISIT = 2
    visit(in_hours=days * 24 - 1)  # just inside the window for 2 days, outside for 3
    services.reminders_dispatch()
    assert bool(questionnaire_rows()) is asked


def test_a_visit_already_started_or_cancelled_gets_none(enqueued):
    visit(in_hours=-1)
    cancelled = visit()
    cancelled.status = "cancelled"
    cancelled.save(update_fields=["status"])
    services.reminders_dispatch()
    assert questionnaire_rows() == []


@pytest.mark.parametrize(
    "patient",
    [{"reminders_opt_in": False}, {"email": ""}, {"archived_at": timezone.now()}],
    ids=["no consent", "no address", "archived"],
)
def test_only_patients_who_may_get_emails_are_asked(enqueued, patient):
    visit(**patient)
    plan(14, **patient)
    services.reminders_dispatch()
    assert questionnaire_rows() == []


@pytest.mark.parametrize(("days", "period"), [(13, None), (14, 1), (27, 1), (28, 2)])
def test_an_active_plan_is_asked_every_two_weeks(enqueued, settings, days, period):
    settings.QUESTIONNAIRE_EVERY_WEEKS = 2
    care = plan(days)
    services.reminders_dispatch()
    services.reminders_dispatch()
    rows = questionnaire_rows()
    if period is None:
        assert rows == []
    else:
        assert [row.key for row in rows] == [f"questionnaire:plan:{care.pk}:{period}"]


def test_a_plan_that_is_not_active_is_not_asked(enqueued):
    care = plan(14)
    care.status = PlanStatus.COMPLETED
    care.save(update_fields=["status"])
    services.reminders_dispatch()
    assert questionnaire_rows() == []


def test_the_next_period_asks_again_and_the_old_request_expires(enqueued, settings):
    settings.QUESTIONNAIRE_EVERY_WEEKS = 2
    care = plan(14)
    services.reminders_dispatch()
    first = questionnaire_rows()[0].questionnaire
    later = timezone.now() + dt.timedelta(days=14)
    services.reminders_dispatch(now=later)
    keys = [row.key for row in questionnaire_rows()]
    assert keys == [f"questionnaire:plan:{care.pk}:1", f"questionnaire:plan:{care.pk}:2"]
    first.refresh_from_db()
    assert first.status == QuestionnaireStatus.EXPIRED


def test_a_patient_asked_before_the_visit_is_not_asked_again_for_the_plan(enqueued):
    care = plan(14)
    AppointmentFactory(
        patient=care.patient,
        kind=AppointmentKind.REASSESSMENT,
        starts_at=timezone.now() + dt.timedelta(hours=30),
        ends_at=timezone.now() + dt.timedelta(hours=31),
    )
    services.reminders_dispatch()
    services.reminders_dispatch()
    (row,) = questionnaire_rows()
    assert row.key.startswith("questionnaire:visit:")


def test_a_key_inserted_by_another_dispatcher_leaves_no_orphan_request(enqueued, monkeypatch):
    """Two dispatchers at once: the second one's existing-keys check missed the first's
    row (it was not committed yet); its insert is ignored and its response deleted."""
    appointment = visit()
    monkeypatch.setattr("clinic.questionnaires.services.existing_keys", lambda keys: [])
    services.reminders_dispatch()
    services.reminders_dispatch()
    assert len(questionnaire_rows()) == 1
    assert QuestionnaireResponse.objects.filter(patient=appointment.patient).count() == 1


def test_requests_expire_with_their_link(enqueued, settings):
    settings.REMINDER_LINK_MAX_AGE_DAYS = 14
    patient = PatientFactory()
    old = QuestionnaireResponse.objects.create(
        patient=patient, instrument="lefs", requested_at=timezone.now() - dt.timedelta(days=15)
    )
    fresh = QuestionnaireResponse.objects.create(
        patient=patient, instrument="lefs", requested_at=timezone.now() - dt.timedelta(days=13)
    )
    services.reminders_dispatch()
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == ("expired", "requested")


def test_plan_period_boundaries():
    start = dt.date(2026, 1, 1)
    period = questionnaire_selectors.plan_period
    assert period(start=start, today=start, every_weeks=2) == (0, start)
    assert period(start=start, today=dt.date(2026, 1, 14), every_weeks=2) == (0, start)
    assert period(start=start, today=dt.date(2026, 1, 15), every_weeks=2) == (
        1,
        dt.date(2026, 1, 15),
    )


# Sending ---------------------------------------------------------------------------


def _sent_email(enqueued, language="en"):
    visit(first_name="Rosa", preferred_language=language)
    services.reminders_dispatch()
    (row,) = questionnaire_rows()
    assert reminder_send(reminder_id=row.id).outcome == "sent"
    (message,) = mail.outbox
    return row, message


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_email_discloses_nothing_clinical_and_carries_the_questionnaire_link(
    enqueued, language
):
    row, message = _sent_email(enqueued, language)
    text = message.body
    html = message.alternatives[0][0]
    everything = words_read(message.subject, text, html)
    for word in ("lefs", "nprs", "knee", "rodilla", "ankle", "tobillo", "pain", "dolor", "score"):
        assert word not in everything, word
    assert "/r/q/" in text and "/r/q/" in html
    assert message.extra_headers["Content-Language"] == language
    if language == "es":
        assert "un breve cuestionario de su fisioterapeuta" in message.subject
    else:
        assert "a short questionnaire from your therapist" in message.subject


def test_a_questionnaire_answered_before_its_email_goes_out_is_skipped(enqueued):
    visit()
    services.reminders_dispatch()
    (row,) = questionnaire_rows()
    row.questionnaire.status = QuestionnaireStatus.COMPLETED
    row.questionnaire.completed_at = timezone.now()
    row.questionnaire.total = 40
    row.questionnaire.save()
    assert reminder_send(reminder_id=row.id).outcome == "skipped"
    row.refresh_from_db()
    assert row.reason == ReminderReason.QUESTIONNAIRE_CLOSED
    assert mail.outbox == []


def test_dispatch_reads_questionnaire_occasions_in_batches_not_per_patient(
    enqueued, settings, django_assert_max_num_queries
):
    settings.REMINDER_BATCH_SIZE = 10
    settings.APPOINTMENT_REMINDER_HOURS = 24  # only the questionnaires are due
    for _ in range(12):
        visit(in_hours=30)  # past the appointment reminders' 24 hours
    # The sweep without questionnaires is pinned in test_services_dispatch. Here: visits
    # in 2 batches, each with its latest requests (2) and its insert (existing keys, two
    # inserts, the ids, the expiry update, savepoints: 7); the plans (1).
    with django_assert_max_num_queries(12 + 2 * 9 + 1):
        services.reminders_dispatch()
    assert len(questionnaire_rows()) == 12


def test_front_desk_sees_the_questionnaire_email_named_but_nothing_clinical(
    enqueued, client_for, front_desk
):
    from django.urls import reverse

    visit(in_hours=30, first_name="Inés")
    services.reminders_dispatch()
    html = client_for(front_desk).get(reverse("reminders:list"), {"status": "pending"})
    html = html.content.decode()
    assert "Questionnaire" in html and "Inés" in html
    assert "LEFS" not in html


def test_never_two_questionnaires_closer_than_the_cadence(enqueued, settings):
    """Asked 10 days ago (before a visit): the plan's next period waits until 14 days
    have passed since that request, and then asks under the period's key."""
    settings.QUESTIONNAIRE_EVERY_WEEKS = 2
    care = plan(28)  # period 2 begins today
    QuestionnaireResponse.objects.create(
        patient=care.patient, instrument="lefs", requested_at=timezone.now() - dt.timedelta(days=10)
    )
    services.reminders_dispatch()
    assert questionnaire_rows() == []
    services.reminders_dispatch(now=timezone.now() + dt.timedelta(days=4, minutes=1))
    assert [row.key for row in questionnaire_rows()] == [f"questionnaire:plan:{care.pk}:2"]


def test_the_usual_minute_reads_the_plans_in_one_query(enqueued, django_assert_num_queries):
    for _ in range(3):
        plan(15)
    services.reminders_dispatch()
    assert len(questionnaire_rows()) == 3
    with django_assert_num_queries(1):  # everyone asked lately: nothing comes back
        assert list(questionnaire_selectors.plan_occasions(now=timezone.now())) == []
