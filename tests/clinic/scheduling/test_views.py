import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentSeries,
    AppointmentStatus,
    AuditEvent,
    Room,
    TimeOff,
    WorkingHours,
)
from tests.clinic.scheduling.conftest import at, give_hours, next_spring_forward
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    PractitionerFactory,
    TreatmentPlanFactory,
)
from tests.instances import instances_built

pytestmark = pytest.mark.django_db

ALL = {"therapist", "front_desk", "manager"}


@pytest.fixture
def visit(practitioner, patient, monday, front_desk):
    return AppointmentFactory(
        practitioner=practitioner,
        patient=patient,
        starts_at=at(monday, "10:00"),
        created_by=front_desk,
    )


def _pages(visit, practitioner, room):
    return [
        ("scheduling:day", [], ALL),
        ("scheduling:week", [practitioner.pk], ALL),
        ("scheduling:free_slots", [], ALL),
        ("scheduling:appointment", [visit.pk], ALL),
        ("scheduling:appointment_ics", [visit.pk], ALL),
        ("scheduling:book", [], {"front_desk"}),
        ("scheduling:recurring", [], {"front_desk"}),
        ("scheduling:cancel", [visit.pk], {"front_desk"}),
        ("scheduling:reschedule", [visit.pk], {"front_desk"}),
        ("scheduling:my_feed", [], {"therapist"}),
        ("scheduling:practitioners", [], {"manager"}),
        ("scheduling:practitioner_create", [], {"manager"}),
        ("scheduling:practitioner", [practitioner.pk], {"manager"}),
        ("scheduling:rooms", [], {"manager"}),
        ("scheduling:room_create", [], {"manager"}),
        ("scheduling:room_edit", [room.pk], {"manager"}),
        ("scheduling:settings", [], {"manager"}),
    ]


def test_every_page_is_allowed_or_forbidden_per_role(
    client_for, role_users, visit, practitioner, room
):
    for name, args, allowed in _pages(visit, practitioner, room):
        url = reverse(name, args=args)
        for role, user in role_users.items():
            status = client_for(user).get(url).status_code
            assert status == (200 if role in allowed else 403), (name, role, status)


@pytest.mark.parametrize("action", ["check_in", "complete", "no_show"])
def test_status_changes_are_for_front_desk_only(client_for, role_users, visit, action):
    url = reverse(f"scheduling:{action}", args=[visit.pk])
    assert client_for(role_users["therapist"]).post(url).status_code == 403
    assert client_for(role_users["manager"]).post(url).status_code == 403
    assert client_for(None).post(url).status_code == 302
    # Allowed for front desk: a redirect, with a message when the transition is refused.
    response = client_for(role_users["front_desk"]).post(url, follow=True)
    assert response.status_code == 200
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED  # Monday's visit: not today, not started
    assert response.context["messages"]


def test_unknown_appointment_is_a_404(client_for, front_desk):
    assert (
        client_for(front_desk).get(reverse("scheduling:appointment", args=[99999])).status_code
        == 404
    )


# Calendar --------------------------------------------------------------------------


def _fill_day(day, practitioners, per_practitioner):
    for p in practitioners:
        for i in range(per_practitioner):
            AppointmentFactory(
                practitioner=p,
                starts_at=at(day, "08:00") + dt.timedelta(minutes=30 * i),
                room=Room.objects.get_or_create(name=f"Room of {p.pk}")[0],
            )


