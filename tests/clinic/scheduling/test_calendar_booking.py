"""Book from the calendar (issue 13, item 1): every free slot of the day and week views
links to the booking form, prefilled with practitioner, start and the follow-up length."""

import datetime as dt
import html as htmllib
import re

import pytest
from django.urls import reverse

from clinic.models import TimeOff, WorkingHours
from tests.clinic.scheduling.conftest import at, give_hours
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alex(practitioner):
    practitioner.display_name = "Alex Rivera"
    practitioner.save()
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    give_hours(practitioner, "09:00", "12:00", weekdays=range(5))
    return practitioner


def _free_links(page: str) -> dict[str, str]:
    """aria-label -> href of every free-slot link."""
    return {
        htmllib.unescape(label): htmllib.unescape(href)
        for href, label in re.findall(
            r'<a role="listitem" class="cal-free" href="([^"]+)"[^>]*?aria-label="([^"]+)"',
            page,
            flags=re.S,
        )
    }


def test_day_view_links_every_free_slot_to_a_prefilled_booking(
    client_for, front_desk, alex, patient, monday
):
    AppointmentFactory(practitioner=alex, starts_at=at(monday, "10:00"))  # 10:00–10:30
    AppointmentFactory(
        practitioner=alex, starts_at=at(monday, "11:00"), status="no_show"
    )  # frees its slot
    TimeOff.objects.create(
        practitioner=alex, starts_at=at(monday, "11:30"), ends_at=at(monday, "12:00")
    )
    page = (
        client_for(front_desk)
        .get(reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"})
        .content.decode()
    )
    links = _free_links(page)
    assert sorted(links) == [
        f"Book {hhmm} with Alex Rivera" for hhmm in ("09:00", "09:30", "10:30", "11:00")
    ]
    href = links["Book 10:30 with Alex Rivera"]
    assert href == (
        f"{reverse('scheduling:book')}?practitioner={alex.pk}&date={monday:%Y-%m-%d}"
        "&time=10:30&duration=30&kind=follow_up"
    )
    # The link opens the booking form with everything but the patient filled in.
    form = client_for(front_desk).get(href).context["form"]
    assert form.initial["practitioner"] == alex.pk
    assert form.initial["date"] == monday
    assert form.initial["time"] == "10:30"
    assert form.initial["duration"] == 30
    assert "patient" not in form.initial


def test_free_slots_follow_straight_after_a_visit_off_the_half_hour(
    client_for, front_desk, alex, monday
):
    AppointmentFactory(
        practitioner=alex, starts_at=at(monday, "09:00"), ends_at=at(monday, "09:45")
    )
    page = (
        client_for(front_desk)
        .get(reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"})
        .content.decode()
    )
    labels = sorted(_free_links(page))
    assert labels[0] == "Book 09:45 with Alex Rivera"
    assert "Book 10:15 with Alex Rivera" in labels


def test_week_view_names_the_day_of_each_free_slot(client_for, front_desk, alex, monday):
    page = (
        client_for(front_desk)
        .get(reverse("scheduling:week", args=[alex.pk]), {"date": f"{monday:%Y-%m-%d}"})
        .content.decode()
    )
    links = _free_links(page)
    assert f"Book {monday:%a} {monday.day} {monday:%b} 09:00 with Alex Rivera" in links
    assert len(links) == 5 * 6  # Monday to Friday, six half hours each


def test_no_free_slot_links_in_the_past(client_for, front_desk, alex, monday):
    last_week = monday - dt.timedelta(days=7)
    page = (
        client_for(front_desk)
        .get(reverse("scheduling:day"), {"date": f"{last_week:%Y-%m-%d}"})
        .content.decode()
    )
    assert _free_links(page) == {}


@pytest.mark.parametrize("role", ["therapist", "manager"])
def test_roles_that_do_not_book_see_no_free_slot_links(request, client_for, alex, monday, role):
    user = request.getfixturevalue(role)
    for url in (reverse("scheduling:day"), reverse("scheduling:week", args=[alex.pk])):
        response = client_for(user).get(url, {"date": f"{monday:%Y-%m-%d}"})
        if response.status_code == 200:
            assert _free_links(response.content.decode()) == {}
        else:
            assert response.status_code == 403


def test_anonymous_calendar_goes_to_sign_in(client_for, alex, monday):
    response = client_for(None).get(reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"})
    assert response.status_code == 302 and "login" in response["Location"]


def test_short_visits_use_the_compact_layout(client_for, front_desk, alex, monday):
    AppointmentFactory(practitioner=alex, starts_at=at(monday, "09:00"))  # 30 minutes
    AppointmentFactory(
        practitioner=alex, starts_at=at(monday, "10:00"), ends_at=at(monday, "11:00")
    )
    grid = (
        client_for(front_desk)
        .get(reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"})
        .context["grid"]
    )
    (column,) = grid.columns
    assert [b.compact for b in column.visits] == [True, False]


# Reschedule: free times around the current one -----------------------------------------


def test_reschedule_offers_free_times_around_the_visit_and_moves_in_one_click(
    client_for, front_desk, alex, patient, monday
):
    visit = AppointmentFactory(practitioner=alex, patient=patient, starts_at=at(monday, "10:00"))
    AppointmentFactory(practitioner=alex, starts_at=at(monday, "11:00"))  # someone else
    # The patient is with someone else on Tuesday at 09:00.
    AppointmentFactory(patient=patient, starts_at=at(monday + dt.timedelta(days=1), "09:00"))
    client = client_for(front_desk)
    url = reverse("scheduling:reschedule", args=[visit.pk])
    response = client.get(url)
    choices = response.context["choices"]
    same_day = choices[0]
    assert same_day.day == monday
    # 15-minute steps; its own time is not a choice, the 11:00 visit blocks 10:45–11:15.
    assert same_day.starts == [
        at(monday, hhmm) for hhmm in ("09:15", "09:30", "09:45", "10:15", "10:30", "11:30")
    ]
    tuesday = choices[1]
    assert tuesday.day == monday + dt.timedelta(days=1)
    assert at(tuesday.day, "09:00") not in tuesday.starts  # the patient is busy then
    assert [c.day for c in choices[1:]] == [monday + dt.timedelta(days=d) for d in (1, 2, 3)]
    page = response.content.decode()
    assert f'aria-label="Move to {monday:%A} {monday.day} {monday:%B} at 10:30"' in page
    # One click: the button's form posts the time, the practitioner, the room and length.
    form = re.search(
        r'<form method="post" class="d-inline">(.*?)</form>',
        page[page.index("10:30") - 900 :],
        re.S,
    )
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))
    moved = client.post(url, fields)
    assert moved.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "cancelled" and visit.rescheduled_to.starts_at == at(monday, "10:30")


def test_reschedule_offers_no_choices_for_a_visit_that_cannot_move(
    client_for, front_desk, alex, patient, monday
):
    visit = AppointmentFactory(
        practitioner=alex, patient=patient, starts_at=at(monday, "10:00"), status="cancelled"
    )
    response = client_for(front_desk).get(reverse("scheduling:reschedule", args=[visit.pk]))
    assert response.context["choices"] == []


def test_reschedule_page_query_count_does_not_grow(
    client_for, front_desk, alex, patient, monday, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    visit = AppointmentFactory(practitioner=alex, patient=patient, starts_at=at(monday, "10:00"))
    client = client_for(front_desk)
    url = reverse("scheduling:reschedule", args=[visit.pk])
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    for day in range(5):
        AppointmentFactory(
            practitioner=alex, starts_at=at(monday + dt.timedelta(days=day), "11:00")
        )
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)
