"""Notes follow the visit (treatments/visits.py): signing a note for a checked-in visit
completes it in the same transaction; a note cannot be created for, linked to or signed
against a cancelled or no-show visit; the visit picker offers today's and recent visits
first, and never every visit the patient ever had."""

import ast
import datetime as dt
import pathlib

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinic.models import AppointmentStatus, AuditEvent
from patients.localtime import clinic_today, local_datetime
from tests.factories import AppointmentFactory, PatientFactory
from tests.treatments.test_notes import _note_post
from treatments import selectors, services
from treatments.models import VisitNote

pytestmark = pytest.mark.django_db


def _today_at(hour, minute=0, days=0):
    return local_datetime(clinic_today() + dt.timedelta(days=days), dt.time(hour, minute))


@pytest.fixture
def patient(db):
    return PatientFactory(first_name="Lucía")


def _visit(patient, status=AppointmentStatus.BOOKED, **fields):
    fields.setdefault("starts_at", timezone.now() - dt.timedelta(minutes=20))
    return AppointmentFactory(patient=patient, status=status, **fields)


def _draft(patient, therapist, appointment):
    return services.visit_note_create(
        patient=patient,
        acting_user=therapist,
        visited_at=timezone.now(),
        subjective="Stairs easier.",
        appointment=appointment,
    )


def test_signing_a_note_completes_the_checked_in_visit_audited(therapist, patient):
    visit = _visit(patient, AppointmentStatus.CHECKED_IN)
    note = _draft(patient, therapist, visit)
    services.visit_note_sign(note=note, acting_user=therapist, ip="203.0.113.9")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.COMPLETED
    event = AuditEvent.objects.get(object_type="clinic.appointment", object_id=str(visit.pk))
    assert event.action == "update" and event.actor == therapist
    assert event.patient == patient and event.ip == "203.0.113.9"
    assert "completed (visit note signed)" in event.detail


@pytest.mark.parametrize(
    "status", [AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED], ids=["booked", "completed"]
)
def test_signing_leaves_a_booked_or_completed_visit_as_it_is(therapist, patient, status):
    visit = _visit(patient, status)
    services.visit_note_sign(note=_draft(patient, therapist, visit), acting_user=therapist)
    visit.refresh_from_db()
    assert visit.status == status
    assert not AuditEvent.objects.filter(object_type="clinic.appointment").exists()


def test_the_completion_rolls_back_with_a_signing_that_fails_later(therapist, patient, monkeypatch):
    """Same transaction: a failure after the visit was completed leaves it checked in."""
    visit = _visit(patient, AppointmentStatus.CHECKED_IN)
    note = _draft(patient, therapist, visit)
    note.pain_before = 5
    note.save()

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "pain_report_create", broken)
    with pytest.raises(RuntimeError):
        services.visit_note_sign(note=note, acting_user=therapist)
    visit.refresh_from_db()
    note.refresh_from_db()
    assert visit.status == AppointmentStatus.CHECKED_IN
    assert note.status == "draft"


@pytest.mark.parametrize(
    "status, words",
    [(AppointmentStatus.NO_SHOW, "was a no-show"), (AppointmentStatus.CANCELLED, "was cancelled")],
    ids=["no_show", "cancelled"],
)
def test_a_note_is_not_signed_against_a_visit_that_did_not_happen(
    client_for, therapist, patient, status, words
):
    visit = _visit(patient)
    note = _draft(patient, therapist, visit)
    visit.status = status  # marked after the draft was written
    visit.save()
    with pytest.raises(ValidationError) as refused:
        services.visit_note_sign(note=note, acting_user=therapist)
    assert "Not signed: the visit of" in str(refused.value) and words in str(refused.value)
    response = client_for(therapist).post(reverse("treatments:note_sign", args=[note.pk]))
    assert response.status_code == 302
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert words in shown and "Choose another visit, or none" in shown
    note.refresh_from_db()
    visit.refresh_from_db()
    assert note.status == "draft" and note.signed_at is None
    assert visit.status == status


