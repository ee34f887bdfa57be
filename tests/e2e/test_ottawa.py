import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients import services
from patients.models import Assessment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_knee_rule_age_55_alone_indicates_xray_in_the_browser(
    page, login, therapist, require_service
):
    require_service("chromium")
    today = timezone.localdate()
    patient = services.patient_create(
        first_name="Walter",
        last_name="Reyes",
        date_of_birth=dt.date(today.year - 61, 1, 1),
    )
    login(therapist)
    page.goto(f"/patients/{patient.pk}/assessments/new/")
    page.get_by_label("Pain now (0–10)").fill("5")
    page.get_by_label("Worst pain, last 24 h (0–10)").fill("7")
    page.get_by_label("Best pain, last 24 h (0–10)").fill("3")
    knee_injury = page.get_by_role("radiogroup", name="Blunt knee injury within the last 7 days")
    knee_injury.get_by_label("Yes").check()
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_test_id("ottawa-knee")).to_have_text("X-ray indicated")
    expect(page.get_by_test_id("ottawa-ankle")).to_have_text(
        "Not examined: acute ankle or foot injury not recorded"
    )
    expect(page.get_by_test_id("xray-alert")).to_contain_text("knee")
    # Nothing ticked in the checkbox lists: sent as "none ticked", not as missing.
    assessment = Assessment.objects.get()
    assert assessment.ottawa_acute_knee_injury is True
    assert assessment.precautions == [] and assessment.pain_qualities == []
