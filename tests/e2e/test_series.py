"""Move a whole series in a real browser: the preview explains the one conflict."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Appointment, WorkingHours
from clinic.scheduling import services
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def test_front_desk_moves_a_series_with_one_conflict_explained(
    require_service, page, login, front_desk, therapist
):
    require_service("chromium")
    alex = therapist.practitioner
    alex.display_name = "Alex Rivera"
    alex.save()
    blake = PractitionerFactory()
    blake.display_name = "Blake Chen"
    blake.save()
    for practitioner in (alex, blake):
        for weekday in range(7):
            WorkingHours.objects.create(
                practitioner=practitioner, weekday=weekday, start=dt.time(8), end=dt.time(17)
            )
    lucia = PatientFactory(first_name="Lucía", last_name="Núñez")
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    series = services.series_book(
        patient=lucia,
        practitioner=alex,
        kind="follow_up",
        starts=[_at(monday + dt.timedelta(days=d), 9) for d in (0, 3, 7, 10)],
        duration=dt.timedelta(minutes=30),
        acting_user=front_desk,
    )
    # Blake already sees someone on the first Friday at 10:00.
    AppointmentFactory(practitioner=blake, starts_at=_at(monday + dt.timedelta(days=4), 10))
    first = Appointment.objects.filter(series=series).order_by("starts_at").first()

    login(front_desk)
    page.goto(f"/schedule/appointments/{first.pk}/")
    page.get_by_role("link", name="Part of a recurring series").click()
    expect(page.get_by_role("row")).to_have_count(5)  # header and four visits
    page.get_by_role("link", name="Move all remaining").click()
    page.get_by_label("Practitioner").select_option(label="Blake Chen")
    page.get_by_label("Monday").uncheck()
    page.get_by_label("Thursday").uncheck()
    page.get_by_label("Tuesday").check()
    page.get_by_label("Friday").check()
    page.get_by_label("New start time").fill("10:00")
    page.get_by_role("button", name="Preview the move").click()

    conflict = page.get_by_role("row").filter(
        has_text="Slot taken: Blake Chen has another visit at 10:00."
    )
    expect(conflict).to_have_count(1)
    expect(conflict.get_by_role("checkbox")).not_to_be_checked()
    expect(page.get_by_role("checkbox", checked=True)).to_have_count(3 + 2)  # + Tue, Fri
    page.get_by_role("button", name="Move the ticked visits").click()

    expect(page.get_by_text("3 visits moved.")).to_be_visible()
    booked = Appointment.objects.filter(series=series, status="booked").order_by("starts_at")
    assert [a.practitioner.display_name for a in booked] == [
        "Blake Chen",
        "Alex Rivera",  # the conflict, unticked, stays where it was
        "Blake Chen",
        "Blake Chen",
    ]
