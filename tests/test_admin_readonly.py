"""The Django admin is read-only for every registered model, superusers included.

The test walks ``admin.site._registry``, so a model registered later is covered without
editing this file; it fails until ``_one_row_of_each`` gives that model a row to try to
change (and until the model's admin is read-only).
"""

import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from clinic.models import (
    AppointmentSeries,
    AuditEvent,
    ClinicClosure,
    Reminder,
    Room,
    TimeOff,
    WorkingHours,
)
from patients.audit import AuditAction, audit_record
from patients.models import Assessment, AssessmentAmendment
from tests import factories
from tests.treatments.helpers import technique
from treatments.models import (
    AppliedTechnique,
    PlannedTechnique,
    VisitNote,
    VisitNoteAmendment,
)

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
INLINES = [(model, inline) for model, model_admin in REGISTERED for inline in model_admin.inlines]


def _label(model) -> str:
    return model._meta.label


@pytest.fixture
def superuser(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def one_row_of_each(superuser):
    """At least one row for every registered model (and every inline's model)."""
    therapist = factories.TherapistFactory()
    patient = factories.PatientFactory()
    assessment = factories.AssessmentFactory(patient=patient, therapist=therapist)
    AssessmentAmendment.objects.create(
        assessment=assessment, author=therapist, reason="Typo in the impression.", changes={}
    )
    factories.PainReportFactory(patient=patient)
    plan = factories.TreatmentPlanFactory(assessment=assessment)
    PlannedTechnique.objects.create(
        plan=plan, technique=technique("joint_mobilization"), grade="II", target="Left knee"
    )
    note = factories.VisitNoteFactory(patient=patient, therapist=therapist, status="signed")
    AppliedTechnique.objects.create(
        note=note, technique=technique("joint_mobilization"), grade="III", target="Left knee"
    )
    VisitNoteAmendment.objects.create(note=note, author=therapist, reason="Typo.", changes={})
    program = factories.HomeExerciseProgramFactory(patient=patient, prescribed_by=therapist)
    factories.ExercisePrescriptionFactory(program=program)
    factories.ExerciseCompletionFactory(program=program)
    practitioner = factories.PractitionerFactory(user=therapist)
    WorkingHours.objects.create(
        practitioner=practitioner, weekday=0, start=dt.time(9), end=dt.time(17)
    )
    now = timezone.now()
    TimeOff.objects.create(
        practitioner=practitioner, starts_at=now, ends_at=now + dt.timedelta(hours=2)
    )
    ClinicClosure.objects.create(
        starts_on=now.date(), ends_on=now.date(), reason="Holiday", created_by=superuser
    )
    room = factories.RoomFactory()
    series = AppointmentSeries.objects.create(
        patient=patient, practitioner=practitioner, created_by=superuser
    )
    appointment = factories.AppointmentFactory(
        patient=patient, practitioner=practitioner, room=room, series=series
    )
    Reminder.objects.create(
        kind="appointment",
        patient=patient,
        appointment=appointment,
        due_at=now,
        key=f"appointment:{appointment.pk}",
    )
    audit_record(acting_user=therapist, action=AuditAction.VIEW, patient=patient, obj=note)
    attempt = {
        "user_agent": "test",
        "ip_address": "127.0.0.1",
        "username": therapist.username,
        "http_accept": "*/*",
        "path_info": "/accounts/login/",
    }
    AccessAttempt.objects.create(**attempt, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**attempt)
    AccessFailureLog.objects.create(**attempt)


def _a_row(model):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"give {_label(model)} a row in one_row_of_each"
    return obj


def _snapshot(model, obj) -> dict:
    return model._default_manager.filter(pk=obj.pk).values().get()


def _url(model, view, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _tampered_post(model) -> dict:
    """A POST that would change every editable text field if the admin accepted it."""
    return {
        field.name: "tampered"
        for field in model._meta.concrete_fields
        if field.editable and field.get_internal_type() in ("CharField", "TextField")
    }


def test_the_walk_covers_the_clinical_scheduling_reminder_and_audit_models():
    labels = {_label(model) for model, _ in REGISTERED}
    inline_models = {_label(inline.model) for _, inline in INLINES}
    assert {
        "patients.Assessment",
        "patients.AssessmentAmendment",
        "patients.PainReport",
        "treatments.TreatmentPlan",
        "treatments.VisitNote",
        "treatments.VisitNoteAmendment",
        "treatments.HomeExerciseProgram",
        "treatments.ExerciseCompletion",
        "clinic.Appointment",
        "clinic.Reminder",
        "clinic.AuditEvent",
        "auth.User",
        "auth.Group",
    } <= labels
    assert {
        "treatments.PlannedTechnique",
        "treatments.AppliedTechnique",
        "treatments.ExercisePrescription",
    } <= inline_models


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[_label(m) for m, _ in REGISTERED]
)
def test_superuser_can_list_and_view_but_not_add_change_or_delete(
    admin_client, one_row_of_each, model, model_admin
):
    obj = _a_row(model)
    before = _snapshot(model, obj)
    count = model._default_manager.count()

    assert admin_client.get(_url(model, "changelist")).status_code == 200
    assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200  # view only

    assert admin_client.get(_url(model, "add")).status_code == 403
    assert admin_client.post(_url(model, "add"), _tampered_post(model)).status_code == 403
    change = admin_client.post(_url(model, "change", obj.pk), _tampered_post(model))
    assert change.status_code == 403
    assert admin_client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    # The changelist offers no bulk action (not even "delete selected"); posting one anyway
    # does nothing.
    admin_client.post(
        _url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )

    assert model._default_manager.count() == count
    assert _snapshot(model, obj) == before


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[_label(m) for m, _ in REGISTERED]
)
def test_no_admin_grants_a_write_or_an_action_to_a_superuser(superuser, model, model_admin):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.get_actions(request) == {}


