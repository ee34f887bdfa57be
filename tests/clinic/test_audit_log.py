import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients.audit import audit_record
from tests.factories import PatientFactory, TherapistFactory

pytestmark = pytest.mark.django_db


def _event(actor, action="view", patient=None, days_ago=0, detail=""):
    event = audit_record(acting_user=actor, action=action, patient=patient, detail=detail)
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
    return {event.pk for event in response.context["page"].events}


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
    assert not AuditEvent.objects.filter(detail__contains="completed").exists()
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["at", "user", "action"]
    # The "started" event (recorded before the rows are read), Ada's two events, and
    # the trailer with the row count.
    assert [row[2] for row in rows[1:-1]] == ["export", "view", "sign"]
    assert {row[4] for row in rows[1:-1]} == {"Ada Núñez"}
    assert rows[-1] == ["# end of export", "3 rows"]
    started, completed = AuditEvent.objects.filter(action="export").order_by("id")
    for export in (started, completed):
        assert export.actor == manager and export.patient == history["ada"]
        assert f"patient_id={history['ada'].pk}" in export.detail
    assert started.detail.startswith("audit log CSV started: ")
    assert completed.detail.startswith("audit log CSV completed: 3 rows; ")


def test_export_of_the_whole_log_has_every_row_and_the_trailer(client_for, manager, therapist):
    from clinic.audit import views

    events = [_event(therapist, "view", PatientFactory()) for _ in range(7)]
    client = client_for(manager)
    before = AuditEvent.objects.count()  # the events, and the manager's sign-in
    views.EXPORT_BATCH, batch = 3, views.EXPORT_BATCH  # several writes to the response
    try:
        chunks = list(client.get(reverse("audit:export")).streaming_content)
    finally:
        views.EXPORT_BATCH = batch
    assert len(chunks) > 2
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    # Newest first: the "started" event, then every event before it.
    assert len(rows) == 1 + before + 1 + 1
    assert rows[-1] == ["# end of export", f"{before + 1} rows"]
    views_rows = [r for r in rows[1:-1] if r[2] == "view"]
    assert [int(r[3]) for r in views_rows] == [e.patient_id for e in reversed(events)]
    assert [r[4] for r in views_rows] == [e.patient.full_name for e in reversed(events)]
    assert [r[0] for r in views_rows] == [
        timezone.localtime(e.at).isoformat() for e in reversed(events)
    ]
    completed = AuditEvent.objects.get(action="export", detail__contains="completed")
    assert completed.detail == f"audit log CSV completed: {before + 1} rows; no filter"


def test_an_error_while_streaming_aborts_the_export_without_trailer_or_completion(
    client_for, manager, therapist, monkeypatch
):
    from clinic.audit import selectors as audit_selectors

    for _ in range(5):
        _event(therapist, "view")
    real = audit_selectors.audit_export_rows

    def failing_after_two_rows(**kwargs):
        for n, row in enumerate(real(**kwargs)):
            if n == 2:
                raise RuntimeError("connection to the database lost")
            yield row

    monkeypatch.setattr(audit_selectors, "audit_export_rows", failing_after_two_rows)
    response = client_for(manager).get(reverse("audit:export"))
    assert response.status_code == 200  # the headers went out before the rows
    received = []
    with pytest.raises(RuntimeError):
        for chunk in response.streaming_content:
            received.append(chunk)
    assert b"# end of export" not in b"".join(received)
    exports = AuditEvent.objects.filter(action="export")
    assert [e.detail for e in exports] == ["audit log CSV started: no filter"]


def test_export_cells_cannot_run_as_spreadsheet_formulas(client_for, manager, therapist):
    _event(therapist, "view", detail='=HYPERLINK("http://evil")')
    response = client_for(manager).get(reverse("audit:export"))
    body = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK" in body


def _log_queries(client, django_assert_num_queries, params=None):
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 the page of events
    # (51 rows, no count) with actor and patient, 6 the staff choices of the filter form.
    # (The navigation checks permissions: no query for the user's groups.)
    with django_assert_num_queries(6):
        response = client.get(reverse("audit:log"), params or {})
    assert response.status_code == 200
    return response


