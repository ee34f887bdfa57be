"""Rooms with capacity: a shared room books up to its capacity of overlapping live
visits; a room of capacity 1 is held alone as before; lowering a capacity below what is
already booked is refused (docs/decisions.md, "Rooms with capacity")."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import Appointment, AppointmentKind, AppointmentStatus, AuditEvent, Room
from clinic.scheduling import selectors, services
from clinic.scheduling.availability import full_intervals, peak_occupancy
from tests.clinic.scheduling.conftest import at, give_hours
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory, RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gym(db):
    return RoomFactory(name="Gym", capacity=3)


@pytest.fixture
def practitioners(db):
    result = [PractitionerFactory() for _ in range(5)]
    for p in result:
        give_hours(p)
    return result


def _book(practitioner, room, start, minutes=30, patient=None):
    return services.appointment_book(
        patient=patient or PatientFactory(),
        practitioner=practitioner,
        kind=AppointmentKind.FOLLOW_UP,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        room=room,
        acting_user=practitioner.user,
    )


def test_a_shared_room_books_up_to_its_capacity_then_says_it_is_full(gym, practitioners, monday):
    slot = at(monday, "10:00")
    for p in practitioners[:3]:
        visit = _book(p, gym, slot)
        assert visit.room_exclusive is False
    with pytest.raises(services.RoomFull) as refused:
        _book(practitioners[3], gym, slot + dt.timedelta(minutes=15))
    assert "Gym is full at 10:15 (3 visits at once)" in refused.value.message
    assert Appointment.objects.filter(room=gym).count() == 3


def test_a_shared_room_counts_visits_at_once_not_visits_in_the_window(gym, practitioners, monday):
    # 09:30-10:00 and 10:00-10:30 never meet: a 09:45-10:15 visit has at most two
    # others with it at any instant, so the room (capacity 3) still takes it.
    _book(practitioners[0], gym, at(monday, "09:30"))
    _book(practitioners[1], gym, at(monday, "10:00"))
    _book(practitioners[2], gym, at(monday, "10:00"))
    _book(practitioners[3], gym, at(monday, "09:45"))
    with pytest.raises(services.RoomFull):
        _book(practitioners[4], gym, at(monday, "10:00"))


def test_cancelled_and_no_show_visits_free_their_place_in_a_shared_room(gym, practitioners, monday):
    slot = at(monday, "10:00")
    for p in practitioners[:2]:
        _book(p, gym, slot)
    AppointmentFactory(room=gym, starts_at=slot, status=AppointmentStatus.CANCELLED)
    AppointmentFactory(room=gym, starts_at=slot, status=AppointmentStatus.NO_SHOW)
    _book(practitioners[2], gym, slot)  # the third live visit still fits


def test_a_shared_room_does_not_let_the_practitioner_or_patient_double_book(
    gym, practitioners, patient, monday
):
    slot = at(monday, "10:00")
    _book(practitioners[0], gym, slot, patient=patient)
    with pytest.raises(services.SlotTaken, match="the practitioner"):
        _book(practitioners[0], gym, slot)
    with pytest.raises(services.SlotTaken, match="the patient"):
        _book(practitioners[1], gym, slot, patient=patient)


def test_a_capacity_one_room_is_still_held_alone(room, practitioners, monday):
    slot = at(monday, "10:00")
    visit = _book(practitioners[0], room, slot)
    assert visit.room_exclusive is True
    with pytest.raises(services.SlotTaken, match="the room already has a visit"):
        _book(practitioners[1], room, slot)


def test_lowering_capacity_below_the_visits_already_at_once_is_refused(
    gym, practitioners, manager, monday
):
    slot = at(monday, "10:00")
    for p in practitioners[:3]:
        _book(p, gym, slot)
    with pytest.raises(services.SchedulingError) as refused:
        services.room_update(room=gym, name="Gym", active=True, capacity=2, acting_user=manager)
    message = refused.value.message
    assert "Gym already holds 3 visits at once on" in message and "10:00" in message
    assert "cannot go below 3" in message
    gym.refresh_from_db()
    assert gym.capacity == 3
    services.room_update(room=gym, name="Gym", active=True, capacity=5, acting_user=manager)
    services.room_update(room=gym, name="Gym", active=True, capacity=3, acting_user=manager)
    gym.refresh_from_db()
    assert gym.capacity == 3
    details = list(AuditEvent.objects.order_by("id").values_list("detail", flat=True))
    assert details[-2:] == ["Gym: capacity 3 → 5", "Gym: capacity 5 → 3"]


def test_changing_to_or_from_capacity_one_reflags_visits_from_now_on(
    room, practitioners, manager, monday
):
    past = AppointmentFactory(
        room=room, starts_at=timezone.now() - dt.timedelta(days=2), status="completed"
    )
    future = _book(practitioners[0], room, at(monday, "10:00"))
    services.room_update(room=room, name="Room A", active=True, capacity=2, acting_user=manager)
    future.refresh_from_db()
    past.refresh_from_db()
    assert future.room_exclusive is False
    assert past.room_exclusive is True  # history keeps the flag it was booked with
    second = _book(practitioners[1], room, at(monday, "10:00"))
    assert second.room_exclusive is False
    with pytest.raises(services.SchedulingError, match="cannot go below 2"):
        services.room_update(room=room, name="Room A", active=True, capacity=1, acting_user=manager)
    services.appointment_cancel(appointment=second, reason="Patient asked", acting_user=manager)
    services.room_update(room=room, name="Room A", active=True, capacity=1, acting_user=manager)
    future.refresh_from_db()
    assert future.room_exclusive is True


def test_a_capacity_outside_one_to_fifty_is_refused_by_the_service(manager):
    for bad in (0, -1, 51):
        with pytest.raises(services.SchedulingError, match="between 1 and 50"):
            services.room_create(name=f"Room {bad}", capacity=bad, acting_user=manager)
    assert not Room.objects.exists()


def test_manager_sets_capacity_on_the_form_and_sees_why_it_cannot_go_lower(
    client_for, manager, gym, practitioners, monday
):
    for p in practitioners[:2]:
        _book(p, gym, at(monday, "10:00"))
    client = client_for(manager)
    url = reverse("scheduling:room_edit", args=[gym.pk])
    page = client.get(url).content.decode()
    assert 'name="capacity"' in page and 'value="3"' in page
    response = client.post(url, {"name": "Gym", "capacity": "1", "active": "on"})
    assert response.status_code == 200
    assert "cannot go below 2" in response.content.decode()
    for bad in ("0", "abc", "9999", ""):
        response = client.post(url, {"name": "Gym", "capacity": bad, "active": "on"})
        assert response.status_code == 200
    gym.refresh_from_db()
    assert gym.capacity == 3
    assert client.post(url, {"name": "Gym", "capacity": "2", "active": "on"}).status_code == 302
    gym.refresh_from_db()
    assert gym.capacity == 2
    listing = client.get(reverse("scheduling:rooms")).content.decode()
    assert "2 at once" in listing


def test_free_slots_treat_a_shared_room_as_free_until_full(gym, practitioners, monday):
    slot = at(monday, "10:00")
    searcher = practitioners[4]
    after = at(monday, "10:00")
    duration = dt.timedelta(minutes=30)

    def first_free():
        return selectors.free_slots(
            duration=duration, after=after, count=1, practitioner=searcher, room=gym
        )[0].starts_at

    _book(practitioners[0], gym, slot)
    _book(practitioners[1], gym, slot)
    assert first_free() == slot  # two of three places taken: still free
    _book(practitioners[2], gym, slot)
    assert first_free() == at(monday, "10:30")  # full at 10:00


def test_recurring_preview_names_a_full_shared_room(gym, practitioners, patient, monday):
    slot = at(monday, "10:00")
    for p in practitioners[:3]:
        _book(p, gym, slot)
    rows = selectors.series_preview(
        patient=patient,
        practitioner=practitioners[4],
        room=gym,
        duration=dt.timedelta(minutes=30),
        starts=[slot, slot + dt.timedelta(days=7)],
    )
    assert rows[0].problem == "Slot taken: Gym is full at 10:00."
    assert rows[1].problem == ""


def test_undoing_a_no_show_into_a_full_shared_room_is_refused(
    gym, practitioners, front_desk, monkeypatch, monday
):
    slot = at(monday, "10:00")
    visit = _book(practitioners[0], gym, slot)
    monkeypatch.setattr(timezone, "now", lambda: at(monday, "10:20"))
    services.appointment_mark_no_show(appointment=visit, acting_user=front_desk)
    monkeypatch.setattr(timezone, "now", lambda: at(monday, "09:00"))
    for p in practitioners[1:4]:
        _book(p, gym, slot)
    monkeypatch.setattr(timezone, "now", lambda: at(monday, "10:25"))
    with pytest.raises(services.RoomFull, match="cannot be undone: Gym is full"):
        services.appointment_undo_status(
            appointment=visit, reason="Was there", acting_user=front_desk
        )
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.NO_SHOW


def test_peak_and_full_intervals():
    t = dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC)
    m = dt.timedelta(minutes=1)
    visits = [(t, t + 30 * m), (t + 15 * m, t + 45 * m), (t + 30 * m, t + 60 * m)]
    assert peak_occupancy(visits, t, t + 60 * m) == (2, t + 15 * m)
    assert peak_occupancy(visits, t + 50 * m, t + 60 * m) == (1, t + 50 * m)
    assert peak_occupancy([], t, t + m) == (0, None)
    assert full_intervals(visits, 2) == [(t + 15 * m, t + 30 * m), (t + 30 * m, t + 45 * m)]
    assert full_intervals(visits, 3) == []
    assert full_intervals(visits, 1) == [(t, t + 60 * m)]


def test_the_booking_form_names_shared_rooms_and_says_when_one_is_full(
    client_for, front_desk, gym, room, practitioners, patient, monday
):
    for p in practitioners[:3]:
        _book(p, gym, at(monday, "10:00"))
    client = client_for(front_desk)
    form = client.get(reverse("scheduling:book")).content.decode()
    assert f'<option value="{gym.pk}">Gym (holds 3)</option>' in form
    assert f'<option value="{room.pk}">Room A</option>' in form
    response = client.post(
        reverse("scheduling:book"),
        {
            "patient": patient.pk,
            "practitioner": practitioners[4].pk,
            "kind": "follow_up",
            "date": f"{monday:%Y-%m-%d}",
            "time": "10:00",
            "room": gym.pk,
        },
    )
    assert response.status_code == 200
    assert (
        "This slot is taken: Gym is full at 10:00 (3 visits at once)" in response.content.decode()
    )
    assert Appointment.objects.filter(room=gym).count() == 3
