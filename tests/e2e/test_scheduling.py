"""Front desk books a visit, moves it and cancels it, in a real browser."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Appointment, AppointmentStatus, WorkingHours
from tests.factories import PASSWORD, PatientFactory, PractitionerFactory, RoomFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_front_desk_books_reschedules_and_cancels_a_visit(
    require_service, page, login, front_desk, therapist
):
    require_service("chromium")
    practitioner = therapist.practitioner
    practitioner.display_name = "Alex Rivera"
    practitioner.save()
    for weekday in range(7):
        WorkingHours.objects.create(
            practitioner=practitioner, weekday=weekday, start=dt.time(8), end=dt.time(17)
        )
    RoomFactory(name="Treatment room 1")
    patient = PatientFactory(first_name="Ada", last_name="Lovelace")
    day = timezone.localdate() + dt.timedelta(days=2)

    login(front_desk)
    page.get_by_role("navigation").get_by_role("link", name="Book", exact=True).click()
    expect(page.get_by_role("heading", name="Book a visit")).to_be_visible()
    page.get_by_role("combobox", name="Patient").fill("lovel")
    page.get_by_role("option", name=f"Ada Lovelace {patient.date_of_birth:%d %b %Y}").click()
    page.get_by_label("Practitioner").select_option(str(practitioner.pk))
    page.get_by_label("Room").select_option(label="Treatment room 1")
    page.get_by_label("Kind of visit").select_option("follow_up")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_role("button", name="Book visit").click()

    expect(page.get_by_text("Booked Ada Lovelace with Alex Rivera")).to_be_visible()
    visit_link = page.locator("a.cal-visit", has_text="Ada Lovelace")
    # A 30-minute block is compact: its start on the face, the whole time in its title.
    expect(visit_link).to_contain_text("10:00")
    expect(visit_link).to_have_attribute("title", re.compile("^10:00–10:30 "))
    expect(visit_link).to_contain_text("Follow-up · Booked")

    visit_link.click()
    page.get_by_role("link", name="Reschedule").click()
    page.get_by_label("New start time").fill("14:30")
    page.get_by_role("button", name="Move visit").click()
    expect(page.get_by_text("Visit moved to")).to_be_visible()
    moved = page.locator("a.cal-visit", has_text="Ada Lovelace")
    expect(moved).to_have_count(1)
    expect(moved).to_contain_text("14:30")
    expect(moved).to_have_attribute("title", re.compile("^14:30–15:00 "))

    moved.click()
    expect(page.get_by_text("Moved from")).to_be_visible()
    page.get_by_role("link", name="Cancel visit").click()
    page.get_by_label("Reason for cancelling").fill("Patient unwell")
    page.get_by_role("button", name="Cancel visit").click()
    expect(page.get_by_text("Visit cancelled.")).to_be_visible()
    expect(page.locator("a.cal-visit", has_text="Ada Lovelace")).to_have_count(0)

    visits = list(Appointment.objects.order_by("created_at", "id"))
    assert [v.status for v in visits] == [AppointmentStatus.CANCELLED, AppointmentStatus.CANCELLED]
    assert visits[0].cancel_reason == "Rescheduled"
    assert visits[1].rescheduled_from == visits[0]
    assert visits[1].cancel_reason == "Patient unwell"


def test_calendar_fits_a_laptop_screen_and_a_tablet(require_service, page, login, front_desk):
    require_service("chromium")
    for _ in range(4):
        PractitionerFactory()
    login(front_desk)
    for width, height in [(1366, 768), (1024, 768), (768, 1024)]:
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/schedule/")
        # The page itself never scrolls sideways; a wide calendar scrolls in its own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        expect(page.locator(".cal-head.is-today").first).to_be_visible()


def test_therapist_turns_on_the_feed_and_focusing_the_address_selects_it(
    require_service, page, login, therapist
):
    # The select-on-focus behaviour lives in static JS (no on* handler under the CSP).
    require_service("chromium")
    login(therapist)
    page.goto("/schedule/my-feed/")
    page.get_by_role("button", name="Turn on the feed").click()
    address = page.get_by_label("Feed address")
    address.focus()
    selected = page.evaluate(
        "() => { const f = document.getElementById('feed-url');"
        " return f.value.substring(f.selectionStart, f.selectionEnd); }"
    )
    assert selected.endswith(".ics")
    assert selected == address.input_value()


def test_front_desk_books_with_the_type_ahead_from_the_keyboard(
    require_service, page, login, front_desk, therapist
):
    require_service("chromium")
    practitioner = therapist.practitioner
    practitioner.display_name = "Alex Rivera"
    practitioner.save()
    for weekday in range(7):
        WorkingHours.objects.create(
            practitioner=practitioner, weekday=weekday, start=dt.time(8), end=dt.time(17)
        )
    PatientFactory(first_name="Lucas", last_name="Núñez")
    lucia = PatientFactory(first_name="Lucía", last_name="Núñez")
    PatientFactory(first_name="Lucía", last_name="Gone", archived_at=timezone.now())
    day = timezone.localdate() + dt.timedelta(days=2)

    login(front_desk)
    page.goto(f"/schedule/book/?practitioner={practitioner.pk}")
    box = page.get_by_role("combobox", name="Patient")
    box.focus()
    page.keyboard.type("lucia")  # no accent typed: found anyway
    listbox = page.get_by_role("listbox", name="Matching patients")
    expect(listbox.get_by_role("option")).to_have_count(1)
    expect(page.get_by_role("status").filter(has_text="1 patient matches")).to_have_count(1)
    expect(box).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Control+A")
    page.keyboard.type("nunez")
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(page.get_by_role("status").filter(has_text="2 patients match")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    active = page.locator(f"#{box.get_attribute('aria-activedescendant')}")
    expect(active).to_contain_text("Lucía Núñez")
    expect(active).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")  # picks; does not submit the form
    expect(page.get_by_role("link", name="Change patient")).to_be_focused()
    assert not Appointment.objects.exists()
    expect(page.get_by_text(f"Núñez, Lucía ({lucia.date_of_birth:%d %b %Y})")).to_be_visible()
    expect(page.locator("#id_patient")).to_have_value(str(lucia.pk))

    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("Start time").press("Enter")
    expect(page.get_by_text("Booked Lucía Núñez with Alex Rivera")).to_be_visible()
    assert Appointment.objects.get().patient == lucia


def test_without_javascript_the_registry_books_the_patient(
    require_service, browser, live_server, front_desk, therapist
):
    require_service("chromium")
    practitioner = therapist.practitioner
    patient = PatientFactory(first_name="Ada", last_name="Lovelace")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(front_desk.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/schedule/book/?practitioner={practitioner.pk}")
        expect(page.get_by_role("combobox", name="Patient")).to_be_hidden()
        page.get_by_role("link", name="Find the patient in the registry").click()
        page.get_by_label("Search", exact=True).fill("lovelace")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Book Ada Lovelace").click()
        expect(page.get_by_role("heading", name="Book a visit")).to_be_visible()
        expect(page.get_by_text("Lovelace, Ada")).to_be_visible()
        expect(page.get_by_label("Practitioner")).to_have_value(str(practitioner.pk))
        expect(page.locator("#id_patient")).to_have_value(str(patient.pk))
    finally:
        context.close()
