import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients import services
from patients.models import Patient
from tests.factories import AssessmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


def _patient_post(**overrides):
    data = {
        "first_name": "Lucía",
        "last_name": "Fernández",
        "date_of_birth": "1985-04-12",
        "email": "lucia@example.com",
        "phone": "(555) 010-3344",
        "preferred_language": "es",
        "timezone": "America/New_York",
        "reminders_opt_in": "on",
    }
    data.update(overrides)
    return data


def test_front_desk_registers_a_patient(client_for, front_desk):
    response = client_for(front_desk).post(reverse("patients:create"), _patient_post())
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert patient.search_name == "lucia fernandez"
    assert patient.phone == "5550103344"
    assert patient.reminders_opt_in is True
    assert patient.created_by == front_desk


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "lucia-at-example", "valid email"),
        ("date_of_birth", "2100-01-01", "cannot be in the future"),
        ("date_of_birth", "1901-01-01", "120 or older"),
        ("date_of_birth", "1985-02-30", "valid date"),
        ("date_of_birth", "yesterday", "valid date"),
        ("phone", "call me maybe", "digits"),
        ("phone", "123", "7 to 15 digits"),
        ("timezone", "Mars/Olympus_Mons", "valid choice"),
        ("preferred_language", "fr", "valid choice"),
        ("first_name", "x" * 1_000_000, "at most 100 characters"),
        ("first_name", "   ", "required"),
    ],
)
def test_bad_registry_input_gets_a_form_error_and_saves_nothing(
    client_for, front_desk, field, value, message
):
    response = client_for(front_desk).post(
        reverse("patients:create"), _patient_post(**{field: value})
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors.get(field, []))
    assert Patient.objects.count() == 0


