"""A therapist builds a home-exercise program in a real browser and opens the handout."""

import pytest
from playwright.sync_api import expect

from tests.factories import PatientFactory
from treatments.models import HomeExerciseProgram

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_therapist_builds_a_program_and_opens_the_spanish_handout(
    page, login, therapist, require_service
):
    require_service("chromium")
    patient = PatientFactory(first_name="Lucía", last_name="Ortega", preferred_language="es")
    login(therapist)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="New home program").click()
    expect(page.get_by_role("heading", name="New home exercise program")).to_be_visible()

    raises = page.locator("fieldset", has_text="Calf raises")
    raises.get_by_label("Calf raises").check()
    raises.get_by_label("Sets").fill("3")
    ankle = page.locator("fieldset", has_text="Ankle mobilization")
    ankle.get_by_label("Ankle mobilization").check()
    ankle.get_by_label("Notes for the patient").fill("Con el pie derecho.")
    # The catalogue lists ankle mobilization first; move calf raises above it.
    raises.get_by_role("button", name="Move up").click()
    expect(raises.get_by_label("Order")).to_have_value("1")
    expect(ankle.get_by_label("Order")).to_have_value("2")
    page.get_by_label("Sun").uncheck()
    page.get_by_role("button", name="Save program").click()

    expect(page.get_by_text("Home exercise program saved.")).to_be_visible()
    program = HomeExerciseProgram.objects.get(patient=patient)
    assert [p.exercise.code for p in program.prescriptions.all()] == [
        "calf-raises",
        "ankle-mobilization",
    ]
    assert program.prescriptions.get(exercise__code="calf-raises").sets == 3
    assert program.reminder_days == [0, 1, 2, 3, 4, 5]

    page.get_by_role("link", name="Handout (Español)").click()
    expect(page.get_by_role("heading", name="Su programa de ejercicios en casa")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    headings = page.locator("section.exercise h2").all_inner_texts()
    assert headings == [
        "1. Elevaciones de talones",
        "2. Movilización de tobillo (rodilla a la pared)",
    ]
    expect(page.get_by_text("3 series de 10 repeticiones")).to_be_visible()
    expect(page.get_by_text("Con el pie derecho.")).to_be_visible()
    expect(page.get_by_role("heading", name="Cómo cuidarse")).to_be_visible()
    # The print button works without inline script (static JS, under the CSP).
    page.evaluate("window.print = () => { window.printRequested = true; }")
    page.get_by_role("button", name="Imprimir o guardar como PDF").click()
    assert page.evaluate("window.printRequested === true")
    # Printing hides the buttons and keeps the content on white.
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Imprimir o guardar como PDF")).to_be_hidden()
    expect(page.get_by_text("¿Tiene preguntas? Llame al")).to_be_visible()
