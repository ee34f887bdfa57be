"""Safe status changes (issue 13, item 4): check-in, no-show and completion only where
they make sense in time, each undone by the front desk on the day it was set."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import Appointment, AppointmentStatus, AuditEvent
from clinic.scheduling import selectors, services
from tests.clinic.scheduling.conftest import at
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch, monday):
    """The clinic's clock, set to Monday 12:00 (the services and auto_now read it)."""

    class Clock:
        now = at(monday, "12:00")

        def set(self, when):
            self.now = when

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def _visit(practitioner, patient, when, **fields):
    return AppointmentFactory(practitioner=practitioner, patient=patient, starts_at=when, **fields)


def test_visit_actions_follow_the_time(clock, practitioner, patient, monday):
    later_today = _visit(practitioner, patient, at(monday, "15:00"))
    started = _visit(practitioner, patient, at(monday, "11:30"))
    tomorrow = _visit(practitioner, patient, at(monday + dt.timedelta(days=1), "09:00"))
    last_week = _visit(practitioner, patient, at(monday - dt.timedelta(days=7), "09:00"))
    assert selectors.visit_actions(later_today) == selectors.VisitActions(
        check_in=True, next="check_in"
    )
    assert selectors.visit_actions(started) == selectors.VisitActions(
        check_in=True, no_show=True, next="check_in"
    )
    assert selectors.visit_actions(tomorrow) == selectors.VisitActions()
    assert selectors.visit_actions(last_week) == selectors.VisitActions(
        no_show=True, next="no_show"
    )


def test_a_future_visit_page_offers_no_check_in_or_no_show(
    client_for, clock, front_desk, practitioner, patient, monday
):
    visit = _visit(practitioner, patient, at(monday + dt.timedelta(days=1), "09:00"))
    page = client_for(front_desk).get(reverse("scheduling:appointment", args=[visit.pk]))
    html = page.content.decode()
    assert "Check in</button>" not in html and "Mark no-show" not in html
    assert "Reschedule" in html
    # ... and the services refuse them anyway.
    with pytest.raises(services.InvalidTransition):
        services.appointment_check_in(appointment=visit, acting_user=front_desk)
    with pytest.raises(services.InvalidTransition):
        services.appointment_mark_no_show(appointment=visit, acting_user=front_desk)


def test_a_checked_in_visit_page_offers_completion_first_and_undo(
    client_for, clock, front_desk, practitioner, patient, monday
):
    visit = _visit(practitioner, patient, at(monday, "11:30"))
    services.appointment_check_in(appointment=visit, acting_user=front_desk)
    html = (
        client_for(front_desk)
        .get(reverse("scheduling:appointment", args=[visit.pk]))
        .content.decode()
    )
    assert 'class="btn btn-primary" type="submit">Mark completed' in html
    assert "Undo “checked in”" in html
    assert "Check in</button>" not in html


def test_front_desk_undoes_a_no_show_the_same_day_with_a_reason(
    client_for, clock, front_desk, practitioner, patient, monday
):
    visit = _visit(practitioner, patient, at(monday, "11:00"))
    services.appointment_mark_no_show(appointment=visit, acting_user=front_desk)
    client = client_for(front_desk)
    url = reverse("scheduling:undo_status", args=[visit.pk])
    empty = client.post(url, {"reason": "  "})
    assert empty.status_code == 200 and empty.context["form"].errors
    response = client.post(url, {"reason": "She was in the waiting room"}, follow=True)
    assert "“no-show” undone: the visit is booked." in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    event = AuditEvent.objects.filter(detail__contains="status undone").get()
    assert "No-show → Booked" in event.detail and "She was in the waiting room" in event.detail
    assert event.patient == patient
    # Booked again, it can be checked in.
    services.appointment_check_in(appointment=visit, acting_user=front_desk)


def test_undo_a_completion_returns_to_checked_in_and_a_check_in_to_booked(
    clock, front_desk, practitioner, patient, monday
):
    visit = _visit(practitioner, patient, at(monday, "11:30"))
    services.appointment_check_in(appointment=visit, acting_user=front_desk)
    services.appointment_complete(appointment=visit, acting_user=front_desk)
    undone = services.appointment_undo_status(
        appointment=visit, reason="Clicked the wrong row", acting_user=front_desk
    )
    assert undone.status == AppointmentStatus.CHECKED_IN
    undone = services.appointment_undo_status(
        appointment=visit, reason="Not here yet", acting_user=front_desk
    )
    assert undone.status == AppointmentStatus.BOOKED and undone.checked_in_at is None
    with pytest.raises(services.InvalidTransition, match="nothing to undo"):
        services.appointment_undo_status(appointment=visit, reason="x", acting_user=front_desk)


def test_undo_is_refused_the_next_day(client_for, clock, front_desk, practitioner, patient, monday):
    visit = _visit(practitioner, patient, at(monday, "11:00"))
    services.appointment_mark_no_show(appointment=visit, acting_user=front_desk)
    clock.set(at(monday + dt.timedelta(days=1), "09:00"))
    assert selectors.visit_actions(Appointment.objects.get(pk=visit.pk)).undo == ""
    response = client_for(front_desk).post(
        reverse("scheduling:undo_status", args=[visit.pk]), {"reason": "Late entry"}
    )
    assert response.status_code == 200
    assert "only on the day it was set" in response.content.decode()
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.NO_SHOW


def test_undo_a_no_show_whose_slot_was_booked_again_is_refused(
    client_for, clock, front_desk, practitioner, patient, monday
):
    visit = _visit(practitioner, patient, at(monday, "11:00"))
    services.appointment_mark_no_show(appointment=visit, acting_user=front_desk)
    _visit(practitioner, PatientFactory(), at(monday, "11:00"))
    response = client_for(front_desk).post(
        reverse("scheduling:undo_status", args=[visit.pk]), {"reason": "Arrived late"}
    )
    assert response.status_code == 200
    assert "cannot be undone: the practitioner has another visit" in response.content.decode()
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.NO_SHOW


def test_only_the_front_desk_may_undo(
    client_for, clock, therapist, manager, front_desk, practitioner, patient, monday
):
    visit = _visit(practitioner, patient, at(monday, "11:00"), status="no_show")
    url = reverse("scheduling:undo_status", args=[visit.pk])
    assert client_for(front_desk).get(url).status_code == 200
    for user in (therapist, manager):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).post(url, {"reason": "x"}).status_code == 403
    anonymous = client_for(None).post(url, {"reason": "x"})
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.NO_SHOW
