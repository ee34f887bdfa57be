import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients import services
from patients.models import Assessment, PainSource
from tests.factories import PainReportFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_therapist_records_signs_and_sees_the_assessment_on_the_chart(
    page, login, therapist, require_service
):
    require_service("chromium")
    patient = services.patient_create(
        first_name="José", last_name="García", date_of_birth=dt.date(1968, 11, 14)
    )
    PainReportFactory(
        patient=patient,
        score=8,
        source=PainSource.EMAIL_LINK,
        reported_at=timezone.now() - dt.timedelta(days=14),
    )
    login(therapist)

    # Find the patient the way the desk does: without the accent.
    page.get_by_role("navigation").get_by_role("link", name="Patients").click()
    page.get_by_role("searchbox", name="Search").fill("jose garc")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="García, José").click()
    page.get_by_role("link", name="New assessment").click()

    page.get_by_label("Region").select_option("ankle")
    page.get_by_label("Side").select_option("right")
    page.get_by_label("Pain now (0–10)").fill("4")
    page.get_by_label("Worst pain, last 24 h (0–10)").fill("6")
    page.get_by_label("Best pain, last 24 h (0–10)").fill("2")
    page.get_by_role("checkbox", name="Sharp", exact=True).check()
    page.get_by_role("checkbox", name="Tendinitis", exact=True).check()
    page.get_by_label("Knee-to-wall left (cm)").fill("11")
    page.get_by_label("Knee-to-wall right (cm)").fill("8.5")
    for number in range(1, 21):
        page.locator(f'input[name="lefs_{number}"][value="3"]').check()
    page.get_by_label("Clinical impression").fill("Achilles tendinopathy, improving.")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_text("Assessment saved as a draft")).to_be_visible()
    expect(page.get_by_test_id("lefs-total")).to_contain_text("60 / 80 · 75.0%")
    expect(page.get_by_test_id("ktw-flag")).to_contain_text("2.5 cm")
    page.get_by_role("button", name="Sign assessment").click()
    expect(page.get_by_text("Assessment signed")).to_be_visible()
    expect(page.get_by_role("link", name="Amend")).to_be_visible()
    expect(page.get_by_role("link", name="Edit draft")).to_have_count(0)

    page.get_by_role("link", name="José García").click()
    chart = page.get_by_test_id("outcome-chart")
    expect(chart.locator("circle")).to_have_count(3)  # 2 pain scores + 1 LEFS
    expect(chart.locator('circle.pt-assessment[data-value="4"]')).to_have_count(1)
    expect(page.get_by_test_id("nprs-change")).to_contain_text("8 → 4")
    expect(page.get_by_test_id("nprs-change")).to_contain_text("Clinically important improvement")

    assessment = Assessment.objects.get(patient=patient)
    assert assessment.is_signed and assessment.signed_by == therapist
    assert assessment.lefs_total == 60
