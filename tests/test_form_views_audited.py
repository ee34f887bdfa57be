"""Every clinical page a therapist opens writes one audit event naming the patient.

Forms show clinical content too (the latest screening, the record being edited or
amended, the program being replaced), so opening one is audited as a view, like opening
the record itself. The walk below covers every clinical URL that answers GET; a clinical
URL added later without an entry here fails ``test_the_walk_covers_every_clinical_page``.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from clinic.audit.middleware import is_clinical
from clinic.models import AuditEvent
from patients.models import RecordStatus
from tests.factories import (
    AssessmentFactory,
    ExercisePrescriptionFactory,
    HomeExerciseProgramFactory,
    PatientFactory,
    TreatmentPlanFactory,
    VisitNoteFactory,
)

pytestmark = pytest.mark.django_db


def _signed_assessment(therapist, patient=None):
    return AssessmentFactory(
        patient=patient or PatientFactory(),
        therapist=therapist,
        status=RecordStatus.SIGNED,
        signed_at=timezone.now(),
        signed_by=therapist,
    )


def _signed_note(therapist):
    return VisitNoteFactory(
        therapist=therapist,
        status=RecordStatus.SIGNED,
        signed_at=timezone.now(),
        signed_by=therapist,
    )


def _program(therapist):
    program = HomeExerciseProgramFactory(prescribed_by=therapist)
    ExercisePrescriptionFactory(program=program)
    return program


# name -> builder(therapist) returning (url, patient, the record the event names, action).
# A record of None means the patient row itself (a form for a new record, nothing shown
# but the patient).


def _assessment_create_first(t):
    patient = PatientFactory()
    return reverse("patients:assessment_create", args=[patient.pk]), patient, None, "view"


def _assessment_create_follow_up(t):
    previous = _signed_assessment(t)
    url = reverse("patients:assessment_create", args=[previous.patient_id])
    return url, previous.patient, previous, "view"


def _assessment_edit(t):
    draft = AssessmentFactory(therapist=t)
    url = reverse("patients:assessment_edit", args=[draft.patient_id, draft.pk])
    return url, draft.patient, draft, "view"


def _assessment_amend(t):
    signed = _signed_assessment(t)
    url = reverse("patients:assessment_amend", args=[signed.patient_id, signed.pk])
    return url, signed.patient, signed, "view"


def _assessment_addendum(t):
    signed = _signed_assessment(t)
    url = reverse("patients:assessment_addendum", args=[signed.patient_id, signed.pk])
    return url, signed.patient, signed, "view"


def _note_addendum(t):
    signed = _signed_note(t)
    return reverse("treatments:note_addendum", args=[signed.pk]), signed.patient, signed, "view"


def _assessment_detail(t):
    signed = _signed_assessment(t)
    url = reverse("patients:assessment_detail", args=[signed.patient_id, signed.pk])
    return url, signed.patient, signed, "view"


def _outcomes(t):
    patient = PatientFactory()
    return reverse("patients:outcomes", args=[patient.pk]), patient, patient, "view"


def _plan_create(t):
    signed = _signed_assessment(t)
    url = reverse("treatments:plan_create", args=[signed.patient_id])
    return url, signed.patient, signed, "view"


def _list_page(name):
    def page(t):
        patient = PatientFactory()
        return reverse(name, args=[patient.pk]), patient, patient, "view"

    return page


def _plan_detail(t):
    plan = TreatmentPlanFactory(assessment=_signed_assessment(t))
    return reverse("treatments:plan_detail", args=[plan.pk]), plan.patient, plan, "view"


def _note_create_with_screening(t):
    signed = _signed_assessment(t)
    url = reverse("treatments:note_create", args=[signed.patient_id])
    return url, signed.patient, signed, "view"


def _note_create_first(t):
    patient = PatientFactory()
    return reverse("treatments:note_create", args=[patient.pk]), patient, None, "view"


def _note_edit(t):
    draft = VisitNoteFactory(therapist=t)
    return reverse("treatments:note_edit", args=[draft.pk]), draft.patient, draft, "view"


def _note_amend(t):
    signed = _signed_note(t)
    return reverse("treatments:note_amend", args=[signed.pk]), signed.patient, signed, "view"


def _note_detail(t):
    draft = VisitNoteFactory(therapist=t)
    return reverse("treatments:note_detail", args=[draft.pk]), draft.patient, draft, "view"


def _program_create_first(t):
    patient = PatientFactory()
    return reverse("treatments:program_create", args=[patient.pk]), patient, None, "view"


def _program_create_replacing(t):
    current = _program(t)
    url = reverse("treatments:program_create", args=[current.patient_id])
    return url, current.patient, current, "view"


def _program_detail(t):
    program = _program(t)
    url = reverse("treatments:program_detail", args=[program.pk])
    return url, program.patient, program, "view"


def _program_handout(t):
    program = _program(t)
    url = reverse("treatments:program_handout", args=[program.pk])
    return url, program.patient, program, "export"


def _attention_list(t):
    # A list of the therapist's patients: one event, naming the list rather than one
    # patient (the patients shown are in its clinical detail).
    return reverse("attention:list"), None, ("clinic.attention", str(t.pk)), "view"


def _report_patients(t):
    # The therapist's own episodes behind their outcomes row: like the attention list,
    # one event naming the list (the patients shown are in its clinical detail).
    return (
        reverse("reports:outcomes_patients"),
        None,
        ("clinic.reports.outcomes", str(t.pk)),
        "view",
    )


PAGES = {
    "attention:list": _attention_list,
    "reports:outcomes_patients": _report_patients,
    "patients:assessment_create (first)": _assessment_create_first,
    "patients:assessment_create (follow-up)": _assessment_create_follow_up,
    "patients:assessment_edit": _assessment_edit,
    "patients:assessment_amend": _assessment_amend,
    "patients:assessment_addendum": _assessment_addendum,
    "patients:assessment_detail": _assessment_detail,
    "patients:outcomes": _outcomes,
    "patients:assessment_list": _list_page("patients:assessment_list"),
    "treatments:plan_list": _list_page("treatments:plan_list"),
    "treatments:note_list": _list_page("treatments:note_list"),
    "treatments:plan_create": _plan_create,
    "treatments:plan_detail": _plan_detail,
    "treatments:note_create (with screening)": _note_create_with_screening,
    "treatments:note_create (first)": _note_create_first,
    "treatments:note_edit": _note_edit,
    "treatments:note_amend": _note_amend,
    "treatments:note_addendum": _note_addendum,
    "treatments:note_detail": _note_detail,
    "treatments:program_create (first)": _program_create_first,
    "treatments:program_create (replacing)": _program_create_replacing,
    "treatments:program_detail": _program_detail,
    "treatments:program_handout": _program_handout,
}

# Clinical URLs that answer POST only: their effect is audited by the service they call.
POST_ONLY = {
    "patients:assessment_sign",
    "treatments:plan_close",
    "treatments:note_sign",
    "treatments:program_end",
    "attention:acknowledge",
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_opening_a_clinical_page_writes_one_event_naming_the_patient(client_for, therapist, page):
    url, patient, record, action = PAGES[page](therapist)
    record = record or patient
    client = client_for(therapist)  # signing in writes its own login event
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    response = client.get(url)
    assert response.status_code == 200, page
    events = list(AuditEvent.objects.exclude(pk__in=before))
    assert len(events) == 1, [(e.action, e.object_type, e.detail) for e in events]
    event = events[0]
    assert event.action == action
    assert event.actor == therapist
    assert event.patient == patient
    if not isinstance(record, tuple):
        record = (record._meta.label_lower, str(record.pk))
    assert (event.object_type, event.object_id) == record


def _clinical_names(patterns=None, namespace=None):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _clinical_names(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name and namespace:
            name = f"{namespace}:{entry.name}"
            if is_clinical(name):
                yield name


def test_the_walk_covers_every_clinical_page():
    walked = {page.split(" ")[0] for page in PAGES}
    assert set(_clinical_names()) == walked | POST_ONLY
