"""The calendar grid's render cost per block (issue 11): a block's markup comes from
strings the selector built once, with no URL reversing per block."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.urls import reverse
from django.urls.resolvers import URLResolver
from django.utils import timezone

from clinic.models import Appointment, AppointmentStatus, WorkingHours
from patients.models import Patient
from tests.clinic.scheduling.conftest import at, give_hours, next_fall_back
from tests.factories import AppointmentFactory, PatientFactory
from tests.instances import instances_built

pytestmark = pytest.mark.django_db


@pytest.fixture
def alex(practitioner):
    practitioner.display_name = "Alex Rivera"
    practitioner.save()
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    give_hours(practitioner, "09:00", "17:00", weekdays=range(5))
    return practitioner


_real = URLResolver._reverse_with_prefix


def _reverses(client, url: str, day: dt.date) -> int:
    # Every reverse(), {% url %} included, ends in the resolver's _reverse_with_prefix.
    with mock.patch.object(
        URLResolver, "_reverse_with_prefix", autospec=True, side_effect=_real
    ) as spy:
        response = client.get(url, {"date": f"{day:%Y-%m-%d}"})
    assert response.status_code == 200
    return spy.call_count


@pytest.mark.parametrize("page", ["day", "week"])
def test_url_reversing_does_not_grow_with_the_visits_shown(
    client_for, therapist, alex, monday, page
):
    url = reverse("scheduling:day") if page == "day" else reverse("scheduling:week", args=[alex.pk])
    # A role that does not book: no free-slot links, whose number falls as visits come.
    client = client_for(therapist)
    AppointmentFactory(practitioner=alex, starts_at=at(monday, "09:00"))
    one = _reverses(client, url, monday)
    for hour in ("10:00", "11:00", "13:00", "14:00", "15:00"):
        AppointmentFactory(practitioner=alex, starts_at=at(monday, hour))
    assert _reverses(client, url, monday) == one


def test_visit_block_markup(client_for, front_desk, alex, room, monday):
    patient = PatientFactory(first_name="Zoë", last_name="O'Hara")
    visit = AppointmentFactory(
        practitioner=alex,
        patient=patient,
        room=room,
        starts_at=at(monday, "09:00"),
        ends_at=at(monday, "09:45"),
        status=AppointmentStatus.CHECKED_IN,
    )
    page = (
        client_for(front_desk)
        .get(reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"})
        .content.decode()
    )
    (anchor,) = re.findall(r'<a role="listitem" class="cal-visit[^>]*>.*?</a>', page, flags=re.S)
    href = reverse("scheduling:appointment", args=[visit.pk])
    assert f'class="cal-visit status-checked_in" href="{href}"' in anchor
    assert re.search(
        r'style="top: \d+\.\d{3}%; height: \d+\.\d{3}%; left: 0\.000%; '
        r'width: calc\(100\.000% - 2px\);"',
        anchor,
    )
    kind = visit.get_kind_display()
    assert f'title="09:00–09:45 Zoë O&#x27;Hara · {kind} · Checked in · Room A"' in anchor
    assert '<span class="cal-visit-time">09:00–09:45</span>' in anchor
    assert '<span class="cal-visit-name">Zoë O&#x27;Hara</span>' in anchor
    assert f'<span class="cal-visit-line">{kind} · Checked in · Room A</span>' in anchor


@pytest.mark.parametrize("page", ["day", "week"])
def test_no_model_instance_per_visit_shown(client_for, therapist, alex, monday, page):
    """Visits are read as plain values: the page builds no Appointment or Patient per
    visit (a day of a clinic group shows ~250)."""
    url = reverse("scheduling:day") if page == "day" else reverse("scheduling:week", args=[alex.pk])
    client = client_for(therapist)
    for hour in ("09:00", "10:00", "11:00", "13:00", "14:00", "15:00"):
        AppointmentFactory(practitioner=alex, starts_at=at(monday, hour))
    with instances_built(Appointment, Patient) as built:
        response = client.get(url, {"date": f"{monday:%Y-%m-%d}"})
    assert response.status_code == 200
    assert response.content.decode().count('<a role="listitem" class="cal-visit') == 6
    assert built == []


def test_overlapping_visits_side_by_side_compact_and_confirmed(client_for, therapist, alex, monday):
    """A no-show keeps its block next to the visit that took its slot; a visit of 30
    minutes shows its start only; a booked visit the patient confirmed says so."""
    no_show = AppointmentFactory(
        practitioner=alex,
        patient=PatientFactory(first_name="Noé", last_name="Díaz"),
        starts_at=at(monday, "09:00"),
        ends_at=at(monday, "09:45"),
        status=AppointmentStatus.NO_SHOW,
    )
    booked = AppointmentFactory(
        practitioner=alex,
        patient=PatientFactory(first_name="Ana", last_name="<b>Ruiz</b>"),
        starts_at=at(monday, "09:00"),
        ends_at=at(monday, "09:30"),
        confirmed_at=timezone.now(),
    )
    page = (
        client_for(therapist)
        .get(reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"})
        .content.decode()
    )
    anchors = re.findall(r'<a role="listitem" class="cal-visit[^>]*>.*?</a>', page, flags=re.S)
    # Time order, then booking order; the shorter visit takes the first lane.
    first, second = anchors
    kind = booked.get_kind_display()
    no_show_href = reverse("scheduling:appointment", args=[no_show.pk])
    assert f'class="cal-visit status-no_show" href="{no_show_href}"' in first
    assert "left: 50.000%; width: calc(50.000% - 2px);" in first
    assert '<span class="cal-visit-time">09:00–09:45</span>' in first
    assert '<span class="cal-visit-name">Noé Díaz</span>' in first
    booked_href = reverse("scheduling:appointment", args=[booked.pk])
    assert f'class="cal-visit status-booked is-compact" href="{booked_href}"' in second
    assert "left: 0.000%; width: calc(50.000% - 2px);" in second
    assert '<span class="cal-visit-time">09:00</span>' in second
    assert '<span class="cal-visit-name">Ana &lt;b&gt;Ruiz&lt;/b&gt;</span>' in second
    assert f'<span class="cal-visit-line">{kind} · Confirmed ✓</span>' in second
    assert f'title="09:00–09:30 Ana &lt;b&gt;Ruiz&lt;/b&gt; · {kind} · Confirmed ✓"' in second
    assert "<b>" not in page.split("cal-col", 1)[1]


@pytest.mark.parametrize("page", ["day", "week"])
def test_visits_show_their_local_times_on_the_day_the_clocks_go_back(
    client_for, therapist, alex, page
):
    """The grid reads starts and ends as instants and places them in the clinic's zone:
    on the fall-back day (25 hours), a visit after the change shows its wall-clock time,
    not the hour-off time a fixed offset from midnight would give."""
    day = next_fall_back()
    AppointmentFactory(practitioner=alex, starts_at=at(day, "09:00"), ends_at=at(day, "09:45"))
    AppointmentFactory(practitioner=alex, starts_at=at(day, "16:00"), ends_at=at(day, "16:30"))
    url = reverse("scheduling:day") if page == "day" else reverse("scheduling:week", args=[alex.pk])
    content = client_for(therapist).get(url, {"date": f"{day:%Y-%m-%d}"}).content.decode()
    assert '<span class="cal-visit-time">09:00–09:45</span>' in content
    assert '<span class="cal-visit-time">16:00</span>' in content
