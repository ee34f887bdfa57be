"""No double booking under concurrency, against PostgreSQL.

Twenty threads, each with its own database connection, wait on a barrier and then try
to book the same slot at once. Exactly one may win; every other one must get the clear
"slot taken" error, and no other exception may escape.
"""

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from clinic.models import Appointment, AppointmentKind, Practitioner
from clinic.scheduling import services
from tests.clinic.scheduling.conftest import at, give_hours
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory, RoomFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ATTEMPTS = 20


def _race(make_kwargs) -> list:
    barrier = threading.Barrier(ATTEMPTS)
    results: list = [None] * ATTEMPTS

    def attempt(i: int) -> None:
        try:
            kwargs = make_kwargs(i)
            barrier.wait(timeout=30)
            services.appointment_book(**kwargs)
            results[i] = "booked"
        except services.SlotTaken as error:
            results[i] = error
        except BaseException as error:  # noqa: BLE001 - any other escape fails the test
            results[i] = ("unexpected", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _assert_exactly_one_won(results) -> None:
    unexpected = [r for r in results if isinstance(r, tuple)]
    assert unexpected == []
    assert results.count("booked") == 1
    refusals = [r for r in results if isinstance(r, services.SlotTaken)]
    assert len(refusals) == ATTEMPTS - 1
    assert all("This slot is taken" in r.message for r in refusals)


@pytest.fixture
def slot(monday):
    return at(monday, "10:00")


def _kwargs(*, patient, practitioner, start, room=None):
    return dict(
        patient=patient,
        practitioner=practitioner,
        kind=AppointmentKind.FOLLOW_UP,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        room=room,
        acting_user=practitioner.user,
    )


def test_twenty_concurrent_bookings_of_one_practitioner_slot_give_exactly_one(
    require_service, practitioner, slot
):
    require_service("postgresql")
    patients = [PatientFactory() for _ in range(ATTEMPTS)]
    results = _race(lambda i: _kwargs(patient=patients[i], practitioner=practitioner, start=slot))
    _assert_exactly_one_won(results)
    assert Appointment.objects.filter(practitioner=practitioner).count() == 1


def test_twenty_practitioners_racing_for_one_room_give_exactly_one(require_service, slot):
    """Different practitioners hold different locks: the exclusion constraint decides."""
    require_service("postgresql")
    room = RoomFactory(name="Gym")
    practitioners = [PractitionerFactory() for _ in range(ATTEMPTS)]
    for p in practitioners:
        give_hours(p)
    patients = [PatientFactory() for _ in range(ATTEMPTS)]
    results = _race(
        lambda i: _kwargs(patient=patients[i], practitioner=practitioners[i], start=slot, room=room)
    )
    _assert_exactly_one_won(results)
    assert Appointment.objects.filter(room=room).count() == 1


def test_without_the_lock_and_the_check_the_constraint_alone_gives_exactly_one(
    require_service, practitioner, slot, monkeypatch
):
    require_service("postgresql")
    monkeypatch.setattr(services, "_lock_practitioner", lambda pk: Practitioner.objects.get(pk=pk))
    monkeypatch.setattr(services, "_conflict_subject", lambda **kwargs: None)
    patients = [PatientFactory() for _ in range(ATTEMPTS)]
    results = _race(lambda i: _kwargs(patient=patients[i], practitioner=practitioner, start=slot))
    _assert_exactly_one_won(results)
    # The constraint names who is double-booked; an insert that PostgreSQL aborted to
    # break a wait cycle between racing inserts says it lost the race.
    for refusal in (r for r in results if r != "booked"):
        assert "the practitioner" in refusal.message or "same moment" in refusal.message


@pytest.mark.parametrize("field", ["practitioner", "room", "patient"])
def test_exclusion_constraints_refuse_a_raw_overlapping_insert(
    require_service, practitioner, other_practitioner, patient, slot, field
):
    require_service("postgresql")
    room = RoomFactory(name="Room B")
    AppointmentFactory(practitioner=practitioner, patient=patient, room=room, starts_at=slot)
    clash = {
        "practitioner": dict(practitioner=practitioner),
        "room": dict(practitioner=other_practitioner, room=room),
        "patient": dict(practitioner=other_practitioner, patient=patient),
    }[field]
    with pytest.raises(IntegrityError, match=f"appt_no_overlap_{field}"), transaction.atomic():
        AppointmentFactory(starts_at=slot + dt.timedelta(minutes=10), **clash)
    # Cancelled visits are outside the constraint: they free the slot.
    AppointmentFactory(starts_at=slot, status="cancelled", **clash)


def test_twenty_concurrent_booking_forms_give_one_booking_and_form_errors_not_500s(
    require_service, practitioner, slot, front_desk
):
    """The whole request path: twenty front-desk browsers submit the same slot at once."""
    require_service("postgresql")
    from django.test import Client
    from django.urls import reverse

    patients = [PatientFactory() for _ in range(ATTEMPTS)]
    clients = []
    for _ in range(ATTEMPTS):
        client = Client(raise_request_exception=False)
        client.force_login(front_desk)
        clients.append(client)
    local = slot.astimezone(slot.tzinfo)
    barrier = threading.Barrier(ATTEMPTS)
    responses: list = [None] * ATTEMPTS

    def submit(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            responses[i] = clients[i].post(
                reverse("scheduling:book"),
                {
                    "patient": patients[i].pk,
                    "practitioner": practitioner.pk,
                    "kind": "follow_up",
                    "date": f"{local:%Y-%m-%d}",
                    "time": f"{local:%H:%M}",
                },
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * (ATTEMPTS - 1) + [302]
    refused = [r for r in responses if r.status_code == 200]
    assert all("This slot is taken" in r.content.decode() for r in refused)
    assert Appointment.objects.filter(practitioner=practitioner).count() == 1


def test_twenty_practitioners_racing_for_a_capacity_three_room_give_exactly_three(
    require_service, slot
):
    """A shared room: no constraint can read its capacity, so the booking service counts
    its visits under the room's row lock. Twenty practitioners (twenty different locks)
    with twenty patients book the same gym slot at once: three get in, the rest are told
    the room is full, and nothing else escapes."""
    require_service("postgresql")
    gym = RoomFactory(name="Gym", capacity=3)
    practitioners = [PractitionerFactory() for _ in range(ATTEMPTS)]
    for p in practitioners:
        give_hours(p)
    patients = [PatientFactory() for _ in range(ATTEMPTS)]
    results = _race(
        lambda i: _kwargs(patient=patients[i], practitioner=practitioners[i], start=slot, room=gym)
    )
    assert [r for r in results if isinstance(r, tuple)] == []
    assert results.count("booked") == 3
    refusals = [r for r in results if r != "booked"]
    assert len(refusals) == ATTEMPTS - 3
    assert all(isinstance(r, services.RoomFull) for r in refusals)
    assert all("Gym is full" in r.message for r in refusals)
    booked = Appointment.objects.filter(room=gym, status="booked")
    assert booked.count() == 3
    assert not booked.filter(room_exclusive=True).exists()


def test_shared_room_visits_are_outside_the_room_constraint_but_capacity_one_is_not(
    require_service, practitioner, other_practitioner, slot
):
    """The database still holds a capacity-1 room alone (rows flagged room_exclusive);
    rows of a shared room (not flagged) may overlap in the database, and the service
    keeps them under the capacity."""
    require_service("postgresql")
    single = RoomFactory(name="Room 1")
    gym = RoomFactory(name="Gym", capacity=2)
    AppointmentFactory(practitioner=practitioner, room=single, starts_at=slot)
    with pytest.raises(IntegrityError, match="appt_no_overlap_room"), transaction.atomic():
        AppointmentFactory(practitioner=other_practitioner, room=single, starts_at=slot)
    for _ in range(2):
        AppointmentFactory(room=gym, starts_at=slot, room_exclusive=False)
    assert Appointment.objects.filter(room=gym).count() == 2


def test_lowering_a_room_to_capacity_one_hands_it_back_to_the_constraint(
    require_service, practitioner, other_practitioner, slot
):
    require_service("postgresql")
    gym = RoomFactory(name="Gym", capacity=3)
    services.appointment_book(
        **_kwargs(patient=PatientFactory(), practitioner=practitioner, start=slot, room=gym)
    )
    services.room_update(
        room=gym, name="Gym", active=True, capacity=1, acting_user=practitioner.user
    )
    assert Appointment.objects.get(room=gym).room_exclusive is True
    with pytest.raises(IntegrityError, match="appt_no_overlap_room"), transaction.atomic():
        AppointmentFactory(practitioner=other_practitioner, room=gym, starts_at=slot)
