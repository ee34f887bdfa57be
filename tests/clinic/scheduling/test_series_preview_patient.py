"""The recurring preview never books a patient twice on one day (issue 13, item 2).

Lucía already has Mon/Thu 09:00 visits for her plan of care; booking the plan again at
09:00 used to show every row as "Slot taken" with a suggested time on the same day, all
ticked, and booked 24 visits for a 12-visit plan.
"""

import datetime as dt
import re

import pytest
from django.urls import reverse

from clinic.models import Appointment, WorkingHours
from clinic.scheduling import selectors, services
from tests.clinic.scheduling.conftest import at, give_hours
from tests.factories import AppointmentFactory, PatientFactory, TreatmentPlanFactory

pytestmark = pytest.mark.django_db

MIN30 = dt.timedelta(minutes=30)


@pytest.fixture
def lucia(db):
    return PatientFactory(first_name="Lucía", last_name="Gómez")


@pytest.fixture
def alex(practitioner):
    practitioner.display_name = "Alex Rivera"
    practitioner.save()
    return practitioner


@pytest.fixture
def plan(lucia, therapist, monday):
    # Twice a week for six weeks: 12 visits.
    return TreatmentPlanFactory(
        assessment__patient=lucia, assessment__therapist=therapist, start_date=monday
    )


def _form(patient, practitioner, monday, plan, **extra):
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
        "plan": plan.pk,
    }
    data.update(extra)
    return data


def _ticked(html: str) -> list[str]:
    """What a browser posts back: the values of the ticked boxes only."""
    return re.findall(r'name="occurrence" value="([^"]+)" id="[^"]+" checked', html)


def _preview_and_book(client, *args):
    html = client.post(
        reverse("scheduling:recurring"), _form(*args, action="preview")
    ).content.decode()
    response = client.post(
        reverse("scheduling:recurring"), _form(*args, action="book", occurrence=_ticked(html))
    )
    return html, response


def test_booking_the_plan_again_books_nothing_twice(
    client_for, front_desk, lucia, alex, plan, monday
):
    client = client_for(front_desk)
    _, first = _preview_and_book(client, lucia, alex, monday, plan)
    assert first.status_code == 302
    assert Appointment.objects.filter(patient=lucia).count() == 12

    html, again = _preview_and_book(client, lucia, alex, monday, plan)
    # Each row says the conflict is her own visit, suggests nothing, ticks nothing.
    assert html.count("Lucía&#x27;s own visit at 09:00 with Alex Rivera") == 12
    assert "Suggested instead" not in html
    assert _ticked(html) == []
    assert "12 already booked or done, 0 left to book" in html
    assert again.status_code == 200
    assert "Tick at least one visit" in again.content.decode()
    assert Appointment.objects.filter(patient=lucia).count() == 12


def test_visits_booked_one_by_one_count_against_the_plan(
    client_for, front_desk, lucia, alex, plan, monday
):
    # Six Monday visits booked one at a time (no series): the plan has six left, the
    # Thursdays, and the Mondays are hers already.
    for week in range(6):
        AppointmentFactory(
            practitioner=alex,
            patient=lucia,
            starts_at=at(monday, "09:00") + dt.timedelta(weeks=week),
        )
    html, response = _preview_and_book(client_for(front_desk), lucia, alex, monday, plan)
    assert "6 already booked or done, 6 left to book" in html
    assert len(_ticked(html)) == 6
    assert response.status_code == 302
    days = {
        a.starts_at.astimezone(at(monday, "09:00").tzinfo).weekday()
        for a in Appointment.objects.filter(patient=lucia)
    }
    assert days == {0, 3}
    assert Appointment.objects.filter(patient=lucia).count() == 12


def test_beyond_the_plan_is_offered_but_not_ticked(lucia, alex, monday):
    starts = [at(monday, "09:00") + dt.timedelta(weeks=w) for w in range(3)]
    preview = selectors.series_preview(
        patient=lucia, practitioner=alex, room=None, duration=MIN30, starts=starts, visits_left=2
    )
    assert [o.ticked for o in preview] == [True, True, False]
    assert preview[2].booked_start == starts[2] and "plan of care" in preview[2].note


