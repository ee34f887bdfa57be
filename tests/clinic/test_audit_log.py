import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic import services
from clinic.models import AuditEvent
from tests.factories import PatientFactory, TherapistFactory

pytestmark = pytest.mark.django_db


def _event(actor, action="view", patient=None, days_ago=0, detail=""):
    event = services.audit_event_record(actor=actor, action=action, patient=patient, detail=detail)
    if days_ago:
        AuditEvent.objects.filter(pk=event.pk).update(
            at=timezone.now() - dt.timedelta(days=days_ago)
        )
    return event


@pytest.mark.parametrize(
    ("role", "status"), [("manager", 200), ("therapist", 403), ("front_desk", 403)]
)
@pytest.mark.parametrize("name", ["audit:log", "audit:export"])
def test_only_managers_open_the_audit_log_and_export(client_for, role_users, role, status, name):
    response = client_for(role_users[role]).get(reverse(name))
    assert response.status_code == status


@pytest.mark.parametrize("name", ["audit:log", "audit:export"])
def test_anonymous_visitors_go_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_export_needs_its_own_permission(client_for, manager):
    from django.contrib.auth.models import Permission

    viewer = TherapistFactory()
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_auditevent", content_type__app_label="clinic")
    )
    client = client_for(viewer)
    assert client.get(reverse("audit:log")).status_code == 200
    assert client.get(reverse("audit:export")).status_code == 403
    assert "Export CSV" not in client.get(reverse("audit:log")).content.decode()


@pytest.fixture
def history(therapist):
    ada = PatientFactory(first_name="Ada", last_name="Núñez", search_name="ada nunez")
    bob = PatientFactory(first_name="Bob", last_name="Stone", search_name="bob stone")
    other = TherapistFactory()
    return {
        "ada": ada,
        "bob": bob,
        "other": other,
        "ada_today": _event(therapist, "view", ada),
        "ada_old": _event(therapist, "sign", ada, days_ago=10),
        "bob_other": _event(other, "amend", bob, days_ago=3),
    }


def _ids(response):
    return {event.pk for event in response.context["page"].object_list}


def test_filters_by_patient_user_action_and_date_range(client_for, manager, therapist, history):
    client = client_for(manager)
    url = reverse("audit:log")
    h = history
    assert _ids(client.get(url, {"patient": h["ada"].pk})) == {h["ada_today"].pk, h["ada_old"].pk}
    assert _ids(client.get(url, {"patient_name": "nunez"})) == {h["ada_today"].pk, h["ada_old"].pk}
    assert _ids(client.get(url, {"user": h["other"].pk})) == {h["bob_other"].pk}
    assert _ids(client.get(url, {"action": "sign"})) == {h["ada_old"].pk}
    today = timezone.localdate()
    window = {
        "date_from": (today - dt.timedelta(days=5)).isoformat(),
        "date_to": (today - dt.timedelta(days=1)).isoformat(),
    }
    assert _ids(client.get(url, window)) == {h["bob_other"].pk}
    assert _ids(client.get(url, {"date_to": today.isoformat(), "user": therapist.pk})) == {
        h["ada_today"].pk,
        h["ada_old"].pk,
    }


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2026-02-30"},
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        {"user": "999999"},
        {"user": "abc"},
        {"patient": "-4"},
        {"action": "delete"},
        {"patient_name": "x" * 1000},
    ],
)
def test_bad_filters_get_a_form_error_not_a_500(client_for, manager, history, params):
    response = client_for(manager).get(reverse("audit:log"), params)
    assert response.status_code == 200
    assert response.context["form"].errors
    export = client_for(manager).get(reverse("audit:export"), params)
    assert export.status_code == 400
    assert not AuditEvent.objects.filter(action="export").exists()


def test_export_is_csv_of_the_filtered_events_and_is_itself_audited(client_for, manager, history):
    response = client_for(manager).get(reverse("audit:export"), {"patient": history["ada"].pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["at", "user", "action"]
    # The export event itself (recorded before the rows are read) and Ada's two events.
    assert [row[2] for row in rows[1:]] == ["export", "view", "sign"]
    assert {row[4] for row in rows[1:]} == {"Ada Núñez"}
    export = AuditEvent.objects.get(action="export")
    assert export.actor == manager and export.patient == history["ada"]
    assert f"patient_id={history['ada'].pk}" in export.detail


def test_export_cells_cannot_run_as_spreadsheet_formulas(client_for, manager, therapist):
    _event(therapist, "view", detail='=HYPERLINK("http://evil")')
    response = client_for(manager).get(reverse("audit:export"))
    body = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK" in body


def _log_queries(client, django_assert_num_queries):
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 count of events,
    # 6 the user's groups (nav role flags), 7 the page of events with actor and patient,
    # 8 the staff choices of the filter form.
    with django_assert_num_queries(8):
        response = client.get(reverse("audit:log"))
    assert response.status_code == 200
    return response


def test_audit_log_query_count_does_not_grow_with_events(
    client_for, manager, therapist, django_assert_num_queries
):
    client = client_for(manager)
    patient = PatientFactory()
    _event(therapist, "view", patient)
    first = _log_queries(client, django_assert_num_queries)
    for n in range(70):
        _event(TherapistFactory() if n % 10 == 0 else therapist, "view", PatientFactory())
    more = _log_queries(client, django_assert_num_queries)
    assert len(first.context["page"].object_list) < len(more.context["page"].object_list) == 50


def test_the_log_is_paginated(client_for, manager, therapist):
    for _ in range(55):
        _event(therapist, "view")
    client = client_for(manager)
    page2 = client.get(reverse("audit:log"), {"action": "view", "page": 2})
    assert len(page2.context["page"].object_list) == 5
    assert "action=view&amp;page=1" in page2.content.decode()


def test_navigation_shows_audit_log_only_to_managers(client_for, role_users):
    for role, shown in (("manager", True), ("therapist", False), ("front_desk", False)):
        html = client_for(role_users[role]).get(reverse("today")).content.decode()
        assert ('data-nav="audit"' in html) is shown, role
        assert 'data-nav="patients"' in html, role
