"""On a phone, a patient confirms one visit and cancels another from the reminder's links."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import AppointmentStatus, AuditEvent, Reminder, ReminderKind
from clinic.reminders import services
from clinic.reminders.signing import Purpose, link_path
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def visits(monkeypatch):
    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids: len(ids))
    patient = PatientFactory(first_name="Lucía", preferred_language="es", timezone="Europe/Madrid")
    start = (timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    return (
        AppointmentFactory(patient=patient, starts_at=start),
        AppointmentFactory(patient=patient, starts_at=start + dt.timedelta(days=7)),
    )


def _link(purpose, appointment):
    return link_path(
        purpose,
        patient_id=appointment.patient_id,
        email=appointment.patient.email,
        appointment_id=appointment.pk,
    )


def _fits_the_screen(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"


def test_patient_confirms_one_visit_and_cancels_another_on_a_phone(page, visits):
    first, second = visits
    page.set_viewport_size(PHONE)

    page.goto(_link(Purpose.CONFIRM, first))
    expect(page.get_by_role("heading", name="Confirmar su cita")).to_be_visible()
    expect(page.locator("[data-visit]")).to_contain_text("Con ")
    _fits_the_screen(page)
    first.refresh_from_db()
    assert first.confirmed_at is None  # opening the link records nothing
    confirm = page.get_by_role("button", name="Sí, iré")
    box = confirm.bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb-sized target
    confirm.click()
    expect(page.get_by_role("status")).to_contain_text("Gracias, Lucía")
    first.refresh_from_db()
    assert first.confirmed_at is not None

    page.goto(_link(Purpose.CANCEL, second))
    expect(page.get_by_role("heading", name="Cancelar su cita")).to_be_visible()
    _fits_the_screen(page)
    page.get_by_role("button", name="Cancelar esta cita").click()  # no reason yet
    expect(page.get_by_role("alert")).to_contain_text("Díganos por qué cancela")
    second.refresh_from_db()
    assert second.status == AppointmentStatus.BOOKED
    page.get_by_label("¿Por qué cancela?").fill("Tengo que trabajar")
    page.get_by_role("button", name="Cancelar esta cita").click()
    expect(page.get_by_role("status")).to_contain_text("la hora queda libre")
    second.refresh_from_db()
    assert second.status == AppointmentStatus.CANCELLED
    assert second.cancel_reason.endswith("Tengo que trabajar")
    assert AuditEvent.objects.filter(object_id=str(second.pk), actor=None).exists()
    assert Reminder.objects.filter(kind=ReminderKind.CANCELLATION, appointment=second).exists()

    # The confirm link of the cancelled visit now says it is no longer booked.
    page.goto(_link(Purpose.CONFIRM, second))
    expect(page.get_by_role("heading", name="Esta cita ya no está reservada")).to_be_visible()