def test_a_suggestion_never_lands_on_a_day_the_patient_already_comes(
    lucia, alex, other_practitioner, patient, monday
):
    # Alex works 09:00–10:00 only; both Monday slots are taken by someone else.
    WorkingHours.objects.filter(practitioner=alex).delete()
    give_hours(alex, "09:00", "10:00", weekdays=range(5))
    for hhmm in ("09:00", "09:30"):
        AppointmentFactory(practitioner=alex, patient=patient, starts_at=at(monday, hhmm))
    # Lucía comes on Tuesday afternoon to someone else.
    tuesday = monday + dt.timedelta(days=1)
    AppointmentFactory(
        practitioner=other_practitioner, patient=lucia, starts_at=at(tuesday, "14:00")
    )
    (occurrence,) = selectors.series_preview(
        patient=lucia, practitioner=alex, room=None, duration=MIN30, starts=[at(monday, "09:00")]
    )
    assert occurrence.problem == "Slot taken: Alex Rivera has another visit at 09:00."
    assert patient.first_name not in occurrence.problem  # never another patient's name
    # Tuesday 09:00 is free for Alex, but Lucía already comes that day.
    assert occurrence.suggestion == at(monday + dt.timedelta(days=2), "09:00")
    assert not occurrence.ticked


def test_a_conflict_names_the_earliest_visit_in_the_way(lucia, alex, patient, monday):
    # Booked latest first, so the table's own order is not the time order.
    for hhmm in ("09:15", "08:45"):
        AppointmentFactory(practitioner=alex, patient=patient, starts_at=at(monday, hhmm))
    (occurrence,) = selectors.series_preview(
        patient=lucia, practitioner=alex, room=None, duration=MIN30, starts=[at(monday, "09:00")]
    )
    assert occurrence.problem == "Slot taken: Alex Rivera has another visit at 08:45."


def test_a_free_time_on_a_day_she_already_comes_is_not_ticked(
    lucia, alex, other_practitioner, monday
):
    AppointmentFactory(
        practitioner=other_practitioner, patient=lucia, starts_at=at(monday, "14:00")
    )
    (occurrence,) = selectors.series_preview(
        patient=lucia, practitioner=alex, room=None, duration=MIN30, starts=[at(monday, "09:00")]
    )
    assert occurrence.problem == "" and not occurrence.ticked
    assert "already comes that day" in occurrence.note and "own visit at 14:00" in occurrence.note


def test_series_book_refuses_two_visits_on_one_day(lucia, alex, monday, front_desk):
    with pytest.raises(services.SchedulingError, match="same day"):
        services.series_book(
            patient=lucia,
            practitioner=alex,
            kind="follow_up",
            starts=[at(monday, "09:00"), at(monday, "11:00")],
            duration=MIN30,
            acting_user=front_desk,
        )
    assert not Appointment.objects.filter(patient=lucia).exists()


def test_recurring_preview_query_count_with_a_plan(
    client_for, front_desk, lucia, alex, plan, monday, django_assert_num_queries
):
    client = client_for(front_desk)
    url = reverse("scheduling:recurring")
    client.post(url, _form(lucia, alex, monday, plan, action="preview"))
    AppointmentFactory(practitioner=alex, patient=lucia, starts_at=at(monday, "09:00"))
    AppointmentFactory(practitioner=alex, starts_at=at(monday + dt.timedelta(days=3), "09:00"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        client.post(url, _form(lucia, alex, monday, plan, action="preview"))
    for week in range(1, 4):
        AppointmentFactory(
            practitioner=alex, starts_at=at(monday, "09:00") + dt.timedelta(weeks=week)
        )
    with django_assert_num_queries(len(first.captured_queries)):
        client.post(url, _form(lucia, alex, monday, plan, action="preview"))


def test_recurring_preview_reads_the_practitioners_and_rooms_once(
    client_for, front_desk, lucia, alex, plan, monday, room
):
    """The practitioner and room selects check the posted values against the records
    they list (ListedModelChoiceField): one read each for the check and the select."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client_for(front_desk).post(
            reverse("scheduling:recurring"),
            _form(lucia, alex, monday, plan, room=room.pk, action="preview"),
        )
    html = response.content.decode()
    assert f'<option value="{alex.pk}" selected>' in html
    assert f'<option value="{room.pk}" selected>' in html
    for table in ("clinic_practitioner", "clinic_room"):
        reads = [q for q in captured.captured_queries if f'FROM "{table}"' in q["sql"]]
        assert len(reads) == 1, table
