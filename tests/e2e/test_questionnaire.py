"""A patient answers the LEFS from the questionnaire email on a phone; the therapist then
sees the patient-reported point on the outcome chart and the patient on Needs attention."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import AppointmentKind, Reminder, ReminderKind
from clinic.reminders import services as reminder_services
from patients.models import QuestionnaireResponse, QuestionnaireStatus
from tests.clinic.reminders.helpers import reminder_send
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    PractitionerFactory,
    TreatmentPlanFactory,
)
from tests.treatments.helpers import signed_assessment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def emailed_patient(therapist, monkeypatch):
    """A patient of ``therapist`` with an initial LEFS of 60, an active plan of care and a
    re-assessment tomorrow: the dispatch sweep queues the questionnaire, which is sent."""
    monkeypatch.setattr(reminder_services, "reminders_enqueue", lambda *, ids: len(ids))
    patient = PatientFactory(first_name="Marta", last_name="Quintero", reminders_opt_in=True)
    initial = signed_assessment(
        therapist=therapist,
        patient=patient,
        lefs_answers=[3] * 20,
        lefs_total=60,
        assessed_at=timezone.now() - dt.timedelta(days=20),
    )
    TreatmentPlanFactory(
        assessment=initial, start_date=timezone.localdate() - dt.timedelta(days=19)
    )
    starts = timezone.now() + dt.timedelta(hours=30)
    AppointmentFactory(
        patient=patient,
        practitioner=PractitionerFactory(user=therapist),
        kind=AppointmentKind.REASSESSMENT,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=45),
    )
    reminder_services.reminders_dispatch()
    reminder = Reminder.objects.get(kind=ReminderKind.QUESTIONNAIRE, patient=patient)
    assert reminder_send(reminder_id=reminder.id).outcome == "sent"
    (message,) = [m for m in mail.outbox if m.to == [patient.email]]
    link = re.search(r"https?://\S+/r/q/\S+/", message.body).group(0)
    return patient, urlsplit(link).path


def test_patient_answers_the_lefs_on_a_phone_and_the_therapist_sees_it(
    browser, live_server, page, login, therapist, emailed_patient, require_service
):
    require_service("chromium")
    patient, path = emailed_patient
    phone = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US"
    )
    phone.set_default_timeout(15_000)
    csp_violations = []
    patient_page = phone.new_page()
    patient_page.on(
        "console",
        lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        patient_page.goto(path)
        expect(patient_page.get_by_role("heading", name="Your everyday activities")).to_be_visible()
        # One column on a phone: nothing wider than the screen.
        width = patient_page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        # A big fall from 60: "quite a bit of difficulty" (1) everywhere, but item 7
        # forgotten on the first try.
        for number in range(1, 21):
            if number == 7:
                continue
            item = patient_page.locator(f"#item-{number}")
            item.get_by_text("Quite a bit of difficulty").click()
        target = patient_page.locator("#item-1 label").nth(1).bounding_box()
        assert target["height"] >= 44 and target["width"] >= PHONE["width"] * 0.6
        patient_page.get_by_role("button", name="Send my answers").click()
        alert = patient_page.get_by_role("alert")
        expect(alert).to_contain_text("One activity is not answered yet: 7. Lifting an object")
        expect(patient_page.locator("#item-7")).to_contain_text("Not answered yet.")
        expect(patient_page.get_by_text("19 of 20 answered")).to_be_visible()
        # The 19 answers are still chosen: only item 7 is left.
        assert patient_page.locator("input[type=radio]:checked").count() == 19
        assert QuestionnaireResponse.objects.get(patient=patient).status == "requested"
        patient_page.locator("#item-7").get_by_text("Quite a bit of difficulty").click()
        patient_page.get_by_role("button", name="Send my answers").click()
        expect(patient_page.get_by_role("status")).to_contain_text("Thank you, Marta")
    finally:
        phone.close()
    assert csp_violations == []
    response = QuestionnaireResponse.objects.get(patient=patient)
    assert (response.status, response.total) == (QuestionnaireStatus.COMPLETED, 20)

    # The therapist: the patient-reported point on the chart, and the fall flagged.
    login(therapist)
    page.goto(f"/patients/{patient.pk}/outcomes/")
    chart = page.get_by_test_id("outcome-chart")
    expect(chart.locator('rect.pt-questionnaire[data-value="20"]')).to_have_count(1)
    expect(chart.locator('circle.pt-assessment[data-value="60"]')).to_have_count(1)
    expect(page.get_by_test_id("legend-questionnaire")).to_be_visible()
    expect(page.get_by_test_id("lefs-table")).to_contain_text("Patient questionnaire")

    page.goto("/attention/")
    row = page.locator(f'li[data-patient="{patient.pk}"]')
    expect(row.get_by_role("link", name="Marta Quintero")).to_be_visible()
    expect(row.locator('[data-reason="lefs_fall"]')).to_contain_text(
        "LEFS fell 40 points, from 60/80"
    )
