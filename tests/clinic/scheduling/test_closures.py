"""Clinic closures: the rules, what booking and every search do on a closed day, and the
worklists of visits a closure or a practitioner's time off strands."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from clinic.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    ClinicClosure,
    TimeOff,
)
from clinic.scheduling import selectors, services
from clinic.scheduling.demo import holidays, seed_closures
from tests.factories import AppointmentFactory, PatientFactory

from .conftest import at

pytestmark = pytest.mark.django_db

MIN30 = dt.timedelta(minutes=30)


def _close(day, reason="Christmas Eve", last=None):
    return ClinicClosure.objects.create(starts_on=day, ends_on=last or day, reason=reason)


def _label(day):
    return f"{day.day} {day:%b %Y}"


# The model and the manager's services ------------------------------------------------


def test_a_closure_cannot_end_before_it_starts_in_the_database(monday):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClinicClosure.objects.create(
            starts_on=monday, ends_on=monday - dt.timedelta(days=1), reason="x"
        )


def test_closure_create_is_audited(manager, monday):
    closure = services.closure_create(
        starts_on=monday,
        ends_on=monday + dt.timedelta(days=1),
        reason="  Staff training ",
        acting_user=manager,
        ip="10.0.0.5",
    )
    assert closure.reason == "Staff training"
    assert closure.created_by == manager
    event = AuditEvent.objects.get(object_type="clinic.clinicclosure", object_id=str(closure.pk))
    assert event.action == "create"
    assert event.actor == manager
    assert event.ip == "10.0.0.5"
    assert "Staff training" in event.detail


@pytest.mark.parametrize(
    ("offset", "reason", "message"),
    [
        (-1, "Holiday", "cannot be before the first"),
        (0, "   ", "Say why"),
        (366, "Renovation", "at most 366 days"),
    ],
)
def test_closure_create_refuses_bad_closures(manager, monday, offset, reason, message):
    with pytest.raises(services.SchedulingError, match=message):
        services.closure_create(
            starts_on=monday,
            ends_on=monday + dt.timedelta(days=offset),
            reason=reason,
            acting_user=manager,
        )
    assert not ClinicClosure.objects.exists()


def test_closures_may_not_overlap_but_one_may_be_widened(manager, monday):
    first = services.closure_create(
        starts_on=monday, ends_on=monday, reason="Holiday", acting_user=manager
    )
    with pytest.raises(services.SchedulingError, match="overlap another closure"):
        services.closure_create(
            starts_on=monday - dt.timedelta(days=1),
            ends_on=monday,
            reason="Other",
            acting_user=manager,
        )
    services.closure_update(
        closure=first,
        starts_on=monday,
        ends_on=monday + dt.timedelta(days=2),
        reason="Holiday week",
        acting_user=manager,
    )
    first.refresh_from_db()
    assert first.ends_on == monday + dt.timedelta(days=2)
    assert AuditEvent.objects.filter(object_id=str(first.pk), action="update").count() == 1


def test_closure_delete_is_audited(manager, monday):
    closure = _close(monday)
    services.closure_delete(closure=closure, acting_user=manager)
    assert not ClinicClosure.objects.exists()
    assert AuditEvent.objects.get(action="update").detail.startswith("closure removed")


# Booking on a closed day ---------------------------------------------------------------


def test_booking_on_a_closed_day_is_refused_even_outside_hours_override(
    practitioner, patient, front_desk, monday
):
    _close(monday)
    for override in (False, True):
        with pytest.raises(services.ClinicClosed) as refused:
            services.appointment_book(
                patient=patient,
                practitioner=practitioner,
                kind="follow_up",
                starts_at=at(monday, "10:00"),
                ends_at=at(monday, "10:30"),
                acting_user=front_desk,
                allow_outside_hours=override,
            )
        assert refused.value.message == (
            f"The clinic is closed on {_label(monday)}: Christmas Eve."
        )
    assert not Appointment.objects.exists()


def test_closed_days_are_the_clinic_time_zones_dates(practitioner, patient, front_desk, monday):
    """21:00 in New York the evening before is already the closed day in UTC: still open."""
    _close(monday + dt.timedelta(days=1))
    visit = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        kind="follow_up",
        starts_at=at(monday, "21:00"),
        ends_at=at(monday, "21:30"),
        acting_user=front_desk,
        allow_outside_hours=True,
    )
    assert visit.starts_at.astimezone(dt.UTC).date() == monday + dt.timedelta(days=1)
    # ...and a visit running past midnight into the closed day is refused.
    with pytest.raises(services.ClinicClosed):
        services.appointment_book(
            patient=PatientFactory(),
            practitioner=practitioner,
            kind="follow_up",
            starts_at=at(monday, "23:45"),
            ends_at=at(monday, "23:45") + MIN30,
            acting_user=front_desk,
            allow_outside_hours=True,
        )


def test_booking_form_on_a_closed_day_says_why_and_saves_nothing(
    client_for, front_desk, patient, practitioner, monday
):
    _close(monday)
    response = client_for(front_desk).post(
        reverse("scheduling:book"),
        {
            "patient": patient.pk,
            "practitioner": practitioner.pk,
            "kind": "follow_up",
            "date": f"{monday:%Y-%m-%d}",
            "time": "10:00",
            "duration": "",
            "room": "",
            "override_hours": "on",
        },
    )
    assert response.status_code == 200
    assert f"The clinic is closed on {_label(monday)}: Christmas Eve." in (
        response.content.decode()
    )
    assert not Appointment.objects.exists()


def test_reschedule_onto_a_closed_day_is_refused_and_the_visit_stays(
    client_for, front_desk, practitioner, patient, monday
):
    visit = AppointmentFactory(
        practitioner=practitioner, patient=patient, starts_at=at(monday, "10:00")
    )
    tuesday = monday + dt.timedelta(days=1)
    _close(tuesday, "New Year's Eve")
    response = client_for(front_desk).post(
        reverse("scheduling:reschedule", args=[visit.pk]),
        {"practitioner": practitioner.pk, "date": f"{tuesday:%Y-%m-%d}", "time": "10:00"},
    )
    assert response.status_code == 200
    assert f"The clinic is closed on {_label(tuesday)}: New Year&#x27;s Eve." in (
        response.content.decode()
    )
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert Appointment.objects.count() == 1


# Searches and previews skip closed days ------------------------------------------------


def test_free_slots_skip_closed_days(practitioner, monday):
    _close(monday, last=monday + dt.timedelta(days=1))
    slots = selectors.free_slots(duration=MIN30, after=at(monday, "00:00"), count=3)
    assert [s.starts_at for s in slots] == [
        at(monday + dt.timedelta(days=2), t) for t in ("07:00", "07:15", "07:30")
    ]


def test_recurring_preview_names_the_closure_and_suggests_an_open_day(
    practitioner, patient, monday
):
    _close(monday, "Thanksgiving")
    starts = [at(monday, "09:00"), at(monday + dt.timedelta(days=7), "09:00")]
    preview = selectors.series_preview(
        patient=patient, practitioner=practitioner, room=None, duration=MIN30, starts=starts
    )
    closed, open_ = preview
    assert closed.problem == f"The clinic is closed on {_label(monday)}: Thanksgiving."
    assert not closed.ticked
    assert closed.suggestion is not None
    assert closed.suggestion.astimezone(at(monday, "00:00").tzinfo).date() != monday
    assert open_.ticked and not open_.problem


def test_series_move_preview_skips_closed_days(practitioner, patient, front_desk, monday):
    series = services.series_book(
        patient=patient,
        practitioner=practitioner,
        kind="follow_up",
        starts=[at(monday, "09:00"), at(monday + dt.timedelta(days=7), "09:00")],
        duration=MIN30,
        acting_user=front_desk,
    )
    wednesday = monday + dt.timedelta(days=2)
    _close(wednesday, "Christmas Eve")
    remaining = selectors.remaining_visits(selectors.series_visits(series))
    preview = selectors.series_move_preview(
        series,
        remaining,
        practitioner=practitioner,
        weekdays=[2],
        time=dt.time(9),
        first_date=monday,
    )
    first = preview[0][1]
    assert first.problem == f"The clinic is closed on {_label(wednesday)}: Christmas Eve."
    assert first.booked_start is not None
    assert first.booked_start.astimezone(at(monday, "00:00").tzinfo).date() != wednesday


def test_reschedule_choices_leave_out_closed_days(practitioner, patient, monday):
    visit = AppointmentFactory(
        practitioner=practitioner, patient=patient, starts_at=at(monday, "10:00")
    )
    tuesday = monday + dt.timedelta(days=1)
    _close(monday, last=tuesday)  # the visit's own day and the next are closed
    choices = selectors.reschedule_choices(visit, selectors.scheduling_settings())
    days = [choice.day for choice in choices]
    assert days and monday not in days and tuesday not in days
    assert days[0] == monday + dt.timedelta(days=2)


def test_calendar_shades_a_closed_day_and_offers_no_free_slot(
    client_for, front_desk, practitioner, monday
):
    _close(monday, "Christmas Eve")
    client = client_for(front_desk)
    day = client.get(reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"})
    html = day.content.decode()
    assert "Clinic closed: Christmas Eve" in html
    assert all(not column.free for column in day.context["grid"].columns)
    week = client.get(
        reverse("scheduling:week", args=[practitioner.pk]), {"date": f"{monday:%Y-%m-%d}"}
    )
    columns = {c.day: c for c in week.context["grid"].columns}
    assert columns[monday].closed == "Christmas Eve" and not columns[monday].free
    tuesday = monday + dt.timedelta(days=1)
    assert columns[tuesday].closed == "" and columns[tuesday].free
    assert week.content.decode().count("Clinic closed: Christmas Eve") == 1


def test_therapists_see_closures_on_the_calendar_but_cannot_manage_them(
    client_for, therapist, practitioner, monday
):
    _close(monday)
    client = client_for(therapist)
    html = client.get(reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"}).content.decode()
    assert "Clinic closed: Christmas Eve" in html
    assert client.get(reverse("scheduling:closures")).status_code == 403


# Adding a closure over booked visits: the worklist ------------------------------------


@pytest.fixture
def stranded(practitioner, other_practitioner, monday):
    """Visits on Monday: booked and checked in (stranded), and ones that are not."""
    booked = AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "09:00"))
    checked_in = AppointmentFactory(
        practitioner=other_practitioner,
        starts_at=at(monday, "08:00"),
        status=AppointmentStatus.CHECKED_IN,
    )
    for status in (
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
        AppointmentStatus.COMPLETED,
    ):
        AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "11:00"), status=status)
    # The evening before and the morning after are open days.
    AppointmentFactory(
        practitioner=practitioner, starts_at=at(monday - dt.timedelta(days=1), "22:00")
    )
    AppointmentFactory(
        practitioner=practitioner, starts_at=at(monday + dt.timedelta(days=1), "07:00")
    )
    return {"booked": booked, "checked_in": checked_in}


def test_adding_a_closure_over_booked_visits_opens_its_worklist(
    client_for, manager, stranded, monday
):
    response = client_for(manager).post(
        reverse("scheduling:closure_create"),
        {"starts_on": f"{monday:%Y-%m-%d}", "ends_on": "", "reason": "Christmas Eve"},
        follow=True,
    )
    closure = ClinicClosure.objects.get()
    assert closure.ends_on == monday  # an empty last day: one day
    assert response.redirect_chain[-1][0] == reverse("scheduling:closure_visits", args=[closure.pk])
    visits = response.context["visits"]
    assert [v.pk for v in visits] == [stranded["checked_in"].pk, stranded["booked"].pk]
    assert "2 visit(s) are booked on these closed days" in response.content.decode()


def test_a_closure_over_no_visit_goes_back_to_the_list(client_for, manager, monday):
    response = client_for(manager).post(
        reverse("scheduling:closure_create"),
        {"starts_on": f"{monday:%Y-%m-%d}", "ends_on": "", "reason": "Staff training"},
    )
    assert response["Location"] == reverse("scheduling:closures")


def test_widening_a_closure_lists_the_visits_it_now_strands(
    client_for, manager, practitioner, monday
):
    closure = _close(monday)
    tuesday = monday + dt.timedelta(days=1)
    later = AppointmentFactory(practitioner=practitioner, starts_at=at(tuesday, "10:00"))
    response = client_for(manager).post(
        reverse("scheduling:closure_edit", args=[closure.pk]),
        {
            "action": "save",
            "starts_on": f"{monday:%Y-%m-%d}",
            "ends_on": f"{tuesday:%Y-%m-%d}",
            "reason": "Holidays",
        },
        follow=True,
    )
    assert [v.pk for v in response.context["visits"]] == [later.pk]


def test_closure_form_refusals_change_nothing(client_for, manager, monday):
    _close(monday, "Holiday")
    client = client_for(manager)
    before = list(ClinicClosure.objects.values())
    for data, message in [
        ({"starts_on": f"{monday:%Y-%m-%d}", "ends_on": "", "reason": "Again"}, "overlap"),
        (
            {
                "starts_on": f"{monday + dt.timedelta(days=3):%Y-%m-%d}",
                "ends_on": f"{monday + dt.timedelta(days=2):%Y-%m-%d}",
                "reason": "x",
            },
            "cannot be before the first",
        ),
        ({"starts_on": "", "ends_on": "", "reason": "x"}, "required"),
        ({"starts_on": f"{monday:%Y-%m-%d}", "ends_on": "", "reason": "  "}, "required"),
    ]:
        response = client.post(reverse("scheduling:closure_create"), data)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert list(ClinicClosure.objects.values()) == before


def test_manager_removes_a_closure(client_for, manager, monday):
    closure = _close(monday)
    response = client_for(manager).post(
        reverse("scheduling:closure_edit", args=[closure.pk]), {"action": "delete"}
    )
    assert response["Location"] == reverse("scheduling:closures")
    assert not ClinicClosure.objects.exists()


def test_worklist_shows_no_clinical_content_and_front_desk_links(
    client_for, front_desk, manager, stranded, monday
):
    closure = _close(monday)
    url = reverse("scheduling:closure_visits", args=[closure.pk])
    html = client_for(front_desk).get(url).content.decode()
    booked = stranded["booked"]
    assert booked.patient.full_name in html
    assert booked.practitioner.display_name in html
    assert "09:00–09:30" in html
    reschedule = f"{reverse('scheduling:reschedule', args=[booked.pk])}?next="
    assert reschedule in html
    assert reverse("scheduling:cancel", args=[booked.pk]) in html
    # Checked in: nothing to move; no link to move it.
    assert reverse("scheduling:reschedule", args=[stranded["checked_in"].pk]) not in html
    for clinical in ("Assessment", "Pain", "Plan of care", "Note"):
        assert clinical not in html
    # The manager sees the list, but moving visits is the front desk's work.
    html = client_for(manager).get(url).content.decode()
    assert booked.patient.full_name in html
    assert reverse("scheduling:reschedule", args=[booked.pk]) not in html


def test_a_visit_moved_from_the_worklist_leaves_it(
    client_for, front_desk, stranded, practitioner, monday
):
    closure = _close(monday)
    url = reverse("scheduling:closure_visits", args=[closure.pk])
    client = client_for(front_desk)
    booked = stranded["booked"]
    tuesday = monday + dt.timedelta(days=1)
    response = client.post(
        reverse("scheduling:reschedule", args=[booked.pk]),
        {
            "practitioner": practitioner.pk,
            "date": f"{tuesday:%Y-%m-%d}",
            "time": "10:00",
            "next": url,
        },
    )
    assert response["Location"] == url  # back to the worklist
    cancelled = client.post(
        reverse("scheduling:cancel", args=[stranded["checked_in"].pk]),
        {"reason": "Clinic closed", "next": url},
    )
    assert cancelled.status_code == 200  # a checked-in visit cannot be cancelled
    visits = client.get(url).context["visits"]
    assert [v.pk for v in visits] == [stranded["checked_in"].pk]


def test_worklist_is_paginated(client_for, front_desk, monday):
    closure = _close(monday)
    for i in range(30):
        AppointmentFactory(starts_at=at(monday, "07:00") + i * dt.timedelta(minutes=5))
    client = client_for(front_desk)
    url = reverse("scheduling:closure_visits", args=[closure.pk])
    first = client.get(url)
    assert len(first.context["visits"]) == 25
    assert len(client.get(url, {"page": 2}).context["visits"]) == 5


def test_worklist_query_count_does_not_grow(
    client_for, front_desk, monday, django_assert_num_queries
):
    closure = _close(monday)
    AppointmentFactory(starts_at=at(monday, "08:00"))
    client = client_for(front_desk)
    url = reverse("scheduling:closure_visits", args=[closure.pk])
    # session, user, user permissions, group permissions, the closure, the count of
    # stranded visits, the page of them (with patient, practitioner and room).
    with django_assert_num_queries(7):
        client.get(url)
    for i in range(10):
        AppointmentFactory(starts_at=at(monday, "09:00") + i * MIN30)
    with django_assert_num_queries(7):
        response = client.get(url)
    assert len(response.context["visits"]) == 11


def test_closure_list_counts_stranded_visits_in_one_query(
    client_for, manager, practitioner, monday, django_assert_num_queries
):
    client = client_for(manager)
    url = reverse("scheduling:closures")
    _close(monday)
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "09:00"))
    # session, user, user permissions, group permissions, the count of closures, the
    # page of them, the stranded visits of each (one query for the page).
    with django_assert_num_queries(7):
        client.get(url)
    for week in range(1, 6):
        day = monday + dt.timedelta(weeks=week)
        _close(day, f"Closure {week}")
        AppointmentFactory(practitioner=practitioner, starts_at=at(day, "09:00"))
        AppointmentFactory(starts_at=at(day, "10:00"))
    with django_assert_num_queries(7):
        response = client.get(url)
    counts = [count for _, count in response.context["rows"]]
    assert counts == [1, 2, 2, 2, 2, 2]
    assert "2 visits to move" in response.content.decode()


def test_past_closures_are_listed_apart(client_for, manager, monday):
    past = _close(monday - dt.timedelta(days=30), "Old holiday")
    ahead = _close(monday, "Holiday ahead")
    client = client_for(manager)
    assert [c.pk for c, _ in client.get(reverse("scheduling:closures")).context["rows"]] == [
        ahead.pk
    ]
    rows = client.get(reverse("scheduling:closures"), {"past": "1"}).context["rows"]
    assert [c.pk for c, _ in rows] == [past.pk]


# The same worklist for a practitioner's time off ---------------------------------------


def test_time_off_worklist_lists_only_that_practitioners_visits(
    client_for, front_desk, practitioner, other_practitioner, monday
):
    off = TimeOff.objects.create(
        practitioner=practitioner, starts_at=at(monday, "08:00"), ends_at=at(monday, "12:00")
    )
    mine = AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "09:00"))
    AppointmentFactory(practitioner=other_practitioner, starts_at=at(monday, "09:00"))
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "13:00"))
    client = client_for(front_desk)
    response = client.get(reverse("scheduling:time_off_visits", args=[off.pk]))
    assert [v.pk for v in response.context["visits"]] == [mine.pk]
    listing = client.get(reverse("scheduling:time_off_list"))
    assert listing.context["rows"] == [(off, 1)]
    assert reverse("scheduling:time_off_visits", args=[off.pk]) in listing.content.decode()


def test_time_off_pages_query_counts(
    client_for, front_desk, practitioner, monday, django_assert_num_queries
):
    client = client_for(front_desk)
    for day in range(3):
        start = at(monday + dt.timedelta(days=day), "08:00")
        TimeOff.objects.create(
            practitioner=practitioner, starts_at=start, ends_at=start + 4 * MIN30
        )
        AppointmentFactory(practitioner=practitioner, starts_at=start)
    off = TimeOff.objects.first()
    # session, user, user permissions, group permissions, the count of time off, the page
    # (with practitioners), the stranded visits of each (one query).
    with django_assert_num_queries(7):
        client.get(reverse("scheduling:time_off_list"))
    # session, user, user permissions, group permissions, the time off (with its
    # practitioner), the count of its visits, the page of them.
    with django_assert_num_queries(7):
        client.get(reverse("scheduling:time_off_visits", args=[off.pk]))


# Demo data ---------------------------------------------------------------------------


def test_demo_holidays_are_the_usual_closures():
    days = dict(holidays(2026))
    assert days[dt.date(2026, 11, 26)] == "Thanksgiving"
    assert days[dt.date(2026, 12, 24)] == "Christmas Eve"
    assert days[dt.date(2026, 12, 31)] == "New Year's Eve"
    assert dict(holidays(2027))[dt.date(2027, 11, 25)] == "Thanksgiving"


def test_seed_closures_is_idempotent():
    assert seed_closures(dt.date(2026, 11, 22)) == 10
    assert seed_closures(dt.date(2026, 11, 22)) == 0
    assert ClinicClosure.objects.filter(reason="Christmas Eve").count() == 2


def test_today_offers_no_gaps_on_a_closed_day(client_for, front_desk, practitioner):
    from django.utils import timezone

    today = timezone.localdate()
    before = selectors.front_desk_day(now=at(today, "07:30"))
    assert before["gaps"] and not before["closed"]
    _close(today, "Staff training")
    after = selectors.front_desk_day(now=at(today, "07:30"))
    assert after["gaps"] == [] and after["closed"] == "Staff training"
    html = client_for(front_desk).get(reverse("today")).content.decode()
    assert "The clinic is closed today: Staff training." in html
