"""Book from the calendar in a real browser: a free slot, the type-ahead, Book."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Appointment, WorkingHours
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _alex(therapist):
    practitioner = therapist.practitioner
    practitioner.display_name = "Alex Rivera"
    practitioner.save()
    for weekday in range(7):
        WorkingHours.objects.create(
            practitioner=practitioner, weekday=weekday, start=dt.time(8), end=dt.time(17)
        )
    return practitioner


def test_front_desk_books_a_follow_up_from_an_empty_slot_in_four_actions(
    require_service, page, login, front_desk, therapist
):
    require_service("chromium")
    alex = _alex(therapist)
    patient = PatientFactory(first_name="Ada", last_name="Lovelace")
    day = timezone.localdate() + dt.timedelta(days=2)
    login(front_desk)
    page.goto(f"/schedule/?date={day:%Y-%m-%d}")

    # 1: the free slot, from the keyboard (a link: focusable, named for screen readers).
    slot = page.get_by_role("listitem", name="Book 09:30 with Alex Rivera")
    slot.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Book a visit")).to_be_visible()
    expect(page.get_by_label("Practitioner")).to_have_value(str(alex.pk))
    expect(page.get_by_label("Start time")).to_have_value("09:30")
    # 2 and 3: type part of the name, pick the patient.
    page.get_by_role("combobox", name="Patient").fill("lovel")
    page.get_by_role("option", name=f"Ada Lovelace {patient.date_of_birth:%d %b %Y}").click()
    # 4: book.
    page.get_by_role("button", name="Book visit").click()

    expect(page.get_by_text("Booked Ada Lovelace with Alex Rivera")).to_be_visible()
    visit = Appointment.objects.get()
    local = timezone.localtime(visit.starts_at)
    assert (visit.patient, visit.practitioner, visit.kind) == (patient, alex, "follow_up")
    assert (local.date(), local.time(), visit.ends_at - visit.starts_at) == (
        day,
        dt.time(9, 30),
        dt.timedelta(minutes=30),
    )
    # The slot is gone from the calendar; the visit is there instead.
    expect(page.get_by_role("listitem", name="Book 09:30 with Alex Rivera")).to_have_count(0)
    expect(page.locator("a.cal-visit", has_text="Ada Lovelace")).to_have_count(1)


def test_on_a_phone_the_third_column_scrolls_into_view_and_short_visits_are_not_clipped(
    require_service, page, login, front_desk, therapist
):
    require_service("chromium")
    alex = _alex(therapist)
    for name in ("Blake Chen", "Casey Diaz"):
        other = PractitionerFactory()
        other.display_name = name
        other.save()
    day = timezone.localdate() + dt.timedelta(days=2)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    AppointmentFactory(
        practitioner=alex,
        patient=PatientFactory(first_name="Bartholomew", last_name="Featherstonehaugh"),
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
    )
    login(front_desk)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"/schedule/?date={day:%Y-%m-%d}")
    # The page never scrolls sideways; the calendar scrolls in its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    third = page.locator(".cal-head", has_text="Casey Diaz")
    third.scroll_into_view_if_needed()
    box = third.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    # The time axis stays on screen while the columns scroll.
    times = page.locator(".cal-times").bounding_box()
    assert times is not None and times["x"] >= 0

    # A 30-minute visit shows both its lines whole: nothing cut by the block's edge.
    page.set_viewport_size({"width": 1366, "height": 768})
    visit = page.locator("a.cal-visit", has_text="Featherstonehaugh")
    expect(visit).to_have_class("cal-visit status-booked is-compact")
    clipped = visit.evaluate("el => el.scrollHeight > el.clientHeight + 1")
    assert clipped is False
