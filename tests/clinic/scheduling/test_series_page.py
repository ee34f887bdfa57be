"""A series as a thing (issue 13, item 2): its page lists every visit; "cancel all
remaining" and "move all remaining" with the same conflict preview as booking."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import Appointment, AppointmentStatus, AuditEvent
from clinic.scheduling import services
from tests.clinic.scheduling.conftest import at
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

MIN30 = dt.timedelta(minutes=30)


@pytest.fixture
def alex(practitioner):
    practitioner.display_name = "Alex Rivera"
    practitioner.save()
    return practitioner


@pytest.fixture
def series(alex, patient, monday, front_desk):
    """Mon/Thu 09:00 for two weeks, and one visit of it already done."""
    starts = [at(monday + dt.timedelta(days=d), "09:00") for d in (0, 3, 7, 10)]
    series = services.series_book(
        patient=patient,
        practitioner=alex,
        kind="follow_up",
        starts=starts,
        duration=MIN30,
        acting_user=front_desk,
    )
    AppointmentFactory(
        practitioner=alex,
        patient=patient,
        series=series,
        starts_at=timezone.now() - dt.timedelta(days=3),
        status=AppointmentStatus.COMPLETED,
    )
    return series


def _booked(series):
    return list(Appointment.objects.filter(series=series, status="booked").order_by("starts_at"))


# The page and who may use it -------------------------------------------------------


@pytest.mark.parametrize("role", ["therapist", "front_desk", "manager"])
def test_series_page_lists_every_visit_for_each_role(request, client_for, series, role):
    user = request.getfixturevalue(role)
    response = client_for(user).get(reverse("scheduling:series", args=[series.pk]))
    assert response.status_code == 200
    assert len(response.context["visits"]) == 5
    assert len(response.context["remaining"]) == 4
    page = response.content.decode()
    offers = "Move all remaining" in page and "Cancel all remaining" in page
    assert offers == (role == "front_desk")


@pytest.mark.parametrize("name", ["scheduling:series_cancel", "scheduling:series_move"])
def test_series_actions_are_for_the_front_desk_only(
    client_for, therapist, front_desk, manager, series, name
):
    url = reverse(name, args=[series.pk])
    assert client_for(front_desk).get(url).status_code == 200
    assert client_for(therapist).get(url).status_code == 403
    assert client_for(manager).get(url).status_code == 403
    assert client_for(therapist).post(url, {"reason": "x"}).status_code == 403
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_an_unknown_series_is_not_found(client_for, front_desk, series):
    assert (
        client_for(front_desk).get(reverse("scheduling:series", args=[999999])).status_code == 404
    )


def test_each_visit_of_a_series_links_to_it(client_for, front_desk, series):
    visit = _booked(series)[0]
    page = client_for(front_desk).get(reverse("scheduling:appointment", args=[visit.pk]))
    assert reverse("scheduling:series", args=[series.pk]) in page.content.decode()


def test_series_page_query_count_does_not_grow(
    client_for, front_desk, series, alex, patient, monday, django_assert_num_queries
):
    client = client_for(front_desk)
    url = reverse("scheduling:series", args=[series.pk])
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    for week in range(2, 6):
        AppointmentFactory(
            practitioner=alex,
            patient=patient,
            series=series,
            starts_at=at(monday, "12:00") + dt.timedelta(weeks=week),
        )
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)


# Cancel all remaining ---------------------------------------------------------------


def test_cancel_all_remaining_cancels_the_booked_visits_ahead_in_one_audited_step(
    client_for, front_desk, series, patient
):
    response = client_for(front_desk).post(
        reverse("scheduling:series_cancel", args=[series.pk]),
        {"reason": "Treatment finished early"},
        follow=True,
    )
    assert "4 remaining visits cancelled." in response.content.decode()
    statuses = sorted(Appointment.objects.filter(series=series).values_list("status", flat=True))
    assert statuses == ["cancelled"] * 4 + ["completed"]
    assert set(
        Appointment.objects.filter(series=series, status="cancelled").values_list(
            "cancel_reason", flat=True
        )
    ) == {"Treatment finished early"}
    (event,) = AuditEvent.objects.filter(detail__contains="remaining visits of series")
    assert event.patient == patient and "Treatment finished early" in event.detail


def test_cancel_all_remaining_needs_a_reason(client_for, front_desk, series):
    response = client_for(front_desk).post(
        reverse("scheduling:series_cancel", args=[series.pk]), {"reason": "   "}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert len(_booked(series)) == 4


def test_cancel_all_remaining_when_none_are_left_is_a_form_message(client_for, front_desk, series):
    Appointment.objects.filter(series=series, status="booked").update(status="cancelled")
    response = client_for(front_desk).post(
        reverse("scheduling:series_cancel", args=[series.pk]), {"reason": "Done"}
    )
    assert response.status_code == 200
    assert "No booked visits of this series are left" in response.content.decode()


# Move all remaining -----------------------------------------------------------------


def _move(monday, practitioner, **extra):
    data = {
        "practitioner": practitioner.pk,
        "weekdays": ["1", "4"],
        "time": "10:00",
        "first_date": f"{monday:%Y-%m-%d}",
        "action": "preview",
    }
    data.update(extra)
    return data


def _ticked(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(move-\d+)" value="([^"]+)" id="[^"]+" checked', page))


def test_move_all_remaining_explains_the_conflict_and_moves_the_ticked_visits(
    client_for, front_desk, series, other_practitioner, patient, monday
):
    other_practitioner.display_name = "Blake Chen"
    other_practitioner.save()
    friday = monday + dt.timedelta(days=4)
    AppointmentFactory(practitioner=other_practitioner, starts_at=at(friday, "10:00"))
    client = client_for(front_desk)
    url = reverse("scheduling:series_move", args=[series.pk])
    response = client.post(url, _move(monday, other_practitioner))
    preview = response.context["preview"]
    assert [occ.starts_at for _, occ in preview] == [
        at(monday + dt.timedelta(days=d), "10:00") for d in (1, 4, 8, 11)
    ]
    page = response.content.decode()
    assert "Slot taken: Blake Chen has another visit at 10:00." in page
    ticked = _ticked(page)
    assert len(ticked) == 3  # the conflict is not ticked
    conflict_visit = preview[1][0]
    assert f"move-{conflict_visit.pk}" not in ticked
    moved = client.post(url, _move(monday, other_practitioner, action="move", **ticked))
    assert moved.status_code == 302
    new = list(Appointment.objects.filter(series=series, status="booked").order_by("starts_at"))
    assert [(a.starts_at, a.practitioner) for a in new] == [
        (at(monday + dt.timedelta(days=1), "10:00"), other_practitioner),
        (at(monday + dt.timedelta(days=3), "09:00"), series.practitioner),  # unticked: stays
        (at(monday + dt.timedelta(days=8), "10:00"), other_practitioner),
        (at(monday + dt.timedelta(days=11), "10:00"), other_practitioner),
    ]
    assert conflict_visit.pk in {a.pk for a in new}  # unticked: stays where it was
    assert sum(1 for a in new if a.rescheduled_from_id) == 3
    (event,) = AuditEvent.objects.filter(detail__contains="visits of series")
    assert event.patient == patient and "Blake Chen" in event.detail


def test_moving_a_visit_onto_the_time_another_one_leaves_works(
    client_for, front_desk, series, alex, monday
):
    # 09:15 overlaps each visit's own old 09:00: the visits being moved free their times.
    client = client_for(front_desk)
    url = reverse("scheduling:series_move", args=[series.pk])
    data = _move(monday, alex, weekdays=["0", "3"], time="09:15")
    page = client.post(url, data).content.decode()
    ticked = _ticked(page)
    assert len(ticked) == 4
    assert client.post(url, {**data, "action": "move", **ticked}).status_code == 302
    assert [a.starts_at.astimezone(at(monday, "09:00").tzinfo).time() for a in _booked(series)] == [
        dt.time(9, 15)
    ] * 4


def test_a_move_never_puts_the_patient_twice_on_one_day(
    client_for, front_desk, series, alex, other_practitioner, patient, monday
):
    tuesday = monday + dt.timedelta(days=1)
    AppointmentFactory(
        practitioner=other_practitioner, patient=patient, starts_at=at(tuesday, "15:00")
    )
    response = client_for(front_desk).post(
        reverse("scheduling:series_move", args=[series.pk]), _move(monday, alex)
    )
    (visit, occurrence), *_ = response.context["preview"]
    assert occurrence.starts_at == at(tuesday, "10:00")
    assert not occurrence.ticked and "already comes that day" in occurrence.note


def test_a_move_with_a_time_that_was_not_previewed_moves_nothing(
    client_for, front_desk, series, alex, monday
):
    client = client_for(front_desk)
    url = reverse("scheduling:series_move", args=[series.pk])
    visit = _booked(series)[0]
    for bad in (at(monday, "13:00").isoformat(), "garbage", "2026-01-01T10:00", "9" * 60):
        response = client.post(url, _move(monday, alex, action="move", **{f"move-{visit.pk}": bad}))
        assert response.status_code == 200
        assert "times changed since the preview" in response.content.decode()
    assert len(_booked(series)) == 4 and all(v.rescheduled_from_id is None for v in _booked(series))


def test_a_move_that_became_taken_moves_nothing(client_for, front_desk, series, alex, monday):
    client = client_for(front_desk)
    url = reverse("scheduling:series_move", args=[series.pk])
    ticked = _ticked(client.post(url, _move(monday, alex)).content.decode())
    assert len(ticked) == 4
    # Someone books the last new time while the preview is on screen: the preview no
    # longer offers it, so nothing moves.
    AppointmentFactory(practitioner=alex, starts_at=at(monday + dt.timedelta(days=11), "10:00"))
    response = client.post(url, _move(monday, alex, action="move", **ticked))
    assert response.status_code == 200
    assert all(v.rescheduled_from_id is None for v in _booked(series))


def test_series_move_remaining_refuses_a_taken_time_and_moves_none(
    series, alex, monday, front_desk
):
    visits = _booked(series)
    AppointmentFactory(practitioner=alex, starts_at=at(monday + dt.timedelta(days=11), "10:00"))
    moves = {
        visits[0].pk: at(monday + dt.timedelta(days=1), "10:00"),
        visits[3].pk: at(monday + dt.timedelta(days=11), "10:00"),
    }
    with pytest.raises(services.SchedulingError, match="No visit was moved"):
        services.series_move_remaining(
            series=series, moves=moves, practitioner=alex, acting_user=front_desk
        )
    assert [v.pk for v in _booked(series)] == [v.pk for v in visits]


def test_move_preview_query_count_does_not_grow(
    client_for, front_desk, series, alex, monday, django_assert_num_queries
):
    client = client_for(front_desk)
    url = reverse("scheduling:series_move", args=[series.pk])
    with CaptureQueriesContext(connection) as first:
        client.post(url, _move(monday, alex))
    for day in range(1, 12):
        AppointmentFactory(
            practitioner=alex, starts_at=at(monday + dt.timedelta(days=day), "16:00")
        )
    with django_assert_num_queries(len(first.captured_queries)):
        client.post(url, _move(monday, alex))
