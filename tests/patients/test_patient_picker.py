"""The patient picker: the type-ahead search (patients:search), the field that posts one
id, and the registry's pick mode that replaces it without JavaScript."""

import json
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AssessmentFactory,
    PainReportFactory,
    PatientFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SEARCH = "patients:search"


def _search(client, q):
    response = client.get(reverse(SEARCH), {"q": q})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


@pytest.mark.parametrize("role", ["therapist", "front_desk", "manager"])
def test_every_role_that_sees_the_registry_may_search(client_for, role_users, role):
    PatientFactory(first_name="Lucía", last_name="Núñez")
    data = _search(client_for(role_users[role]), "lucia")
    assert [r["name"] for r in data["results"]] == ["Lucía Núñez"]


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse(SEARCH), {"q": "ada"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_without_a_role_are_refused(client):
    client.force_login(UserFactory())
    assert client.get(reverse(SEARCH), {"q": "ada"}).status_code == 403


def test_search_by_name_date_of_birth_and_phone(client_for, front_desk):
    import datetime as dt

    ada = PatientFactory(
        first_name="Ada",
        last_name="Lovelace",
        date_of_birth=dt.date(1960, 12, 10),
        phone="+15550101234",
    )
    PatientFactory(first_name="Grace", last_name="Hopper", date_of_birth=dt.date(1956, 12, 9))
    client = client_for(front_desk)
    for query in ["love", "ada lov", "1960-12-10", "555 0101 234", "0101234"]:
        assert [r["id"] for r in _search(client, query)["results"]] == [ada.pk], query


def test_search_lists_current_patients_only_and_at_most_ten(client_for, front_desk):
    for i in range(12):
        PatientFactory(first_name=f"Pat{i:02d}", last_name="Garcia")
    PatientFactory(first_name="Old", last_name="Garcia", archived_at=timezone.now())
    data = _search(client_for(front_desk), "garcia")
    assert len(data["results"]) == 10
    assert data["more"] is True
    assert all("Old" not in r["name"] for r in data["results"])
    assert _search(client_for(front_desk), "old garcia") == {"results": [], "more": False}


def test_a_one_letter_query_returns_nothing(client_for, front_desk):
    PatientFactory(first_name="Ada", last_name="Lovelace")
    assert _search(client_for(front_desk), "a") == {"results": [], "more": False}
    assert _search(client_for(front_desk), "") == {"results": [], "more": False}


def test_results_carry_demographics_and_nothing_clinical(client_for, therapist):
    patient = PatientFactory(first_name="Ada", last_name="Lovelace")
    AssessmentFactory(patient=patient, clinical_impression="Medial knee osteoarthritis")
    PainReportFactory(patient=patient, score=7)
    body = client_for(therapist).get(reverse(SEARCH), {"q": "ada"}).content.decode()
    (result,) = json.loads(body)["results"]
    assert set(result) == {"id", "label", "name", "date_of_birth", "phone"}
    for clinical in ["osteoarthritis", "knee", "pain", "score", patient.email]:
        assert clinical not in body.lower()


def test_search_query_count_is_constant(client_for, front_desk, django_assert_num_queries):
    client = client_for(front_desk)
    PatientFactory(first_name="Ada", last_name="Smith")
    # session, user, user permissions, group permissions, the search.
    with django_assert_num_queries(5):
        client.get(reverse(SEARCH), {"q": "smith"})
    PatientFactory.create_batch(30, last_name="Smith")
    with django_assert_num_queries(5):
        client.get(reverse(SEARCH), {"q": "smith"})


def test_hostile_queries_get_an_empty_answer_not_a_500(client_for, front_desk):
    client = client_for(front_desk)
    for query in ["%", "_", "' or 1=1 --", "x" * 5000, "\x00ab", "9" * 400, "31/02/2020"]:
        response = client.get(reverse(SEARCH), {"q": query})
        assert response.status_code == 200, query


# The registry in pick mode (the picker without JavaScript) ----------------------------


def test_registry_in_pick_mode_offers_book_links_back_to_the_form(client_for, front_desk):
    ada = PatientFactory(first_name="Ada", last_name="Lovelace")
    gone = PatientFactory(first_name="Ada", last_name="Gone", archived_at=timezone.now())
    back = "/schedule/book/?practitioner=3&date=2030-01-07"
    response = client_for(front_desk).get(
        reverse("patients:list"), {"q": "ada", "archived": "on", "pick": back}
    )
    html = response.content.decode()
    assert f'href="/schedule/book/?practitioner=3&amp;date=2030-01-07&amp;patient={ada.pk}"' in html
    assert f'data-pick="{gone.pk}"' not in html  # archived: listed, not bookable
    assert 'name="pick" value="/schedule/book/?practitioner=3&amp;date=2030-01-07"' in html


@pytest.mark.parametrize(
    "pick", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x", "x"]
)
def test_registry_ignores_a_pick_address_off_the_site(client_for, front_desk, pick):
    ada = PatientFactory(first_name="Ada", last_name="Lovelace")
    html = client_for(front_desk).get(reverse("patients:list"), {"pick": pick}).content.decode()
    assert f'data-pick="{ada.pk}"' not in html
    assert "evil.example" not in html


def test_registry_without_pick_has_no_book_links(client_for, front_desk):
    ada = PatientFactory(first_name="Ada", last_name="Lovelace")
    html = client_for(front_desk).get(reverse("patients:list")).content.decode()
    assert f'data-pick="{ada.pk}"' not in html


def test_the_picker_links_to_the_registry_in_pick_mode(client_for, front_desk):
    query = urlencode({"practitioner": 3, "date": "2030-01-07"})
    html = client_for(front_desk).get(f"{reverse('scheduling:book')}?{query}").content.decode()
    pick = urlencode({"pick": f"/schedule/book/?{query}"})
    assert f'href="{reverse("patients:list")}?{pick.replace("&", "&amp;")}"' in html
