"""Booking and recurring forms choose the patient with the picker: no page lists every
patient, the prefilled ?patient= shows the name with a way to change it, and a posted id
is checked with one row."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import Appointment
from tests.clinic.scheduling.conftest import at
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


def _booking(patient_id, practitioner, day, **extra):
    data = {
        "patient": patient_id,
        "practitioner": practitioner.pk,
        "kind": "follow_up",
        "date": f"{day:%Y-%m-%d}",
        "time": "10:00",
        "duration": "",
        "room": "",
    }
    data.update(extra)
    return data


def _recurring(patient_id, practitioner, monday, **extra):
    data = {
        "patient": patient_id,
        "practitioner": practitioner.pk,
        "kind": "follow_up",
        "first_date": f"{monday:%Y-%m-%d}",
        "time": "09:00",
        "weekdays": ["0", "3"],
        "weeks": "6",
        "duration": "",
        "room": "",
        "plan": "",
        "action": "preview",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize("url", ["scheduling:book", "scheduling:recurring"])
def test_forms_list_no_patients(client_for, front_desk, url):
    PatientFactory(first_name="Ada", last_name="Lovelace")
    html = client_for(front_desk).get(reverse(url)).content.decode()
    assert "Lovelace" not in html
    assert "<option" not in html.split('name="patient"')[1].split("</div></div>")[0]
    assert 'role="combobox"' in html and 'aria-controls="id_patient_list"' in html
    assert 'aria-live="polite"' in html
    assert "patients/patient_picker.js" in html
    assert f'data-search-url="{reverse("patients:search")}"' in html


@pytest.mark.parametrize("url", ["scheduling:book", "scheduling:recurring"])
def test_prefilled_patient_shows_the_name_and_a_change_link(client_for, front_desk, url):
    ada = PatientFactory(first_name="Ada", last_name="Lovelace")
    html = client_for(front_desk).get(reverse(url), {"patient": ada.pk}).content.decode()
    assert f'name="patient" id="id_patient" value="{ada.pk}"' in html
    assert "Lovelace, Ada" in html
    assert "Change patient" in html


def test_prefill_with_an_archived_or_unknown_patient_shows_the_search(client_for, front_desk):
    gone = PatientFactory(last_name="Gone", archived_at=timezone.now())
    client = client_for(front_desk)
    for value in [gone.pk, 999999, "abc", "9" * 30]:
        response = client.get(reverse("scheduling:book"), {"patient": value})
        html = response.content.decode()
        assert response.status_code == 200
        assert "Gone" not in html
        assert 'name="patient" id="id_patient" value=""' in html


def test_booking_with_the_posted_id_books_that_patient(
    client_for, front_desk, patient, practitioner, monday
):
    response = client_for(front_desk).post(
        reverse("scheduling:book"), _booking(patient.pk, practitioner, monday)
    )
    assert response.status_code == 302
    assert Appointment.objects.get().patient == patient


def test_no_javascript_flow_registry_book_link_then_form(
    client_for, front_desk, patient, practitioner, monday
):
    """The registry's "Book" link lands on the form with the patient filled in; posting
    that form books them."""
    client = client_for(front_desk)
    back = f"{reverse('scheduling:book')}?practitioner={practitioner.pk}"
    registry = client.get(reverse("patients:list"), {"q": "lovelace", "pick": back})
    link = f"{back}&patient={patient.pk}"
    assert f'href="{link.replace("&", "&amp;")}"' in registry.content.decode()
    form = client.get(link)
    assert form.context["form"].initial["patient"] == patient.pk
    assert "Lovelace, Ada" in form.content.decode()
    response = client.post(link, _booking(patient.pk, practitioner, monday))
    assert response.status_code == 302
    assert Appointment.objects.get().patient == patient


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Choose a patient"),
        ("999999", "could not be found"),
        ("abc", "could not be found"),
        ("-3", "could not be found"),
        ("0", "could not be found"),
        ("9" * 25, "could not be found"),
        ("1.5", "could not be found"),
    ],
)
def test_bad_patient_ids_get_a_form_error_not_a_500(
    client_for, front_desk, practitioner, monday, value, message
):
    response = client_for(front_desk).post(
        reverse("scheduling:book"), _booking(value, practitioner, monday)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("url", ["scheduling:book", "scheduling:recurring"])
def test_archived_patient_posted_gets_a_form_error(
    client_for, front_desk, practitioner, monday, url
):
    gone = PatientFactory(first_name="Old", last_name="Gone", archived_at=timezone.now())
    data = (_booking if url == "scheduling:book" else _recurring)(gone.pk, practitioner, monday)
    response = client_for(front_desk).post(reverse(url), data)
    assert response.status_code == 200
    assert "Old Gone&#x27;s record is archived" in response.content.decode()
    assert response.context.get("preview") is None
    assert not Appointment.objects.exists()


def _grow(practitioner, patients, visits, *, weeks_back=0):
    """More patients, and weekly visits in the past (the history the windows skip)."""
    PatientFactory.create_batch(patients)
    latest = timezone.now().replace(microsecond=0) - dt.timedelta(weeks=weeks_back, days=2)
    for i in range(visits):
        start = latest - dt.timedelta(days=i * 7, hours=i % 5)
        AppointmentFactory(practitioner=practitioner, starts_at=start, status="completed")


def _count(client, method, url, data):
    with CaptureQueriesContext(connection) as queries:
        response = method(url, data)
    assert response.status_code in (200, 302)
    return len(queries.captured_queries)


def test_book_get_and_post_query_counts_do_not_grow(
    client_for, front_desk, patient, practitioner, monday, django_assert_num_queries
):
    client = client_for(front_desk)
    url = reverse("scheduling:book")
    _grow(practitioner, 5, 5)
    # session, user, user permissions, group permissions, settings, the prefilled
    # patient, practitioners, rooms.
    with django_assert_num_queries(8):
        client.get(url, {"patient": patient.pk})
    first = _count(client, client.post, url, _booking(patient.pk, practitioner, monday))
    _grow(practitioner, 50, 50, weeks_back=10)
    with django_assert_num_queries(8):
        client.get(url, {"patient": patient.pk})
    later = _count(
        client, client.post, url, _booking(patient.pk, practitioner, monday, time="11:00")
    )
    assert later == first
    # session, user, user permissions, group permissions, settings, patient,
    # practitioner; the booking's transaction (a savepoint and its release inside the
    # test's, BEGIN and COMMIT when served) around the practitioner's lock, closures with
    # time off and hours (one query), the clashes, the insert in its savepoint (three),
    # the outbox's insert and its ids (no savepoint of its own) and the audit event.
    assert first == 18
    assert Appointment.objects.filter(starts_at__gt=timezone.now()).count() == 2


def test_recurring_preview_query_count_does_not_grow(
    client_for, front_desk, patient, practitioner, monday
):
    client = client_for(front_desk)
    url = reverse("scheduling:recurring")
    _grow(practitioner, 5, 5)
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "09:00"))
    first = _count(client, client.post, url, _recurring(patient.pk, practitioner, monday))
    _grow(practitioner, 50, 50, weeks_back=10)
    later = _count(client, client.post, url, _recurring(patient.pk, practitioner, monday))
    assert later == first
