"""Front desk marks a no-show by mistake and undoes it, in a real browser."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Appointment, AppointmentStatus, AuditEvent, WorkingHours
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_front_desk_undoes_a_no_show_the_same_day(
    require_service, page, login, front_desk, therapist, monkeypatch
):
    require_service("chromium")
    # The clinic's clock at noon on a weekday ahead, whatever the hour the test runs.
    today = timezone.localdate()
    day = today + dt.timedelta(days=7 - today.weekday())
    noon = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    monkeypatch.setattr(timezone, "now", lambda: noon)
    alex = therapist.practitioner
    WorkingHours.objects.create(
        practitioner=alex, weekday=day.weekday(), start=dt.time(8), end=dt.time(17)
    )
    visit = AppointmentFactory(
        practitioner=alex,
        patient=PatientFactory(first_name="Lucía", last_name="Núñez"),
        starts_at=noon - dt.timedelta(hours=1),
    )
    upcoming = AppointmentFactory(practitioner=alex, starts_at=noon + dt.timedelta(days=1))

    login(front_desk)
    page.goto(f"/schedule/appointments/{upcoming.pk}/")
    expect(page.get_by_role("button", name="Mark no-show")).to_have_count(0)
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)

    page.goto(f"/schedule/appointments/{visit.pk}/")
    page.get_by_role("button", name="Mark no-show").click()
    expect(page.get_by_text("Lucía Núñez marked as a no-show.")).to_be_visible()
    page.get_by_role("link", name="Undo “no-show”").click()
    page.get_by_label("Why undo it").fill("She was in the waiting room")
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("“no-show” undone: the visit is booked.")).to_be_visible()
    expect(page.get_by_role("button", name="Check in")).to_be_visible()

    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.BOOKED
    assert AuditEvent.objects.filter(detail__contains="She was in the waiting room").exists()