@pytest.mark.parametrize("status", [AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED])
def test_a_note_is_not_created_for_a_visit_that_did_not_happen(therapist, patient, status):
    visit = _visit(patient, status)
    with pytest.raises(ValidationError) as refused:
        _draft(patient, therapist, visit)
    assert "a note cannot document it" in refused.value.message_dict["appointment"][0]
    assert not VisitNote.objects.exists()


def test_the_note_form_refuses_a_no_show_visit_with_a_message(client_for, therapist, patient):
    visit = _visit(patient, AppointmentStatus.NO_SHOW)
    response = client_for(therapist).post(
        reverse("treatments:note_create", args=[patient.pk]),
        _note_post(appointment=str(visit.pk)),
    )
    assert response.status_code == 200
    assert "cancelled or no-show visit" in response.context["form"].errors["appointment"][0]
    assert not VisitNote.objects.exists()


def test_a_draft_whose_visit_became_a_no_show_must_change_its_visit(client_for, therapist, patient):
    visit = _visit(patient)
    note = _draft(patient, therapist, visit)
    visit.status = AppointmentStatus.NO_SHOW
    visit.save()
    client = client_for(therapist)
    url = reverse("treatments:note_edit", args=[note.pk])
    # The form still shows the draft's visit, and says why it cannot stay.
    assert client.get(url).context["form"]["appointment"].value() == visit.pk
    response = client.post(url, _note_post(appointment=str(visit.pk)))
    assert response.status_code == 200
    assert "was a no-show" in response.context["form"].errors["appointment"][0]
    assert client.post(url, _note_post(appointment="")).status_code == 302
    note.refresh_from_db()
    assert note.appointment is None


def test_the_visit_picker_offers_today_then_recent_then_upcoming(therapist, patient):
    today_late = _visit(patient, starts_at=_today_at(16))
    today_early = _visit(patient, starts_at=_today_at(9), status=AppointmentStatus.COMPLETED)
    yesterday = _visit(patient, starts_at=_today_at(10, days=-1))
    two_weeks = _visit(patient, starts_at=_today_at(10, days=-14))
    tomorrow = _visit(patient, starts_at=_today_at(10, days=1))
    next_week = _visit(patient, starts_at=_today_at(10, days=7))
    # Never offered: did not happen, too old, too far ahead, someone else's, has a note.
    _visit(patient, starts_at=_today_at(11), status=AppointmentStatus.CANCELLED)
    _visit(patient, starts_at=_today_at(12, days=-1), status=AppointmentStatus.NO_SHOW)
    _visit(patient, starts_at=_today_at(10, days=-15))
    _visit(patient, starts_at=_today_at(10, days=8))
    _visit(PatientFactory(), starts_at=_today_at(13))
    noted = _visit(patient, starts_at=_today_at(10, days=-2))
    _draft(patient, therapist, noted)
    offered = list(selectors.appointments_for_note(patient))
    assert offered == [today_early, today_late, yesterday, two_weeks, tomorrow, next_week]


def test_the_picker_keeps_the_drafts_own_visit_whatever_its_date(therapist, patient):
    old = _visit(patient, starts_at=_today_at(10, days=-40))
    note = VisitNote.objects.create(
        patient=patient, therapist=therapist, appointment=old, visited_at=old.starts_at
    )
    assert list(selectors.appointments_for_note(patient, note)) == [old]
    assert list(selectors.appointments_for_note(patient)) == []


def test_the_note_form_lists_the_visits_in_the_pickers_order(client_for, therapist, patient):
    yesterday = _visit(patient, starts_at=_today_at(10, days=-1))
    today = _visit(patient, starts_at=_today_at(8))
    page = client_for(therapist).get(reverse("treatments:note_create", args=[patient.pk]))
    choices = [value for value, _ in page.context["form"].fields["appointment"].choices][1:]
    assert [int(str(c)) for c in choices] == [today.pk, yesterday.pk]


def test_treatments_imports_nothing_from_clinic():
    """The dependency rule (docs/design.md, "Layout"): the visit rules come through the
    hook clinic connects (treatments/visits.py), not by importing clinic."""
    root = pathlib.Path(settings.BASE_DIR) / "treatments"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "clinic"]
    assert offenders == []