def test_a_duplicate_name_and_birth_date_warns_and_saves_only_when_confirmed(client_for, therapist):
    existing = services.patient_create(
        first_name="Lucia", last_name="FERNANDEZ", date_of_birth=dt.date(1985, 4, 12)
    )
    client = client_for(therapist)
    response = client.post(reverse("patients:create"), _patient_post())
    assert response.status_code == 200
    assert response.context["duplicates"] == [existing]
    assert "may be a patient already registered" in response.content.decode()
    assert Patient.objects.count() == 1

    response = client.post(reverse("patients:create"), _patient_post(confirm_duplicate="yes"))
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_editing_a_patient_updates_demographics_and_is_audited(client_for, front_desk):
    patient = services.patient_create(
        first_name="Ana", last_name="Lopez", date_of_birth=dt.date(1970, 1, 1)
    )
    response = client_for(front_desk).post(
        reverse("patients:edit", args=[patient.pk]),
        _patient_post(first_name="Ana María", last_name="López", date_of_birth="1970-01-01"),
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.full_name == "Ana María López"
    assert patient.search_name == "ana maria lopez"
    assert AuditEvent.objects.filter(action="update", patient=patient, actor=front_desk).exists()


def test_bad_input_on_edit_changes_nothing(client_for, front_desk):
    patient = PatientFactory(email="keep@example.com")
    response = client_for(front_desk).post(
        reverse("patients:edit", args=[patient.pk]), _patient_post(email="broken@")
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.email == "keep@example.com"


def test_archive_is_a_post_and_restore_brings_the_patient_back(client_for, front_desk):
    patient = PatientFactory(first_name="Archie")
    client = client_for(front_desk)
    url = reverse("patients:archive", args=[patient.pk])
    assert client.get(url).status_code == 200
    patient.refresh_from_db()
    assert not patient.is_archived  # a GET only asks
    client.post(url)
    patient.refresh_from_db()
    assert patient.is_archived
    assert Patient.objects.filter(pk=patient.pk).exists()  # never deleted
    listing = client.get(reverse("patients:list"))
    assert patient not in listing.context["page"].object_list
    archived = client.get(reverse("patients:list") + "?archived=on")
    assert patient in archived.context["page"].object_list
    client.post(url, {"action": "restore"})
    patient.refresh_from_db()
    assert not patient.is_archived


def test_list_searches_accent_insensitively(client_for, front_desk):
    services.patient_create(first_name="José", last_name="Núñez", date_of_birth=dt.date(1960, 1, 1))
    services.patient_create(first_name="Mary", last_name="Jones", date_of_birth=dt.date(1960, 1, 1))
    response = client_for(front_desk).get(reverse("patients:list"), {"q": "jose nunez"})
    names = [p.full_name for p in response.context["page"].object_list]
    assert names == ["José Núñez"]


def test_list_is_paginated_and_keeps_the_search_in_page_links(client_for, front_desk):
    for n in range(30):
        PatientFactory(
            first_name=f"Page{n:02d}", last_name="Tester", search_name=f"page{n:02d} tester"
        )
    client = client_for(front_desk)
    first = client.get(reverse("patients:list"), {"q": "tester"})
    assert len(first.context["page"].object_list) == 25
    assert "q=tester&amp;page=2" in first.content.decode()
    second = client.get(reverse("patients:list"), {"q": "tester", "page": "2"})
    assert len(second.context["page"].object_list) == 5
    # A nonsense page number shows a page, never a 500.
    assert client.get(reverse("patients:list"), {"page": "abc"}).status_code == 200
    assert client.get(reverse("patients:list"), {"page": "9999"}).status_code == 200


def test_the_list_has_next_and_previous_links_and_no_total(client_for, front_desk):
    for n in range(26):
        PatientFactory(
            first_name=f"Next{n:02d}", last_name="Pager", search_name=f"next{n:02d} pager"
        )
    client = client_for(front_desk)
    first = client.get(reverse("patients:list"), {"q": "pager"}).content.decode()
    assert "Page 1</span>" in first and " of " not in first.split("Page 1")[1][:10]
    assert "q=pager&amp;page=2" in first
    second = client.get(reverse("patients:list"), {"q": "pager", "page": "2"})
    assert [p.first_name for p in second.context["page"].object_list] == ["Next25"]
    html = second.content.decode()
    assert "q=pager&amp;page=1" in html  # Previous
    assert "page=3" not in html  # no Next after the last row
    beyond = client.get(reverse("patients:list"), {"q": "pager", "page": "5"}).content.decode()
    assert "back to the first page" in beyond


def test_search_with_a_bad_date_is_a_form_error_not_a_500(client_for, front_desk):
    response = client_for(front_desk).get(reverse("patients:list"), {"date_of_birth": "31/31/31"})
    assert response.status_code == 200
    assert response.context["form"].errors["date_of_birth"]


def test_search_results_show_no_clinical_content(client_for, therapist, front_desk):
    patient = PatientFactory(first_name="Quinn")
    AssessmentFactory(patient=patient, therapist=therapist, suspected_causes=["tendinitis"])
    html = client_for(front_desk).get(reverse("patients:list"), {"q": "quinn"}).content.decode()
    assert "Quinn" in html
    assert "Tendinitis" not in html and "Pain" not in html


def _list_queries(client, django_assert_num_queries):
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 the page of patients
    # (one row more than shown: no count of the matches). (The navigation checks
    # permissions: no query for the user's groups.)
    with django_assert_num_queries(5):
        response = client.get(reverse("patients:list"), {"q": "a"})
    assert response.status_code == 200
    return response


def test_patient_list_query_count_does_not_grow_with_patients(
    client_for, front_desk, django_assert_num_queries
):
    client = client_for(front_desk)
    PatientFactory.create_batch(3, first_name="Ada", search_name="ada x")
    assert len(_list_queries(client, django_assert_num_queries).context["page"].object_list) == 3
    PatientFactory.create_batch(40, first_name="Ada", search_name="ada x")
    assert len(_list_queries(client, django_assert_num_queries).context["page"].object_list) == 25


def test_registering_an_archived_patient_duplicate_still_warns(client_for, front_desk):
    existing = services.patient_create(
        first_name="Lucía", last_name="Fernández", date_of_birth=dt.date(1985, 4, 12)
    )
    services.patient_archive(patient=existing)
    response = client_for(front_desk).post(reverse("patients:create"), _patient_post())
    assert response.context["duplicates"] == [existing]
    assert Patient.objects.count() == 1


def test_the_registry_keeps_time_zone_choices_to_iana_names(client_for, front_desk):
    response = client_for(front_desk).get(reverse("patients:create"))
    choices = dict(response.context["form"].fields["timezone"].choices)
    assert "America/New_York" in choices and "Europe/Madrid" in choices
    assert response.context["form"]["timezone"].value() == timezone.get_default_timezone_name()


def test_editing_other_details_of_a_known_duplicate_does_not_warn_again(client_for, front_desk):
    dob = dt.date(1985, 4, 12)
    first = services.patient_create(first_name="Lucía", last_name="Fernández", date_of_birth=dob)
    services.patient_create(first_name="Lucía", last_name="Fernández", date_of_birth=dob)
    client = client_for(front_desk)
    url = reverse("patients:edit", args=[first.pk])
    response = client.post(url, _patient_post(email="new@example.com"))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.email == "new@example.com"


def test_renaming_into_a_duplicate_warns(client_for, front_desk):
    dob = dt.date(1985, 4, 12)
    services.patient_create(first_name="Lucía", last_name="Fernández", date_of_birth=dob)
    other = services.patient_create(first_name="Lucy", last_name="Fernández", date_of_birth=dob)
    response = client_for(front_desk).post(
        reverse("patients:edit", args=[other.pk]), _patient_post()
    )
    assert response.status_code == 200
    assert response.context["duplicates"]
    other.refresh_from_db()
    assert other.first_name == "Lucy"


def test_a_search_sorts_the_same_whichever_index_reads_it():
    """Words of three letters or more are read from the trigram index and sorted by an
    expression (patients/selectors.py); the order is the registry's usual one."""
    from patients.selectors import patient_search

    for first, last in [
        ("Zoe", "Garza"),
        ("Ana", "García"),
        ("ana", "Garcia"),
        ("Luis", "Ágar"),
        ("Bea", "Garces"),
    ]:
        PatientFactory(first_name=first, last_name=last, search_name=f"{first} {last}".lower())
    plain = list(patient_search(query="ga").values_list("id", flat=True))
    trigram = list(patient_search(query="gar").values_list("id", flat=True))
    assert trigram == [pk for pk in plain if pk in set(trigram)]
    assert len(trigram) == 5


# The included row the registry's rows replaced (patients/views.registry_rows_html).
REGISTRY_ROW = """{% for patient in patients %}<tr data-patient="{{ patient.pk }}"{% if patient.is_archived %} class="text-muted"{% endif %}>
  <td><a href="{% url 'patients:detail' patient.pk %}">{{ patient.last_name }}, {{ patient.first_name }}</a>{% if patient.is_archived %} <span class="badge text-bg-secondary">Archived</span>{% endif %}</td>
  <td>{{ patient.date_of_birth|date:"j M Y" }}</td>
  <td>{{ patient.phone|default:"—" }}</td>
  <td>{{ patient.email|default:"—" }}</td>
  <td>{{ patient.get_preferred_language_display }}</td>
  {% if pick_base %}<td>{% if not patient.is_archived %}<a class="btn btn-sm btn-primary" href="{{ pick_base }}{{ patient.pk }}" aria-label="Book {{ patient.full_name }}" data-pick="{{ patient.pk }}">Book</a>{% endif %}</td>{% endif %}
</tr>
{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("pick_base", ["", '/schedule/book/?kind=a&b="c"&patient='])
def test_the_registry_rows_say_what_the_included_row_said(pick_base):
    from patients.views import registry_rows_html
    from tests.markup import assert_same_markup

    PatientFactory(first_name="<b>Ana</b>", last_name="O'Brien & Co", phone="", email="")
    PatientFactory(first_name="José", last_name="Núñez", preferred_language="es")
    archived = PatientFactory(first_name="Old", last_name="Record")
    archived.archived_at = timezone.now()
    archived.save(update_fields=["archived_at"])
    patients = list(Patient.objects.order_by("last_name", "first_name", "id"))
    assert_same_markup(
        REGISTRY_ROW,
        {"patients": patients, "pick_base": pick_base},
        registry_rows_html(patients, pick_base),
    )
