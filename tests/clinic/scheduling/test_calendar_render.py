"""The calendar grid's render cost per block (issue 11): a block's markup comes from
strings the selector built once, with no URL reversing per block."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.urls import reverse
from django.urls.resolvers import URLResolver

from clinic.models import AppointmentStatus, WorkingHours
from tests.clinic.scheduling.conftest import at, give_hours
from tests.factories import AppointmentFactory, PatientFactory

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
