"""A patient follows the links of a reminder email in a real browser; staff retry one."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Reminder, ReminderStatus
from clinic.reminders import services
from clinic.reminders.signing import Purpose, link_path
from patients.models import PainReport
from tests.factories import ExerciseFactory, ExercisePrescriptionFactory, HomeExerciseProgramFactory
from treatments.models import ExerciseCompletion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def program():
    program = HomeExerciseProgramFactory(
        patient__first_name="Lucía",
        patient__preferred_language="es",
        patient__timezone="Europe/Madrid",
        start_date=timezone.now().date() - dt.timedelta(days=3),
    )
    ExercisePrescriptionFactory(
        program=program,
        exercise=ExerciseFactory(name="Calf stretch", name_es="Estiramiento de gemelos"),
        sets=3,
        reps=10,
        hold_seconds=30,
    )
    return program


def test_patient_sees_exercises_marks_them_done_and_reports_pain(page, program):
    ids = {
        "patient_id": program.patient_id,
        "email": program.patient.email,
        "program_id": program.id,
    }
    page.goto(link_path(Purpose.EXERCISES, **ids))
    expect(page.get_by_role("heading", name="Ejercicios de hoy")).to_be_visible()
    expect(page.get_by_text("Estiramiento de gemelos")).to_be_visible()
    expect(page.get_by_text("3 series de 10 repeticiones · mantener 30 segundos")).to_be_visible()

    page.goto(link_path(Purpose.DONE, **ids))
    page.get_by_role("button", name="Sí, hoy hice mis ejercicios").click()
    expect(page.get_by_role("status")).to_contain_text("quedan registrados")
    page.reload()
    assert ExerciseCompletion.objects.filter(program=program).count() == 1

    page.goto(link_path(Purpose.PAIN, **ids))
    page.get_by_role("button", name="Enviar").click()  # nothing chosen: a clear error
    expect(page.get_by_role("alert")).to_contain_text("Elija un número del 0 al 10")
    page.get_by_text("6", exact=True).click()
    page.get_by_role("button", name="Enviar").click()
    expect(page.get_by_role("status")).to_contain_text("Gracias, Lucía")
    assert PainReport.objects.get(patient=program.patient).score == 6

    page.goto(link_path(Purpose.UNSUBSCRIBE, **ids))
    page.get_by_role("button", name="Dejar de recibirlos").click()
    expect(page.get_by_role("status")).to_contain_text("no recibirá más recordatorios")
    program.patient.refresh_from_db()
    assert program.patient.reminders_opt_in is False


def test_front_desk_retries_a_failed_reminder(page, login, front_desk, program, monkeypatch):
    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids: len(ids))
    reminder = Reminder.objects.create(
        kind="exercise",
        patient=program.patient,
        program=program,
        due_at=timezone.now(),
        status=ReminderStatus.FAILED,
        last_error="SMTPRecipientsRefused: 550 mailbox unavailable",
        key="exercise:e2e",
    )
    login(front_desk)
    page.get_by_role("navigation").get_by_role("link", name="Reminders").click()
    failed = page.locator('[data-list="failed"]')
    expect(failed).to_contain_text("550 mailbox unavailable")
    expect(failed).not_to_contain_text("Calf stretch")
    failed.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("alert")).to_contain_text("queued again")
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.PENDING


def test_front_desk_retries_all_failed_for_one_reason(page, login, front_desk, monkeypatch):
    from tests.clinic.reminders.helpers import program_due

    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids: len(ids))
    waiting = []
    for index in range(3):
        program = program_due()
        waiting.append(
            Reminder.objects.create(
                kind="exercise",
                patient=program.patient,
                program=program,
                due_at=timezone.now(),
                status=ReminderStatus.FAILED,
                reason="mail_server",
                last_error="ConnectionRefusedError: [Errno 111] Connection refused",
                key=f"exercise:e2e-all-{index}",
            )
        )
    login(front_desk)
    page.get_by_role("navigation").get_by_role("link", name="Reminders").click()
    counts = page.locator('[data-list="counts"]')
    expect(counts.locator('[data-count="failed:mail_server"]')).to_have_text("3")
    counts.get_by_role("button", name="Retry all failed reminders: Mail server unavailable").click()
    expect(page.get_by_role("alert")).to_contain_text("3 failed reminder(s) queued again")
    assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == 3