def test_audit_log_query_count_does_not_grow_with_events(
    client_for, manager, therapist, django_assert_num_queries
):
    client = client_for(manager)
    patient = PatientFactory()
    _event(therapist, "view", patient)
    first = _log_queries(client, django_assert_num_queries)
    for n in range(120):
        _event(TherapistFactory() if n % 10 == 0 else therapist, "view", PatientFactory())
    more = _log_queries(client, django_assert_num_queries)
    assert len(first.context["page"].events) < len(more.context["page"].events) == 50
    older = _log_queries(
        client, django_assert_num_queries, {"older": str(more.context["page"].older)}
    )
    assert len(older.context["page"].events) == 50
    newer = _log_queries(
        client, django_assert_num_queries, {"newer": str(older.context["page"].newer)}
    )
    assert _pk(newer.context["page"]) == _pk(more.context["page"])


def test_the_log_never_counts_the_table(client_for, manager, therapist):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        _event(therapist, "view")
    with CaptureQueriesContext(connection) as queries:
        client_for(manager).get(reverse("audit:log"), {"action": "view"})
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "COUNT(" not in sql and "OFFSET" not in sql


def _pk(page):
    return [event.pk for event in page.events]


def test_older_and_newer_links_walk_every_event_once(client_for, manager, therapist):
    # 60 events share one timestamp (an hour ago), so pages must break ties on the id.
    tied = [_event(therapist, "view") for _ in range(60)]
    AuditEvent.objects.filter(pk__in=[e.pk for e in tied]).update(
        at=timezone.now() - dt.timedelta(hours=1)
    )
    recent = [_event(therapist, "view") for _ in range(55)]
    expected = [e.pk for e in reversed(recent)] + sorted((e.pk for e in tied), reverse=True)
    client = client_for(manager)
    url = reverse("audit:log")
    response = client.get(url, {"action": "view"})
    page = response.context["page"]
    seen, pages = _pk(page), [page]
    assert page.newer is None
    while page.older:
        response = client.get(url, {"action": "view", "older": str(page.older)})
        page = response.context["page"]
        seen += _pk(page)
        pages.append(page)
    assert seen == expected
    assert [len(p.events) for p in pages] == [50, 50, 15]
    html = response.content.decode()
    assert "action=view&amp;newer=" in html and 'rel="next"' not in html
    # Back up: each "Newer" link shows the page that was shown before it.
    for previous in reversed(pages[:-1]):
        page = client.get(url, {"action": "view", "newer": str(page.newer)}).context["page"]
        assert _pk(page) == _pk(previous)
    assert page.newer is None


@pytest.mark.parametrize(
    "cursor", ["abc", "1-", "99999999999999999999-1", "5-0", "-1-1", "1-1" * 30, "1.5-2"]
)
@pytest.mark.parametrize("direction", ["older", "newer"])
def test_a_broken_page_link_shows_the_newest_events(
    client_for, manager, therapist, cursor, direction
):
    _event(therapist, "view", days_ago=2)
    newest = _event(therapist, "view")
    response = client_for(manager).get(reverse("audit:log"), {"action": "view", direction: cursor})
    assert response.status_code == 200
    assert _pk(response.context["page"]) == [newest.pk, newest.pk - 1]


def test_navigation_shows_audit_log_only_to_managers(client_for, role_users):
    for role, shown in (("manager", True), ("therapist", False), ("front_desk", False)):
        html = client_for(role_users[role]).get(reverse("today")).content.decode()
        assert ('data-nav="audit"' in html) is shown, role
        assert 'data-nav="patients"' in html, role


# Clinical free text stays out of the log for users without clinical permission.

OVERRIDE_REASON = "Fracture ruled out on CT 3 Nov; orthopaedics cleared thrust."


def _override_event(therapist):
    """An override written by the real service, as the plan form writes it."""
    from tests.treatments.helpers import signed_assessment, technique
    from treatments import services as treatment_services

    assessment = signed_assessment(precautions=["fracture"], therapist=therapist)
    treatment_services.treatment_plan_create(
        patient=assessment.patient,
        assessment=assessment,
        acting_user=therapist,
        goals="Walk a mile.",
        visits_per_week=2,
        weeks=6,
        start_date=timezone.localdate(),
        techniques=[
            {
                "technique": technique("hvla_thrust"),
                "grade": "V",
                "target": "Right ankle",
                "override_reason": OVERRIDE_REASON,
            }
        ],
    )
    return AuditEvent.objects.get(action="override")