@pytest.mark.parametrize(("model", "inline"), INLINES, ids=[i.__name__ for _, i in INLINES])
def test_inlines_forbid_add_change_and_delete(superuser, one_row_of_each, model, inline):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    parent = _a_row(model)
    instance = inline(model, admin.site)
    assert not instance.has_add_permission(request, parent)
    assert not instance.has_change_permission(request, parent)
    assert not instance.has_delete_permission(request, parent)
    assert instance.has_view_permission(request, parent)


def _complete_form_post(response) -> dict:
    """The admin change page's own form and inline formsets, as the browser would post them."""
    from django.forms import MultiWidget

    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if value is None or value is False:
                continue
            if isinstance(field.widget, MultiWidget):
                for i, part in enumerate(field.widget.decompress(value)):
                    data[f"{key}_{i}"] = part
            elif value is True:
                data[key] = "on"
            else:
                data[key] = value
    return data


def test_signed_visit_note_text_cannot_be_changed_in_admin(admin_client, one_row_of_each):
    from treatments.models import VisitNote

    note = VisitNote.objects.get(status="signed")
    url = _url(VisitNote, "change", note.pk)
    data = _complete_form_post(admin_client.get(url))
    data["subjective"] = "Rewritten after signing."
    response = admin_client.post(url, data)
    assert response.status_code == 403
    note.refresh_from_db()
    assert note.subjective == "Knee feels easier on stairs."
    assert note.techniques.count() == 1
    assert note.amendments.count() == 1


def test_admin_cannot_set_a_staff_password_or_role(admin_client, one_row_of_each):
    from django.contrib.auth import get_user_model

    user = factories.TherapistFactory()
    password = user.password
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "Another-pass-42", "password2": "Another-pass-42"},
    )
    assert response.status_code == 403
    user = get_user_model().objects.get(pk=user.pk)
    assert user.password == password
    group = Group.objects.get(name="Therapist")
    perms = set(group.permissions.values_list("pk", flat=True))
    response = admin_client.post(_url(Group, "change", group.pk), {"name": "T", "permissions": []})
    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == perms


def _views_since(before: set[int]) -> list[AuditEvent]:
    return list(AuditEvent.objects.exclude(pk__in=before).filter(action="view"))


def test_superuser_opening_a_signed_note_in_admin_is_audited(admin_client, superuser):
    note = factories.VisitNoteFactory(status="signed")
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    assert admin_client.get(_url(VisitNote, "change", note.pk)).status_code == 200
    [event] = _views_since(before)
    assert (event.actor, event.patient, event.object_type, event.object_id) == (
        superuser,
        note.patient,
        "treatments.visitnote",
        str(note.pk),
    )


def test_rows_of_a_record_name_the_patient_of_the_record(admin_client):
    note = factories.VisitNoteFactory(status="signed")
    amendment = VisitNoteAmendment.objects.create(
        note=note, author=note.therapist, reason="Typo.", changes={}
    )
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    admin_client.get(_url(VisitNoteAmendment, "change", amendment.pk))
    [event] = _views_since(before)
    assert event.patient == note.patient


def test_admin_list_of_assessments_is_audited(admin_client, superuser):
    factories.AssessmentFactory()
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    assert admin_client.get(_url(Assessment, "changelist")).status_code == 200
    [event] = _views_since(before)
    assert event.actor == superuser
    assert event.detail == "admin list of assessments"


def test_rows_that_belong_to_no_patient_and_the_audit_log_are_not_audited_as_views(
    admin_client,
):
    room = factories.RoomFactory()
    audit_record(acting_user=None, action=AuditAction.LOGIN)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    admin_client.get(_url(Room, "change", room.pk))
    admin_client.get(_url(AuditEvent, "changelist"))
    assert _views_since(before) == []
