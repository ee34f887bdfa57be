"""A therapist plans a contraindicated technique: warned before saving, then overrides."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import AuditEvent
from tests.treatments.helpers import signed_assessment
from treatments.models import PlannedTechnique

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contraindicated_technique_is_warned_refused_then_overridden(
    page, login, therapist, require_service
):
    require_service("chromium")
    assessment = signed_assessment(
        therapist=therapist,
        xray_indicated=True,  # Ottawa positive
        assessed_at=timezone.now() - dt.timedelta(days=1),
    )
    login(therapist)
    page.goto(f"/patients/{assessment.patient_id}/")
    page.get_by_role("link", name="New plan of care").click()
    screening = page.locator("#screening")
    expect(screening).to_contain_text("Ottawa rule positive (x-ray indicated): contraindicated")

    page.get_by_label("Goals").fill("Walk to the shops without pain.")
    row = page.locator("fieldset", has_text="Technique 1")
    row.get_by_label("Technique", exact=True).select_option(
        label="High-velocity low-amplitude (HVLA) thrust (grades V)"
    )
    row.get_by_label("Grade").select_option("V")
    row.get_by_label("Target joint or region").fill("Right talocrural joint")
    page.get_by_role("button", name="Save plan").click()
    expect(row.get_by_text("is contraindicated for this patient")).to_be_visible()
    expect(page.locator("#plan-warnings")).to_contain_text("Contraindicated")
    assert not PlannedTechnique.objects.exists()

    reason = "Fracture excluded on x-ray 19 Nov; orthopaedics cleared manipulation."
    # The warnings were on screen with the refusal: typing the reason confirms them.
    row.get_by_label("Override reason").fill(reason)
    page.get_by_role("button", name="Save plan").click()

    expect(page.get_by_text("Plan of care saved.")).to_be_visible()
    expect(page.get_by_text(reason)).to_be_visible()
    planned = PlannedTechnique.objects.get()
    assert (planned.restriction, planned.override_reason) == ("contraindicated", reason)
    assert AuditEvent.objects.filter(action="override", actor=therapist).count() == 1