def _amendment_events(therapist):
    """An assessment amendment and a visit-note amendment, through their services."""
    from patients import services as patient_services
    from tests.factories import AssessmentFactory
    from treatments import services as treatment_services

    assessment = AssessmentFactory(
        therapist=therapist, status="signed", signed_by=therapist, signed_at=timezone.now()
    )
    patient_services.assessment_amend(
        assessment=assessment,
        values={"clinical_impression": "Lateral meniscus tear suspected."},
        reason="Findings of the MRI.",
        acting_user=therapist,
    )
    note = treatment_services.visit_note_create(
        patient=assessment.patient,
        acting_user=therapist,
        visited_at=timezone.now(),
        subjective="Better.",
    )
    treatment_services.visit_note_sign(note=note, acting_user=therapist)
    treatment_services.visit_note_amend(
        note=note, acting_user=therapist, reason="Typo.", changes={"subjective": "Much better."}
    )
    return list(AuditEvent.objects.filter(action="amend"))


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_manager_sees_no_override_reason_on_the_log_or_in_the_csv(client_for, manager, therapist):
    event = _override_event(therapist)
    client = client_for(manager)
    page = client.get(reverse("audit:log")).content.decode()
    assert f'data-event="{event.pk}"' in page
    assert OVERRIDE_REASON not in page
    assert "planned despite" not in page and "Suspected or recent fracture" not in page
    rows = _csv(client.get(reverse("audit:export")))
    assert "clinical_detail" not in rows[0]
    body = "\n".join(",".join(row) for row in rows)
    assert OVERRIDE_REASON not in body and "planned despite" not in body
    # Who, what kind, which record, when and where are still there.
    row = next(r for r in rows[1:] if r[2] == "override")
    assert row[1] == therapist.username
    assert row[3] == str(event.patient_id)
    assert row[5:7] == ["treatments.plannedtechnique", event.object_id]


def test_manager_sees_no_amended_fields_on_the_log_or_in_the_csv(client_for, manager, therapist):
    events = _amendment_events(therapist)
    assert len(events) == 2
    client = client_for(manager)
    page = client.get(reverse("audit:log")).content.decode()
    body = b"".join(client.get(reverse("audit:export")).streaming_content).decode()
    for text in (page, body):
        assert "clinical_impression" not in text
        assert "subjective" not in text


def test_override_and_amendment_text_is_stored_as_clinical_detail(therapist):
    override = _override_event(therapist)
    assert override.detail == ""
    assert OVERRIDE_REASON in override.clinical_detail
    assert "Suspected or recent fracture" in override.clinical_detail
    amendments = {e.object_type: e for e in _amendment_events(therapist)}
    assert amendments["patients.assessment"].detail == ""
    assert "clinical_impression" in amendments["patients.assessment"].clinical_detail
    assert amendments["treatments.visitnote"].detail == ""
    assert "subjective" in amendments["treatments.visitnote"].clinical_detail


@pytest.mark.parametrize("action", ["override", "amend"])
def test_service_never_stores_override_or_amend_text_as_plain_detail(therapist, action):
    # A writer that forgets clinical_detail cannot put clinical text in front of the manager.
    event = audit_record(acting_user=therapist, action=action, detail="HVLA despite DVT")
    assert event.detail == ""
    assert event.clinical_detail == "HVLA despite DVT"


@pytest.fixture
def clinical_auditor(manager):
    """A manager who was also granted the clinical permission, one person's exception."""
    from django.contrib.auth.models import Permission

    manager.user_permissions.add(
        Permission.objects.get(codename="view_assessment", content_type__app_label="patients")
    )
    return manager


def test_user_with_clinical_permission_sees_clinical_detail_on_the_log_and_csv(
    client_for, clinical_auditor, therapist
):
    _override_event(therapist)
    client = client_for(clinical_auditor)
    page = client.get(reverse("audit:log")).content.decode()
    assert OVERRIDE_REASON in page
    response = client.get(reverse("audit:export"))
    rows = _csv(response)
    assert rows[0][-1] == "clinical_detail"
    row = next(r for r in rows[1:] if r[2] == "override")
    assert OVERRIDE_REASON in row[-1]
    assert rows[-1][0] == "# end of export"
    for export in AuditEvent.objects.filter(action="export"):
        assert export.detail.startswith("audit log CSV with clinical detail")


