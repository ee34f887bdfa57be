"""A therapist records HVLA in a visit note for a patient with severe osteoporosis:
warned and refused before saving, then overrides with a reason and signs."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import AuditEvent
from patients.models import RecordStatus
from tests.treatments.helpers import signed_assessment
from treatments.models import AppliedTechnique, VisitNote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contraindicated_technique_in_a_note_is_refused_then_overridden_and_signed(
    page, login, therapist, require_service
):
    require_service("chromium")
    assessment = signed_assessment(
        therapist=therapist,
        precautions=["osteoporosis"],
        assessed_at=timezone.now() - dt.timedelta(days=1),
    )
    login(therapist)
    page.goto(f"/patients/{assessment.patient_id}/")
    page.get_by_role("link", name="New visit note").click()
    expect(page.locator("#note-screening")).to_contain_text("Severe osteoporosis: contraindicated")

    page.get_by_label("Subjective").fill("Stiff left knee in the mornings.")
    row = page.locator("fieldset", has_text="Technique 1")
    row.get_by_label("Technique", exact=True).select_option(
        label="High-velocity low-amplitude (HVLA) thrust (grades V)"
    )
    row.get_by_label("Grade").select_option("V")
    row.get_by_label("Target joint or region").fill("Left tibiofemoral joint")
    page.get_by_role("button", name="Save draft").click()
    expect(row.get_by_text("is contraindicated for this patient")).to_be_visible()
    expect(page.locator("#note-warnings")).to_contain_text("Contraindicated")
    assert not VisitNote.objects.exists()

    reason = "Orthopaedics cleared a grade V thrust after the DEXA review on 3 Nov."
    # The warnings were on screen with the refusal: typing the reason confirms them.
    row.get_by_label("Override reason").fill(reason)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft note saved.")).to_be_visible()
    expect(page.get_by_text(reason)).to_be_visible()

    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_text("Note signed and locked.")).to_be_visible()
    applied = AppliedTechnique.objects.get()
    assert (applied.restriction, applied.override_reason) == ("contraindicated", reason)
    assert applied.note.status == RecordStatus.SIGNED
    assert AuditEvent.objects.filter(action="override", actor=therapist).count() == 1