def test_day_view_shows_name_kind_and_status_only(client_for, front_desk, visit, monday):
    response = client_for(front_desk).get(reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"})
    html = response.content.decode()
    assert "Ada Lovelace" in html
    assert "Follow-up · Booked" in html
    assert reverse("scheduling:appointment", args=[visit.pk]) in html
    assert visit.practitioner.display_name in html


def test_day_view_highlights_today(client_for, front_desk, practitioner):
    html = client_for(front_desk).get(reverse("scheduling:day")).content.decode()
    assert 'aria-current="date"' in html
    assert "Today</span>" in html
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    html = (
        client_for(front_desk)
        .get(reverse("scheduling:day"), {"date": f"{tomorrow:%Y-%m-%d}"})
        .content.decode()
    )
    assert 'aria-current="date"' not in html


def test_day_view_ignores_a_garbled_date(client_for, front_desk, practitioner):
    response = client_for(front_desk).get(reverse("scheduling:day"), {"date": "2026-13-45"})
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()


def test_day_view_query_count_does_not_grow_with_appointments(
    client_for, front_desk, practitioner, other_practitioner, monday, django_assert_num_queries
):
    client = client_for(front_desk)
    url = reverse("scheduling:day")
    _fill_day(monday, [practitioner, other_practitioner], 2)
    # session, user, user permissions, group permissions, the booking rules (the front
    # desk's free slots link to the booking form), practitioners, appointments (with
    # patient and room), working hours with time off and clinic closures of the day (one
    # query). The navigation checks permissions: no query for the user's groups.
    with django_assert_num_queries(8):
        client.get(url, {"date": f"{monday:%Y-%m-%d}"})
    _fill_day(monday + dt.timedelta(days=0), [PractitionerFactory()], 8)
    _fill_day(monday, [practitioner], 0)
    with django_assert_num_queries(8):
        response = client.get(url, {"date": f"{monday:%Y-%m-%d}"})
    assert sum(len(c.visits) for c in response.context["grid"].columns) == 12


def test_week_view_query_count_does_not_grow_with_appointments(
    client_for, therapist, practitioner, monday, django_assert_num_queries
):
    client = client_for(therapist)
    url = reverse("scheduling:week", args=[practitioner.pk])
    _fill_day(monday, [practitioner], 2)
    # session, user, user permissions, group permissions, the practitioner with the
    # practitioners for the switcher, appointments, working hours with time off and
    # clinic closures of the week (one query).
    with django_assert_num_queries(7):
        client.get(url, {"date": f"{monday:%Y-%m-%d}"})
    for offset in range(1, 5):
        _fill_day(monday + dt.timedelta(days=offset), [practitioner], 6)
    with django_assert_num_queries(7):
        response = client.get(url, {"date": f"{monday:%Y-%m-%d}"})
    assert sum(len(c.visits) for c in response.context["grid"].columns) == 26


def test_week_view_places_visits_on_their_day(client_for, therapist, practitioner, monday):
    AppointmentFactory(
        practitioner=practitioner, starts_at=at(monday + dt.timedelta(days=2), "13:00")
    )
    response = client_for(therapist).get(
        reverse("scheduling:week", args=[practitioner.pk]), {"date": f"{monday:%Y-%m-%d}"}
    )
    columns = response.context["grid"].columns
    wednesday = next(c for c in columns if c.day == monday + dt.timedelta(days=2))
    assert len(wednesday.visits) == 1
    assert sum(len(c.visits) for c in columns) == 1
    # 13:00 on a 07:00-19:00 grid is half-way down.
    assert round(wednesday.visits[0].top) == 50


def test_week_view_of_an_inactive_practitioner_and_its_switcher(
    client_for, therapist, practitioner, other_practitioner, monday
):
    """The week of a practitioner no longer active still shows; the switcher lists the
    active practitioners only, each linking to their week of the asked day."""
    other_practitioner.active = False
    other_practitioner.save()
    client = client_for(therapist)
    response = client.get(
        reverse("scheduling:week", args=[other_practitioner.pk]), {"date": f"{monday:%Y-%m-%d}"}
    )
    assert response.status_code == 200
    assert response.context["practitioner"] == other_practitioner
    week = reverse("scheduling:week", args=[practitioner.pk])
    switcher = response.content.decode().split(">Practitioner</button>", 1)[1].split("</ul>")[0]
    assert f'href="{week}?date={monday:%Y-%m-%d}">{practitioner.display_name}</a>' in switcher
    assert other_practitioner.display_name not in switcher
    missing = reverse("scheduling:week", args=[other_practitioner.pk + practitioner.pk + 1])
    assert client.get(missing).status_code == 404


# Booking ---------------------------------------------------------------------------


def _booking(patient, practitioner, day, time="10:00", **extra):
    data = {
        "patient": patient.pk,
        "practitioner": practitioner.pk,
        "kind": "follow_up",
        "date": f"{day:%Y-%m-%d}",
        "time": time,
        "duration": "",
        "room": "",
    }
    data.update(extra)
    return data


def test_front_desk_books_a_visit(client_for, front_desk, patient, practitioner, room, monday):
    response = client_for(front_desk).post(
        reverse("scheduling:book"), _booking(patient, practitioner, monday, room=room.pk)
    )
    assert response.status_code == 302
    visit = Appointment.objects.get()
    assert visit.starts_at == at(monday, "10:00")
    assert visit.ends_at == at(monday, "10:30")  # the follow-up default
    assert visit.room == room and visit.created_by == front_desk


def test_initial_evaluation_defaults_to_sixty_minutes(
    client_for, front_desk, patient, practitioner, monday
):
    client_for(front_desk).post(
        reverse("scheduling:book"),
        _booking(patient, practitioner, monday, kind="initial_evaluation"),
    )
    visit = Appointment.objects.get()
    assert visit.ends_at - visit.starts_at == dt.timedelta(minutes=60)


def test_stale_form_after_someone_took_the_slot_shows_an_error_not_a_500(
    client_for, front_desk, patient, practitioner, monday
):
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "10:00"))
    response = client_for(front_desk).post(
        reverse("scheduling:book"), _booking(patient, practitioner, monday)
    )
    assert response.status_code == 200
    assert "This slot is taken" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_outside_hours_warns_then_books_with_the_confirmation(
    client_for, front_desk, patient, practitioner, monday
):
    client = client_for(front_desk)
    response = client.post(
        reverse("scheduling:book"), _booking(patient, practitioner, monday, time="06:00")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "outside" in html and 'name="override_hours"' in html
    assert not Appointment.objects.exists()
    response = client.post(
        reverse("scheduling:book"),
        _booking(patient, practitioner, monday, time="06:00", override_hours="on"),
    )
    assert response.status_code == 302
    assert Appointment.objects.get().starts_at == at(monday, "06:00")


def test_override_checkbox_is_hidden_until_needed(client_for, front_desk):
    html = client_for(front_desk).get(reverse("scheduling:book")).content.decode()
    assert 'name="override_hours"' not in html


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"duration": "0"}, "between 10 minutes and 4 hours"),
        ({"duration": "720"}, "between 10 minutes and 4 hours"),
        ({"duration": "lots"}, "Enter a whole number"),
        ({"time": "25:00"}, "Enter a valid time"),
        ({"date": "yesterday"}, "Enter a valid date"),
        ({"practitioner": "999999"}, "Select a valid choice"),
        ({"kind": "surgery"}, "Select a valid choice"),
    ],
)
def test_bad_booking_input_gets_a_form_error(
    client_for, front_desk, patient, practitioner, monday, extra, message
):
    response = client_for(front_desk).post(
        reverse("scheduling:book"), {**_booking(patient, practitioner, monday), **extra}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Appointment.objects.exists()


def test_booking_in_the_past_gets_a_form_error(client_for, front_desk, patient, practitioner):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client_for(front_desk).post(
        reverse("scheduling:book"), _booking(patient, practitioner, yesterday)
    )
    assert response.status_code == 200
    assert "in the past" in response.content.decode()
    assert not Appointment.objects.exists()


def test_archived_patient_gets_a_form_error(client_for, front_desk, practitioner, monday):
    archived = PatientFactory(archived_at=timezone.now(), last_name="Gone")
    client = client_for(front_desk)
    assert "Gone" not in client.get(reverse("scheduling:book")).content.decode()
    response = client.post(reverse("scheduling:book"), _booking(archived, practitioner, monday))
    assert response.status_code == 200
    assert "archived" in response.content.decode()
    assert not Appointment.objects.exists()


def test_time_skipped_by_the_spring_clock_change_gets_a_form_error(
    client_for, front_desk, patient, practitioner
):
    day = next_spring_forward()
    response = client_for(front_desk).post(
        reverse("scheduling:book"),
        _booking(patient, practitioner, day, time="02:30", override_hours="on"),
    )
    assert response.status_code == 200
    assert "does not exist" in response.content.decode()
    assert not Appointment.objects.exists()


# Status flow, cancel and reschedule through the pages ------------------------------


def test_check_in_from_today_returns_to_today(
    client_for, front_desk, practitioner, patient, clinic_noon
):
    start = timezone.now() + dt.timedelta(minutes=5)
    visit = AppointmentFactory(practitioner=practitioner, patient=patient, starts_at=start)
    response = client_for(front_desk).post(
        reverse("scheduling:check_in", args=[visit.pk]), {"next": reverse("today")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("today")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CHECKED_IN


def test_check_in_ignores_an_offsite_next(client_for, front_desk, visit):
    response = client_for(front_desk).post(
        reverse("scheduling:check_in", args=[visit.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("scheduling:appointment", args=[visit.pk])


def test_cancel_page_cancels_with_a_reason(client_for, front_desk, visit):
    client = client_for(front_desk)
    url = reverse("scheduling:cancel", args=[visit.pk])
    response = client.post(url, {"reason": "  ", "scope": "one"})
    assert response.status_code == 200 and "reason" in response.content.decode()
    response = client.post(url, {"reason": "Patient unwell", "scope": "one"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED and visit.cancel_reason == "Patient unwell"
    assert AuditEvent.objects.filter(patient=visit.patient, detail__contains="cancelled").exists()
    # Cancelling twice is refused with a message, not a 500.
    response = client.post(url, {"reason": "Again", "scope": "one"})
    assert response.status_code == 200 and "cannot be cancelled" in response.content.decode()


def test_reschedule_page_moves_the_visit_and_keeps_history(
    client_for, front_desk, visit, practitioner, monday
):
    response = client_for(front_desk).post(
        reverse("scheduling:reschedule", args=[visit.pk]),
        {
            "practitioner": practitioner.pk,
            "date": f"{monday + dt.timedelta(days=1):%Y-%m-%d}",
            "time": "11:00",
            "duration": "45",
            "room": "",
        },
    )
    assert response.status_code == 302
    new = Appointment.objects.get(rescheduled_from=visit)
    assert new.starts_at == at(monday + dt.timedelta(days=1), "11:00")
    assert new.ends_at - new.starts_at == dt.timedelta(minutes=45)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    detail = client_for(front_desk).get(reverse("scheduling:appointment", args=[visit.pk]))
    assert reverse("scheduling:appointment", args=[new.pk]) in detail.content.decode()


def test_reschedule_onto_a_taken_slot_is_a_form_error(
    client_for, front_desk, visit, practitioner, monday
):
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "14:00"))
    response = client_for(front_desk).post(
        reverse("scheduling:reschedule", args=[visit.pk]),
        {"practitioner": practitioner.pk, "date": f"{monday:%Y-%m-%d}", "time": "14:00"},
    )
    assert response.status_code == 200
    assert "This slot is taken" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_appointment_ics_download(client_for, therapist, visit):
    response = client_for(therapist).get(reverse("scheduling:appointment_ics", args=[visit.pk]))
    assert response["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in response.content


# Free slots --------------------------------------------------------------------------


def test_free_slot_search_lists_bookable_times(client_for, front_desk, practitioner, monday):
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "07:00"))
    response = client_for(front_desk).get(
        reverse("scheduling:free_slots"),
        {
            "practitioner": practitioner.pk,
            "kind": "follow_up",
            "date": f"{monday:%Y-%m-%d}",
            "count": 3,
        },
    )
    slots = response.context["slots"]
    assert [s.starts_at for s in slots] == [
        at(monday, "07:30"),
        at(monday, "07:45"),
        at(monday, "08:00"),
    ]
    assert "Book this" in response.content.decode()


def test_free_slot_search_rejects_bad_input(client_for, front_desk):
    response = client_for(front_desk).get(
        reverse("scheduling:free_slots"), {"kind": "follow_up", "count": "500", "duration": "0"}
    )
    assert response.status_code == 200
    assert response.context["slots"] is None


# Recurring -----------------------------------------------------------------------------


def _recurring(patient, practitioner, monday, **extra):
    data = {
        "patient": patient.pk,
        "practitioner": practitioner.pk,
        "kind": "follow_up",
        "first_date": f"{monday:%Y-%m-%d}",
        "time": "09:00",
        "weekdays": ["0", "3"],
        "weeks": "6",
        "duration": "",
        "room": "",
        "plan": "",
    }
    data.update(extra)
    return data


def test_recurring_preview_lists_each_visit_and_conflicts_with_a_suggestion(
    client_for, front_desk, patient, practitioner, monday
):
    AppointmentFactory(
        practitioner=practitioner, starts_at=at(monday + dt.timedelta(days=7), "09:00")
    )
    response = client_for(front_desk).post(
        reverse("scheduling:recurring"), _recurring(patient, practitioner, monday, action="preview")
    )
    preview = response.context["preview"]
    assert len(preview) == 12
    conflicts = [o for o in preview if o.problem]
    assert len(conflicts) == 1
    assert conflicts[0].suggestion == at(monday + dt.timedelta(days=7), "08:30")
    assert "Suggested instead" in response.content.decode()
    assert not Appointment.objects.filter(patient=patient).exists()


def test_recurring_book_saves_the_ticked_visits(
    client_for, front_desk, patient, practitioner, monday
):
    client = client_for(front_desk)
    preview = client.post(
        reverse("scheduling:recurring"), _recurring(patient, practitioner, monday, action="preview")
    ).context["preview"]
    picked = [o.booked_start.isoformat() for o in preview][:10]
    response = client.post(
        reverse("scheduling:recurring"),
        _recurring(patient, practitioner, monday, action="book", occurrence=picked),
    )
    assert response.status_code == 302
    series = AppointmentSeries.objects.get()
    assert series.appointments.count() == 10


def test_recurring_book_after_a_slot_was_taken_books_none(
    client_for, front_desk, patient, practitioner, monday
):
    client = client_for(front_desk)
    preview = client.post(
        reverse("scheduling:recurring"), _recurring(patient, practitioner, monday, action="preview")
    ).context["preview"]
    picked = [o.booked_start.isoformat() for o in preview]
    # Someone else books the fifth visit's time while the preview is on screen.
    AppointmentFactory(practitioner=practitioner, starts_at=preview[4].starts_at)
    response = client.post(
        reverse("scheduling:recurring"),
        _recurring(patient, practitioner, monday, action="book", occurrence=picked),
    )
    assert response.status_code == 200
    assert "No visit of the series was booked" in response.content.decode() or (
        "times changed since the preview" in response.content.decode()
    )
    assert not Appointment.objects.filter(patient=patient).exists()


def test_recurring_from_a_plan_fills_in_its_frequency_without_clinical_detail(
    client_for, front_desk, therapist, patient, practitioner
):
    plan = TreatmentPlanFactory(
        patient=patient,
        therapist=therapist,
        assessment__patient=patient,
        assessment__therapist=therapist,
        visits_per_week=3,
        weeks=4,
        goals="Climb stairs without knee pain",
    )
    response = client_for(front_desk).get(
        reverse("scheduling:recurring"), {"patient": patient.pk, "plan": plan.pk}
    )
    form = response.context["form"]
    assert form.initial["weekdays"] == [0, 2, 4]
    assert form.initial["weeks"] == 4
    assert form.initial["practitioner"] == practitioner.pk
    assert "Climb stairs" not in response.content.decode()


def test_recurring_refuses_a_plan_of_another_patient(
    client_for, front_desk, patient, practitioner, monday
):
    plan = TreatmentPlanFactory()
    response = client_for(front_desk).post(
        reverse("scheduling:recurring"),
        _recurring(patient, practitioner, monday, action="preview", plan=plan.pk),
    )
    assert "does not belong to this patient" in response.content.decode()


# Feeds ---------------------------------------------------------------------------------


def test_feed_needs_no_login_and_dies_when_renewed(
    client, client_for, therapist, practitioner, visit
):
    client_for(therapist).post(reverse("scheduling:my_feed"), {"action": "renew"})
    practitioner.refresh_from_db()
    old_url = reverse("scheduling:feed", args=[practitioner.feed_token])
    client.logout()
    response = client.get(old_url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert b"Ada L." in response.content
    client_for(therapist).post(reverse("scheduling:my_feed"), {"action": "renew"})
    client.logout()
    assert client.get(old_url).status_code == 404
    practitioner.refresh_from_db()
    assert client.get(reverse("scheduling:feed", args=[practitioner.feed_token])).status_code == 200


def test_feed_with_a_wrong_or_revoked_token_is_a_404(client, client_for, manager, practitioner):
    assert client.get(reverse("scheduling:feed", args=["x" * 43])).status_code == 404
    client_for(manager).post(
        reverse("scheduling:practitioner", args=[practitioner.pk]), {"action": "feed_renew"}
    )
    practitioner.refresh_from_db()
    token = practitioner.feed_token
    client_for(manager).post(
        reverse("scheduling:practitioner", args=[practitioner.pk]), {"action": "feed_revoke"}
    )
    client.logout()
    assert client.get(reverse("scheduling:feed", args=[token])).status_code == 404


# Manager set-up ----------------------------------------------------------------------


def test_manager_sets_working_hours_and_time_off(client_for, manager, practitioner, monday):
    client = client_for(manager)
    url = reverse("scheduling:practitioner", args=[practitioner.pk])
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    response = client.post(
        url, {"action": "hours", "weekday": "1", "start": "09:00", "end": "08:00"}
    )
    assert response.status_code == 200 and "end after they start" in response.content.decode()
    response = client.post(
        url, {"action": "hours", "weekday": "1", "start": "08:00", "end": "17:00"}
    )
    assert response.status_code == 302
    assert WorkingHours.objects.get(practitioner=practitioner).weekday == 1
    response = client.post(
        url,
        {
            "action": "time_off",
            "start_date": f"{monday:%Y-%m-%d}",
            "end_date": f"{monday - dt.timedelta(days=2):%Y-%m-%d}",
        },
    )
    assert response.status_code == 200 and "end after it starts" in response.content.decode()
    response = client.post(
        url,
        {
            "action": "time_off",
            "start_date": f"{monday:%Y-%m-%d}",
            "end_date": f"{monday:%Y-%m-%d}",
            "reason": "Course",
        },
    )
    assert response.status_code == 302
    off = TimeOff.objects.get()
    assert off.starts_at == at(monday, "00:00")
    assert off.ends_at == at(monday + dt.timedelta(days=1), "00:00")
    hours = WorkingHours.objects.get()
    response = client.post(url, {"action": "delete_hours", "id": hours.pk})
    assert not WorkingHours.objects.exists()
    response = client.post(url, {"action": "delete_hours", "id": "abc"})
    assert response.status_code == 404


def test_manager_deactivates_a_practitioner_who_leaves_the_calendar(
    client_for, manager, practitioner, front_desk
):
    client_for(manager).post(
        reverse("scheduling:practitioner", args=[practitioner.pk]),
        {"action": "details", "display_name": "Dr Who", "active": ""},
    )
    practitioner.refresh_from_db()
    assert practitioner.display_name == "Dr Who" and not practitioner.active
    grid = client_for(front_desk).get(reverse("scheduling:day")).context["grid"]
    assert practitioner.pk not in [c.practitioner.pk for c in grid.columns]


def test_manager_links_a_therapist_account_without_practitioner(client_for, manager):
    from tests.factories import TherapistFactory

    user = TherapistFactory()
    user.practitioner.delete()
    response = client_for(manager).post(
        reverse("scheduling:practitioner_create"), {"user": user.pk, "display_name": "Sam"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.practitioner.display_name == "Sam"


def test_manager_adds_and_renames_rooms(client_for, manager, room):
    client = client_for(manager)
    response = client.post(reverse("scheduling:room_create"), {"name": "room a", "active": "on"})
    assert response.status_code == 200 and "already a room" in response.content.decode()
    assert (
        client.post(reverse("scheduling:room_create"), {"name": "Gym", "capacity": "4"}).status_code
        == 302
    )
    assert Room.objects.get(name="Gym").capacity == 4
    client.post(
        reverse("scheduling:room_edit", args=[room.pk]), {"name": "Room A1", "capacity": "1"}
    )
    room.refresh_from_db()
    assert room.name == "Room A1" and room.active is False


def test_manager_changes_durations_and_the_late_window(
    client_for, manager, front_desk, patient, practitioner, monday
):
    client_for(manager).post(
        reverse("scheduling:settings"),
        {
            "initial_evaluation_minutes": 75,
            "follow_up_minutes": 30,
            "follow_up_long_minutes": 45,
            "reassessment_minutes": 45,
            "discharge_minutes": 30,
            "late_cancellation_hours": 12,
            "slot_step_minutes": 15,
        },
    )
    client_for(front_desk).post(
        reverse("scheduling:book"),
        _booking(patient, practitioner, monday, kind="initial_evaluation"),
    )
    visit = Appointment.objects.get()
    assert visit.ends_at - visit.starts_at == dt.timedelta(minutes=75)


def test_settings_refuse_zero_durations(client_for, manager):
    response = client_for(manager).post(
        reverse("scheduling:settings"),
        {
            "initial_evaluation_minutes": 0,
            "follow_up_minutes": 30,
            "follow_up_long_minutes": 45,
            "reassessment_minutes": 45,
            "discharge_minutes": 30,
            "late_cancellation_hours": 24,
            "slot_step_minutes": 15,
        },
    )
    assert response.status_code == 200
    assert "greater than or equal to 10" in response.content.decode()


# Navigation, Today and the patient page ----------------------------------------------


def test_navigation_entries_follow_permissions(client_for, role_users):
    pages = {
        role: client_for(u).get(reverse("today")).content.decode() for role, u in role_users.items()
    }
    assert all('data-nav="calendar"' in html for html in pages.values())
    assert 'data-nav="book"' in pages["front_desk"]
    assert 'data-nav="book"' not in pages["therapist"] + pages["manager"]
    assert 'data-nav="practitioners"' in pages["manager"]
    assert 'data-nav="practitioners"' not in pages["therapist"] + pages["front_desk"]


def _today_visits(practitioner):
    """Callers stop the clock at noon (``clinic_noon``) so both visits fall today."""
    now = timezone.now()
    start = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=10)
    arriving = AppointmentFactory(practitioner=practitioner, starts_at=start)
    missed = AppointmentFactory(
        practitioner=practitioner,
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(minutes=1),
        status=AppointmentStatus.NO_SHOW,
    )
    return arriving, missed


def test_front_desk_today_lists_arrivals_with_check_in_and_no_shows(
    client_for, front_desk, practitioner, clinic_noon
):
    arriving, missed = _today_visits(practitioner)
    response = client_for(front_desk).get(reverse("today"))
    html = response.content.decode()
    assert f'data-arrival="{arriving.pk}"' in html
    assert reverse("scheduling:check_in", args=[arriving.pk]) in html
    assert missed.patient.full_name in html
    assert reverse("scheduling:appointment", args=[missed.pk]) in html
    data = dict((s.key, d) for s, d in response.context["sections"])["front-desk-day"]
    assert [row.visit.id for row in data["no_shows"]] == [missed.pk]
    assert data["no_shows"][0].visit.patient_name == missed.patient.full_name
    assert "gaps" in data


def test_front_desk_today_lists_the_first_20_no_shows_and_how_many_more(
    client_for, front_desk, practitioner, clinic_noon
):
    today = timezone.localdate()
    missed = [
        AppointmentFactory(
            practitioner=practitioner,
            starts_at=at(today, "01:00") + dt.timedelta(minutes=30 * n),
            ends_at=at(today, "01:30") + dt.timedelta(minutes=30 * n),
            status=AppointmentStatus.NO_SHOW,
        )
        for n in range(22)
    ]
    html = client_for(front_desk).get(reverse("today")).content.decode()
    links = {v.pk: f'href="{reverse("scheduling:appointment", args=[v.pk])}"' for v in missed}
    shown = [v for v in missed if links[v.pk] in html]
    assert shown == missed[:20]
    assert "2 more no-shows today" in html


def test_front_desk_today_reads_as_many_queries_on_an_empty_day(
    client_for, front_desk, practitioner, clinic_noon
):
    """The listed visits' names come with the day's visits: a day with nothing to list
    (a Sunday) and a busy one read the same queries."""
    client = client_for(front_desk)
    with CaptureQueriesContext(connection) as empty:
        html = client.get(reverse("today")).content.decode()
    assert "No more arrivals expected today." in html
    _today_visits(practitioner)
    with CaptureQueriesContext(connection) as busy:
        html = client.get(reverse("today")).content.decode()
    assert "data-arrival=" in html
    assert len(busy.captured_queries) == len(empty.captured_queries)


def test_front_desk_today_query_count_is_constant(
    client_for, front_desk, practitioner, other_practitioner, django_assert_num_queries, clinic_noon
):
    client = client_for(front_desk)
    _today_visits(practitioner)
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("today"))
    _today_visits(other_practitioner)
    AppointmentFactory(
        practitioner=other_practitioner,
        starts_at=timezone.now() + dt.timedelta(minutes=40),
    )
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(reverse("today"))


def test_therapist_today_links_to_each_patient_record(
    client_for, therapist, practitioner, clinic_noon
):
    arriving, _ = _today_visits(practitioner)
    html = client_for(therapist).get(reverse("today")).content.decode()
    assert reverse("patients:detail", args=[arriving.patient.pk]) in html
    assert arriving.patient.full_name in html


def test_patient_page_lists_visits_with_status_for_front_desk(
    client_for, front_desk, therapist, patient, practitioner, monday
):
    AppointmentFactory(patient=patient, practitioner=practitioner, starts_at=at(monday, "10:00"))
    AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        starts_at=timezone.now() - dt.timedelta(days=3),
        status=AppointmentStatus.COMPLETED,
    )
    TreatmentPlanFactory(
        patient=patient,
        therapist=therapist,
        assessment__patient=patient,
        assessment__therapist=therapist,
        goals="Run a 5k",
    )
    response = client_for(front_desk).get(reverse("patients:detail", args=[patient.pk]))
    sections = dict((s.key, d) for s, d in response.context["sections"])
    assert len(sections["appointments"]["upcoming"]) == 1
    assert len(sections["appointments"]["past"]) == 1
    html = response.content.decode()
    assert 'data-section="appointments"' in html
    assert "Completed" in html and "Booked" in html
    assert "Book visits for the plan of care" in html
    assert "Run a 5k" not in html


def test_patient_page_query_count_does_not_grow_with_visits(
    client_for, front_desk, patient, practitioner, monday, django_assert_num_queries
):
    client = client_for(front_desk)
    url = reverse("patients:detail", args=[patient.pk])
    AppointmentFactory(patient=patient, practitioner=practitioner, starts_at=at(monday, "10:00"))
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    for i in range(5):
        AppointmentFactory(
            patient=patient,
            practitioner=practitioner,
            starts_at=at(monday, "11:00") + dt.timedelta(days=i),
        )
        AppointmentFactory(
            patient=patient,
            practitioner=PractitionerFactory(),
            starts_at=timezone.now() - dt.timedelta(days=i + 1),
            status=AppointmentStatus.COMPLETED,
        )
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)


def test_give_hours_helper_covers_every_day(practitioner):
    # The tests above rely on a practitioner working 07:00-19:00 every day.
    assert WorkingHours.objects.filter(practitioner=practitioner).count() == 7
    give_hours  # noqa: B018 - imported for the module's fixtures


# Pinned query counts for the remaining pages and loaders -----------------------------


def _more_visits(practitioner, patient, monday, n):
    for i in range(n):
        AppointmentFactory(
            practitioner=practitioner,
            patient=patient,
            starts_at=at(monday, "08:00") + dt.timedelta(days=i),
        )
        AppointmentFactory(
            practitioner=practitioner,
            patient=patient,
            starts_at=timezone.now() - dt.timedelta(days=i + 1),
            status=AppointmentStatus.COMPLETED,
        )


def test_appointment_page_query_count(client_for, front_desk, visit, django_assert_num_queries):
    client = client_for(front_desk)
    # session, user, user permissions, group permissions, the appointment with patient,
    # practitioner, room, series, both reschedule links and booker. (No query for the
    # user's groups: the navigation checks permissions.)
    with django_assert_num_queries(5):
        response = client.get(reverse("scheduling:appointment", args=[visit.pk]))
    assert response.status_code == 200


def test_manager_list_pages_query_counts_do_not_grow(
    client_for, manager, practitioner, room, django_assert_num_queries
):
    client = client_for(manager)
    # session, user, user permissions, group permissions, the list. (No query for the
    # user's groups: the navigation checks permissions.)
    for name in ("scheduling:practitioners", "scheduling:rooms"):
        with django_assert_num_queries(5):
            client.get(reverse(name))
    for _ in range(4):
        PractitionerFactory()
        Room.objects.create(name=f"Extra {Room.objects.count()}")
    for name in ("scheduling:practitioners", "scheduling:rooms"):
        with django_assert_num_queries(5):
            client.get(reverse(name))


def test_practitioner_page_query_count_does_not_grow(
    client_for, manager, practitioner, monday, django_assert_num_queries
):
    client = client_for(manager)
    url = reverse("scheduling:practitioner", args=[practitioner.pk])
    # session, user, user permissions, group permissions, the practitioner with its
    # user, working hours, time off ahead. (No query for the user's groups.)
    with django_assert_num_queries(7):
        client.get(url)
    for i in range(3):
        TimeOff.objects.create(
            practitioner=practitioner,
            starts_at=at(monday, "08:00") + dt.timedelta(days=i),
            ends_at=at(monday, "09:00") + dt.timedelta(days=i),
        )
    with django_assert_num_queries(7):
        client.get(url)


def test_free_slot_page_query_count_does_not_grow(
    client_for, front_desk, practitioner, monday, django_assert_num_queries
):
    client = client_for(front_desk)
    url = reverse("scheduling:free_slots")
    params = {"kind": "follow_up", "count": 10, "date": f"{monday:%Y-%m-%d}"}
    # session, user, user permissions, group permissions, scheduling settings,
    # practitioners, working hours with time off and clinic closures, appointments,
    # practitioners for the form's select. (No query for the user's groups.)
    with django_assert_num_queries(9):
        client.get(url, params)
    for i in range(8):
        AppointmentFactory(
            practitioner=practitioner, starts_at=at(monday, "07:00") + i * dt.timedelta(minutes=30)
        )
    PractitionerFactory()
    with django_assert_num_queries(9):
        client.get(url, params)


def test_patient_section_loader_query_count_does_not_grow(
    rf, front_desk, patient, practitioner, monday, django_assert_num_queries
):
    from clinic.scheduling import selectors
    from clinic.scheduling.sections import load_appointments

    request = rf.get("/")
    request.user = front_desk
    front_desk.has_perm("clinic.add_appointment")  # warm the permission cache
    # upcoming and past visits (one UNION ALL), active plans of care.
    with django_assert_num_queries(2):
        load_appointments(request, patient)
    _more_visits(practitioner, patient, monday, 6)
    with django_assert_num_queries(2):
        data = load_appointments(request, patient)
    assert len(data["upcoming"]) == 6 and len(data["past"]) == 6
    # The next visits soonest first, the past ones latest first; a limit keeps the
    # nearest of each.
    starts = dict(Appointment.objects.filter(patient=patient).values_list("pk", "starts_at"))
    upcoming = [starts[visit.id] for visit in data["upcoming"]]
    past = [starts[visit.id] for visit in data["past"]]
    assert upcoming == sorted(upcoming) and past == sorted(past, reverse=True)
    assert past[0] < timezone.now() <= upcoming[0]
    nearest = selectors.patient_appointments(patient, limit=2)
    assert [visit.id for visit in nearest["upcoming"]] == [v.id for v in data["upcoming"][:2]]
    assert [visit.id for visit in nearest["past"]] == [v.id for v in data["past"][:2]]


def test_today_loaders_query_counts_do_not_grow(
    therapist, practitioner, other_practitioner, django_assert_num_queries
):
    """At a fixed noon, so no visit of the test falls on another day whatever the clock."""
    from clinic.scheduling import selectors

    tz = timezone.get_current_timezone()
    noon = dt.datetime.combine(timezone.now().astimezone(tz).date(), dt.time(12), tzinfo=tz)

    def visits(practitioner):
        AppointmentFactory(practitioner=practitioner, starts_at=noon + dt.timedelta(minutes=10))
        AppointmentFactory(
            practitioner=practitioner,
            starts_at=noon - dt.timedelta(minutes=1),
            ends_at=noon + dt.timedelta(minutes=1),
            status=AppointmentStatus.NO_SHOW,
        )

    visits(practitioner)
    # the day's visits as values (names for the listed ones) with the count of completed
    # ones, practitioners, working hours with time off and clinic closures of the day.
    with django_assert_num_queries(3):
        selectors.front_desk_day(now=noon)
    # the therapist's practitioner record with their appointments.
    with django_assert_num_queries(1):
        selectors.therapist_day(therapist, now=noon)
    visits(other_practitioner)
    AppointmentFactory(practitioner=practitioner, starts_at=noon + dt.timedelta(minutes=50))
    with django_assert_num_queries(3):
        selectors.front_desk_day(now=noon)
    with django_assert_num_queries(1):
        data = selectors.therapist_day(therapist, now=noon)
    assert len(data["visits"]) == 3


def test_today_tells_a_therapist_without_visits_or_practitioner_record(
    client_for, therapist, other_practitioner
):
    """The therapist's day is one query joining their practitioner record to the day's
    visits: no record and a record without visits are told apart."""
    AppointmentFactory(practitioner=other_practitioner, starts_at=timezone.now())
    client = client_for(therapist)
    html = client.get("/").content.decode()
    assert "No visits booked for you today." in html
    assert reverse("scheduling:week", args=[therapist.practitioner.pk]) in html
    therapist.practitioner.delete()
    assert "You are not set up as a practitioner yet" in client.get("/").content.decode()


def test_cancel_this_and_following_from_the_page(
    client_for, front_desk, patient, practitioner, monday
):
    from clinic.scheduling import services

    series = services.series_book(
        patient=patient,
        practitioner=practitioner,
        kind="follow_up",
        starts=[at(monday + dt.timedelta(days=7 * i), "09:00") for i in range(4)],
        duration=dt.timedelta(minutes=30),
        acting_user=front_desk,
    )
    second = series.appointments.order_by("starts_at")[1]
    page = client_for(front_desk).get(reverse("scheduling:cancel", args=[second.pk]))
    assert "This and all following visits" in page.content.decode()
    response = client_for(front_desk).post(
        reverse("scheduling:cancel", args=[second.pk]),
        {"reason": "Moving away", "scope": "following"},
        follow=True,
    )
    assert "3 visits cancelled." in response.content.decode()
    statuses = list(series.appointments.order_by("starts_at").values_list("status", flat=True))
    assert statuses == ["booked", "cancelled", "cancelled", "cancelled"]


def test_free_slots_for_a_patient_skip_their_other_visits(
    client_for, front_desk, patient, practitioner, other_practitioner, monday
):
    AppointmentFactory(
        practitioner=other_practitioner, patient=patient, starts_at=at(monday, "07:00")
    )
    response = client_for(front_desk).get(
        reverse("scheduling:free_slots"),
        {
            "patient": patient.pk,
            "practitioner": practitioner.pk,
            "kind": "follow_up",
            "date": f"{monday:%Y-%m-%d}",
            "count": 1,
        },
    )
    assert response.context["slots"][0].starts_at == at(monday, "07:30")
    assert f"patient={patient.pk}" in response.content.decode()


def test_time_off_over_booked_visits_warns_the_manager(client_for, manager, visit, monday):
    response = client_for(manager).post(
        reverse("scheduling:practitioner", args=[visit.practitioner.pk]),
        {
            "action": "time_off",
            "start_date": f"{monday:%Y-%m-%d}",
            "end_date": f"{monday:%Y-%m-%d}",
            "reason": "Sick",
        },
        follow=True,
    )
    off = TimeOff.objects.get()
    # Straight to the worklist of the visits it strands, with the visit on it.
    assert response.redirect_chain[-1][0] == reverse("scheduling:time_off_visits", args=[off.pk])
    body = response.content.decode()
    assert "1 visit(s) fall in this time off" in body
    assert visit.patient.full_name in body
    assert [v.pk for v in response.context["visits"]] == [visit.pk]


def test_recurring_book_accepts_the_times_exactly_as_the_preview_page_writes_them(
    client_for, front_desk, patient, practitioner, monday
):
    import re

    client = client_for(front_desk)
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "09:00"))
    html = client.post(
        reverse("scheduling:recurring"), _recurring(patient, practitioner, monday, action="preview")
    ).content.decode()
    picked = re.findall(r'name="occurrence" value="([^"]+)"', html)
    assert len(picked) == 12
    assert at(monday, "08:30").isoformat() in picked  # the suggestion, in clinic time
    response = client.post(
        reverse("scheduling:recurring"),
        _recurring(patient, practitioner, monday, action="book", occurrence=picked),
    )
    assert response.status_code == 302
    starts = set(Appointment.objects.filter(patient=patient).values_list("starts_at", flat=True))
    assert at(monday, "08:30") in starts and len(starts) == 12


@pytest.mark.parametrize(
    "value", ["not-a-date", "2030-01-01T09:00:00", "2030-01-01T09:00:00+00:00"]
)
def test_recurring_book_refuses_times_that_were_not_previewed(
    client_for, front_desk, patient, practitioner, monday, value
):
    response = client_for(front_desk).post(
        reverse("scheduling:recurring"),
        _recurring(patient, practitioner, monday, action="book", occurrence=[value]),
    )
    assert response.status_code == 200
    assert "times changed since the preview" in response.content.decode()
    assert not Appointment.objects.exists()


def test_recurring_refuses_more_visits_than_a_series_holds(
    client_for, front_desk, patient, practitioner, monday
):
    response = client_for(front_desk).post(
        reverse("scheduling:recurring"),
        _recurring(
            patient,
            practitioner,
            monday,
            action="preview",
            weekdays=["0", "1", "2", "3", "4"],
            weeks="52",
        ),
    )
    assert "at most 104 visits" in response.content.decode()
    assert response.context["preview"] is None


@pytest.mark.parametrize(
    ("role", "shown"), [("therapist", True), ("front_desk", False), ("manager", False)]
)
def test_the_calendar_feed_link_is_shown_to_clinicians_only(client_for, role_users, role, shown):
    html = client_for(role_users[role]).get(reverse("scheduling:day")).content.decode()
    assert (reverse("scheduling:my_feed") in html) is shown


def test_front_desk_day_counts_completed_visits_and_reads_only_those_still_running(
    practitioner, monday, django_assert_num_queries
):
    """By the afternoon most of the day is completed: those visits are counted, and only
    the ones still running (they take time from the gaps) are read."""

    from clinic.scheduling import selectors

    now = at(monday, "15:00")
    for hour in range(8, 14):
        AppointmentFactory(
            practitioner=practitioner,
            starts_at=at(monday, f"{hour:02}:00"),
            status=AppointmentStatus.COMPLETED,
        )
    running = AppointmentFactory(
        practitioner=practitioner,
        starts_at=at(monday, "14:30"),
        ends_at=at(monday, "15:30"),
        status=AppointmentStatus.COMPLETED,
    )
    arriving = AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "16:00"))
    # the day's visits as values (names for the listed ones) with the completed count,
    # practitioners, hours with time off and closures.
    with instances_built(Appointment) as built, django_assert_num_queries(3):
        data = selectors.front_desk_day(now=now)
    assert data["completed_count"] == 7
    # The running visit is read as plain values for the gaps, unlisted; no visit is a
    # model instance.
    assert built == []
    assert [a.visit.id for a in data["arrivals"]] == [arriving.pk]
    assert running.pk not in [row.visit.id for row in data["checked_in"]]
    gaps = [(s, e) for p, s, e in data["gaps"] if p == practitioner]
    assert gaps[0] == (at(monday, "15:30"), at(monday, "16:00"))