def test_no_role_both_reads_the_audit_log_and_holds_clinical_permission():
    # So the clinical column is, by default, never shown; granting it is a deliberate act.
    from clinic.roles import ROLE_PERMISSIONS

    for role, perms in ROLE_PERMISSIONS.items():
        assert not ("clinic.view_auditevent" in perms and "patients.view_assessment" in perms), role


def test_clinical_auditor_log_costs_no_extra_query(
    client_for, clinical_auditor, therapist, django_assert_num_queries
):
    _override_event(therapist)
    response = _log_queries(client_for(clinical_auditor), django_assert_num_queries)
    assert OVERRIDE_REASON in response.content.decode()


def test_migration_moves_old_override_and_amend_detail_to_clinical_detail(therapist):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("clinic.migrations.0008_move_clinical_audit_detail")
    old = {
        action: AuditEvent.objects.create(action=action, detail=f"old {action} text")
        for action in ("override", "amend", "view", "update")
    }
    AuditEvent.objects.filter(pk=old["view"].pk).update(detail="edit form")
    migration.move_clinical_detail(apps, None)
    for action in ("override", "amend"):
        old[action].refresh_from_db()
        assert old[action].detail == ""
        assert old[action].clinical_detail == f"old {action} text"
    old["view"].refresh_from_db()
    assert (old["view"].detail, old["view"].clinical_detail) == ("edit form", "")
    migration.restore_detail(apps, None)
    old["override"].refresh_from_db()
    assert (old["override"].detail, old["override"].clinical_detail) == ("old override text", "")


AUDIT_ROWS = """{% for event in events %}
        <tr data-event="{{ event.pk }}">
          <td class="text-nowrap">{{ event.at|date:"j M Y, H:i:s" }}</td>
          <td>{{ event.actor_username|default:"—" }}</td>
          <td><span class="badge {% if event.action == 'login_failed' or event.action == 'access_denied' %}text-bg-danger{% elif event.action == 'export' %}text-bg-warning{% else %}text-bg-light text-dark border{% endif %}">{{ event.get_action_display }}</span></td>
          <td>{% if event.patient %}<a href="{% url 'patients:detail' event.patient_id %}">{{ event.patient.full_name }}</a>{% else %}—{% endif %}</td>
          <td class="small">{{ event.object_type }}{% if event.object_id %} #{{ event.object_id }}{% endif %}</td>
          <td class="small">{{ event.detail }}{% if show_clinical_detail and event.clinical_detail %}<div class="text-body-secondary" data-clinical-detail><span class="visually-hidden">Clinical detail: </span>{{ event.clinical_detail|linebreaksbr }}</div>{% endif %}</td>
          <td class="small">{{ event.ip|default:"" }}</td>
        </tr>
{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("clinical", [False, True])
def test_the_logs_rows_say_what_the_template_loop_said(therapist, clinical):
    """The rows are written once by the view (event_rows_html): the same markup as the
    template loop they replaced, for every kind of event, escaping included."""
    from clinic.audit.views import event_rows_html
    from tests.markup import assert_same_markup

    patient = PatientFactory(first_name="<b>Ana</b>", last_name="O'Brien & Co")
    audit_record(acting_user=therapist, action="view", patient=patient, obj=patient, ip="10.0.0.1")
    audit_record(
        acting_user=therapist,
        action="sign",
        patient=patient,
        object_type="patients.assessment",
        object_id="7",
        detail="signed <assessment>",
        clinical_detail="Override: <HVLA>\r\nsecond line\rthird",
    )
    audit_record(acting_user=None, action="login_failed", username="", detail="bad password")
    audit_record(acting_user=therapist, action="access_denied", object_type="x", detail="GET /x")
    audit_record(acting_user=therapist, action="export", detail="audit CSV")
    events = list(AuditEvent.objects.select_related("actor", "patient").order_by("-at", "-id"))
    written = event_rows_html(events, clinical)
    assert_same_markup(AUDIT_ROWS, {"events": events, "show_clinical_detail": clinical}, written)
    assert ("second line<br>third" in written) is clinical
