"""A closure stranding booked visits, and the worklist rescheduling one, in a real browser."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Appointment, AppointmentStatus, ClinicClosure, WorkingHours
from patients.localtime import clinic_zone, local_datetime
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_closure_stranding_visits_and_the_worklist_rescheduling_one(
    require_service, page, login, manager, front_desk, therapist
):
    require_service("chromium")
    today = timezone.localdate()
    day = today + dt.timedelta(days=14 - today.weekday())  # a Monday two weeks ahead
    alex = therapist.practitioner
    sam = PractitionerFactory(display_name="Sam Okafor")
    for practitioner in (alex, sam):
        for weekday in range(5):
            WorkingHours.objects.create(
                practitioner=practitioner, weekday=weekday, start=dt.time(8), end=dt.time(17)
            )
    tz = clinic_zone()
    lucia = AppointmentFactory(
        practitioner=alex,
        patient=PatientFactory(first_name="Lucía", last_name="Núñez"),
        starts_at=local_datetime(day, dt.time(9), tz),
    )
    omar = AppointmentFactory(
        practitioner=sam,
        patient=PatientFactory(first_name="Omar", last_name="Haddad"),
        starts_at=local_datetime(day, dt.time(11), tz),
    )

    # The manager closes the clinic that day and lands on the visits it strands.
    login(manager)
    page.goto("/schedule/closures/")
    page.get_by_role("link", name="Close the clinic").click()
    page.get_by_label("First day closed").fill(f"{day:%Y-%m-%d}")
    page.get_by_label("Reason").fill("Christmas Eve")
    page.get_by_role("button", name="Save closure").click()
    expect(page.get_by_text("2 visit(s) are booked on these closed days")).to_be_visible()
    rows = page.locator("#stranded-visits tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Lucía Núñez")
    expect(rows.nth(0)).to_contain_text("09:00–09:30")
    expect(rows.nth(0)).to_contain_text(alex.display_name)
    expect(rows.nth(1)).to_contain_text("Omar Haddad")
    closure = ClinicClosure.objects.get()
    # The calendar shades the day with the reason and offers no free slot on it.
    page.goto(f"/schedule/?date={day:%Y-%m-%d}")
    expect(page.get_by_text("Clinic closed: Christmas Eve").first).to_be_visible()

    # The front desk opens the worklist later from the closures list and moves Lucía.
    page.context.clear_cookies()
    login(front_desk)
    page.goto(f"/schedule/?date={day:%Y-%m-%d}")
    expect(page.locator(".cal-free")).to_have_count(0)
    page.get_by_role("link", name="Closures").click()
    page.get_by_role("link", name="2 visits to move").click()
    expect(page).to_have_url(re.compile(rf"/schedule/closures/{closure.pk}/visits/$"))
    page.get_by_role("link", name="Reschedule Lucía Núñez's visit").click()
    # The closed day offers no time; the first choice is on the next open day.
    tuesday = day + dt.timedelta(days=1)
    first = page.get_by_role(
        "button", name=f"Move to {tuesday:%A} {tuesday.day} {tuesday:%B} at 08:00"
    )
    first.click()
    expect(page.get_by_text("Visit moved to")).to_be_visible()
    # Back on the worklist: Lucía has left it, Omar is still to move.
    rows = page.locator("#stranded-visits tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Omar Haddad")

    lucia.refresh_from_db()
    assert lucia.status == AppointmentStatus.CANCELLED
    moved = Appointment.objects.get(rescheduled_from=lucia)
    assert moved.starts_at == local_datetime(tuesday, dt.time(8), tz)
    assert Appointment.objects.get(pk=omar.pk).status == AppointmentStatus.BOOKED