def test_front_desk_day_reads_names_only_for_the_visits_it_lists(
    practitioner, other_practitioner, room, monday, django_assert_num_queries
):
    """A clinic group's morning has 250 arrivals: they all take time from the gaps, read as
    plain values; names are read only for the 20 listed arrivals, the checked-in visits
    and the no-shows, and no visit becomes a model instance (docs/decisions.md, "Pages at
    a clinic group's size")."""

    from clinic.scheduling import selectors

    now = at(monday, "07:30")
    no_show = AppointmentFactory(
        practitioner=practitioner,
        starts_at=at(monday, "07:00"),
        ends_at=at(monday, "07:30"),
        status=AppointmentStatus.NO_SHOW,
    )
    checked_in = AppointmentFactory(
        practitioner=other_practitioner,
        starts_at=at(monday, "07:15"),
        ends_at=at(monday, "07:45"),
        status=AppointmentStatus.CHECKED_IN,
    )
    arriving = [
        AppointmentFactory(
            practitioner=(practitioner, other_practitioner)[n % 2],
            starts_at=at(monday, "08:00") + dt.timedelta(minutes=30 * (n // 2)),
            ends_at=at(monday, "08:30") + dt.timedelta(minutes=30 * (n // 2)),
            room=room if n == 0 else None,
        )
        for n in range(24)
    ]
    with instances_built(Appointment) as built, django_assert_num_queries(3):
        data = selectors.front_desk_day(now=now)
    assert built == []
    listed = sorted(arriving, key=lambda v: (v.starts_at, v.pk))[:20]
    assert [a.visit.id for a in data["arrivals"]] == [v.pk for v in listed]
    first = data["arrivals"][0]
    assert first.link == reverse("scheduling:appointment", args=[first.visit.id])
    assert first.check_in == reverse("scheduling:check_in", args=[first.visit.id])
    assert first.no_show == reverse("scheduling:no_show", args=[first.visit.id])
    assert first.time == "08:00" and not first.late
    assert first.kind == listed[0].get_kind_display()
    assert (first.visit.patient_name, first.visit.practitioner_name, first.visit.room_name) == (
        listed[0].patient.full_name,
        listed[0].practitioner.display_name,
        room.name,
    )
    assert data["arrivals"][1].visit.room_name is None
    assert data["more_arrivals"] == 4
    assert [row.visit.id for row in data["checked_in"]] == [checked_in.pk]
    assert [row.visit.id for row in data["no_shows"]] == [no_show.pk]
    assert data["checked_in"][0].visit.patient_name == checked_in.patient.full_name
    assert data["no_shows"][0].time == "07:00"
    assert data["no_shows"][0].link == reverse("scheduling:appointment", args=[no_show.pk])
    # The arrivals past the first 20 are read without names, for the gaps only.
    start, end = at(monday, "00:00"), at(monday, "00:00") + dt.timedelta(days=1)
    visits, _ = selectors._front_desk_visits(start, end, now)
    unnamed = {v.id for v in visits if v.patient_name is None}
    assert unnamed == {v.pk for v in arriving} - {v.pk for v in listed}
    # The unlisted arrivals still take their time from the gaps: each practitioner is
    # booked from 8:00 to 14:00 without a break.
    for who in (practitioner, other_practitioner):
        for _, s, e in (g for g in data["gaps"] if g[0] == who):
            assert e <= at(monday, "08:00") or s >= at(monday, "14:00")


def test_status_badge_prints_what_the_status_template_prints():
    """The patient page's rows print ``status_badge`` (no include per row); other pages
    include clinic/scheduling/_status.html: the two must not drift apart."""
    from django.template.loader import render_to_string

    from clinic.scheduling.selectors import status_badge

    for status in AppointmentStatus:
        for late in (False, True):
            visit = {"status": status.value, "late_cancellation": late}
            expected = render_to_string(
                "clinic/scheduling/_status.html", {"appointment": visit}
            ).strip()
            assert status_badge(status.value, late) == expected, (status, late)


def test_patient_section_rows_are_values_with_links_made_once(
    rf, front_desk, patient, practitioner, monday, django_assert_num_queries
):
    """The rows are plain values: no Appointment is built and no URL is reversed per row
    (docs/decisions.md, "Pages at a clinic group's size")."""
    from unittest import mock

    from clinic.scheduling import selectors
    from clinic.scheduling.sections import load_appointments

    _more_visits(practitioner, patient, monday, 6)
    late = AppointmentFactory(
        practitioner=practitioner,
        patient=patient,
        starts_at=timezone.now() - dt.timedelta(days=30),
        status=AppointmentStatus.CANCELLED,
        late_cancellation=True,
    )
    request = rf.get("/")
    request.user = front_desk
    with (
        instances_built(Appointment) as built,
        mock.patch("patients.links.reverse", wraps=reverse) as reversed_,
    ):
        data = load_appointments(request, patient)
    assert built == [] and reversed_.call_count == 1
    assert [type(v) for v in data["upcoming"] + data["past"]] == [selectors.VisitRow] * 13
    row = data["past"][-1]
    local = timezone.localtime(late.starts_at)
    assert row.id == late.pk
    assert row.link == reverse("scheduling:appointment", args=[late.pk])
    assert row.when == f"{local:%a} {local.day} {local:%b %Y, %H:%M}"
    assert row.day == f"{local.day} {local:%b %Y}"
    assert row.kind == late.get_kind_display()
    assert row.practitioner == practitioner.display_name
    assert "Cancelled" in row.status_html and "Late" in row.status_html
    first = data["upcoming"][0]
    assert first.when.endswith(", 08:00") and "Booked" in first.status_html
