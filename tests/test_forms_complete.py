"""Every clinical form, posted with each of its fields missing in turn, changes nothing.

"A missing cell is an error, never 'none'" (issue 9; patients/complete_forms.py). For each
clinical form (new records, edits of drafts, amendments of signed records, the precaution
table) the test reads the page the way a browser does, builds the complete submission
from its rendered inputs, then posts it once without each field. Every such post must be
refused on the page (200 with a visible error, never a redirect or a 500) and leave every
stored clinical value as it was: the rows' contents are compared, not their number.
Finally the complete submission itself must succeed, so the walk cannot pass by refusing
everything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from html.parser import HTMLParser

import pytest
from django.forms import BaseFormSet
from django.forms.forms import BaseForm
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients import services as patient_services
from patients.models import Assessment, AssessmentAddendum, AssessmentAmendment, PainReport
from tests.factories import (
    ExercisePrescriptionFactory,
    HomeExerciseProgramFactory,
    PatientFactory,
)
from tests.treatments.helpers import exercise, signed_assessment, technique
from treatments import services as treatment_services
from treatments.models import (
    AppliedTechnique,
    ExercisePrescription,
    HomeExerciseProgram,
    PlannedTechnique,
    PrecautionRule,
    TreatmentPlan,
    VisitNote,
    VisitNoteAddendum,
    VisitNoteAmendment,
)

pytestmark = pytest.mark.django_db

CLINICAL_MODELS = (
    Assessment,
    AssessmentAmendment,
    AssessmentAddendum,
    PainReport,
    TreatmentPlan,
    PlannedTechnique,
    VisitNote,
    VisitNote.exercises_reviewed.through,
    VisitNoteAmendment,
    VisitNoteAddendum,
    AppliedTechnique,
    HomeExerciseProgram,
    ExercisePrescription,
    PrecautionRule,
)
WRITE_ACTIONS = ("create", "update", "sign", "amend", "override")
# Not data: Django reads neither (a formset uses its own min_num and max_num), and the
# test client does not check CSRF tokens.
NOT_FIELDS = ("csrfmiddlewaretoken", "MIN_NUM_FORMS", "MAX_NUM_FORMS")


def snapshot() -> dict:
    """Every stored clinical value, row by row."""
    rows = {
        model.__name__: list(model.objects.order_by("pk").values()) for model in CLINICAL_MODELS
    }
    rows["AuditEvent"] = list(
        AuditEvent.objects.filter(action__in=WRITE_ACTIONS).order_by("pk").values()
    )
    return rows


class _FormInputs(HTMLParser):
    """The values each <form method="post"> on a page sends as a browser would, and the
    names of all its inputs."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[dict[str, list[str]], list[str]]] = []
        self._form = None
        self._select = None
        self._select_first = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._form = (defaultdict(list), [])
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        data, names = self._form
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            names.append(name)
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    data[name].append(attrs.get("value", "on"))
            else:
                data[name].append(attrs.get("value") or "")
        elif tag == "select" and name:
            names.append(name)
            self._select = (name, "multiple" in attrs)
            self._select_first = None
        elif tag == "option" and self._select is not None:
            name, multiple = self._select
            value = attrs.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                if not multiple:
                    data[name][:] = []
                data[name].append(value)
        elif tag == "textarea" and name:
            names.append(name)
            self._textarea = name
            data[name].append("")

    def handle_data(self, text):
        if self._textarea is not None and self._form is not None:
            self._form[0][self._textarea][-1] += text

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            data = self._form[0]
            if not multiple and not data.get(name) and self._select_first is not None:
                data[name].append(self._select_first)  # a single select sends its first
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def browser_post(client, url: str, marker: str) -> tuple[dict, list[str]]:
    """The complete submission of the form on ``url`` that has an input whose name starts
    with ``marker``, and the names of its fields."""
    response = client.get(url)
    assert response.status_code == 200, url
    parser = _FormInputs()
    parser.feed(response.content.decode())
    for data, names in parser.forms:
        if any(name.startswith(marker) for name in names):
            data = {name: list(values) for name, values in data.items()}
            fields = list(dict.fromkeys(n for n in names if not n.endswith(NOT_FIELDS)))
            # The management form's keys are fields too: without them the rows are lost.
            return data, fields
    raise AssertionError(f"no form with {marker!r} on {url}")


def _shows_an_error(response) -> bool:
    has_errors = False
    contexts = response.context if isinstance(response.context, list) else [response.context]
    values = [value for context in contexts for value in context.flatten().values()]
    for value in values:
        if isinstance(value, BaseForm) and value.errors:
            has_errors = True
        elif isinstance(value, BaseFormSet) and value.total_error_count():
            has_errors = True
    html = response.content.decode()
    visible = any(mark in html for mark in ("alert-danger", "invalid-feedback", "text-danger"))
    return has_errors and visible


def walk(client, url: str, data: dict, fields: list[str]) -> list[str]:
    """Post ``data`` without each field in turn; what went wrong, per field."""
    problems = []
    for name in fields:
        before = snapshot()
        partial = {key: value for key, value in data.items() if key != name}
        response = client.post(url, partial)
        if response.status_code != 200:
            problems.append(f"{name}: status {response.status_code}")
        elif not _shows_an_error(response):
            problems.append(f"{name}: no error shown")
        if snapshot() != before:
            problems.append(f"{name}: stored clinical values changed")
    return problems


def _check(client, url, data, fields, *, saved, at_least: int = 4) -> None:
    assert len(fields) >= at_least
    problems = walk(client, url, data, fields)
    assert problems == [], "\n".join(problems)
    # The complete submission goes through, so the walk above could have failed.
    before = snapshot()
    response = client.post(url, data)
    assert response.status_code == 302, _errors(response)
    after = snapshot()
    assert after != before
    saved(before, after)


def _errors(response) -> str:
    found = []
    for value in (response.context or {}).get("form"), (response.context or {}).get("formset"):
        if value is not None:
            found.append(repr(getattr(value, "errors", None)))
            if isinstance(value, BaseFormSet):
                found.append(repr(value.non_form_errors()))
    return " ".join(found)


def _grew(model_name):
    def check(before, after):
        assert len(after[model_name]) == len(before[model_name]) + 1, model_name

    return check


# --- patients ----------------------------------------------------------------------------


@pytest.fixture
def therapist_client(client_for, therapist):
    return client_for(therapist)


@pytest.fixture
def patient():
    return PatientFactory(date_of_birth=dt.date(1968, 3, 14))


def _assessment_values(**overrides) -> dict:
    from tests.patients.conftest import assessment_values

    return assessment_values(
        assessed_at=timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1),
        **overrides,
    )


def _fill(data: dict, **values) -> dict:
    for name, value in values.items():
        data[name] = value if isinstance(value, list) else [value]
    return data


def test_new_assessment_refuses_each_missing_field(therapist_client, patient):
    url = reverse("patients:assessment_create", args=[patient.pk])
    data, fields = browser_post(therapist_client, url, "pain_now")
    _fill(data, pain_now="5", pain_worst="7", pain_best="2", ottawa_acute_knee_injury="True")
    _check(therapist_client, url, data, fields, saved=_grew("Assessment"))


def test_draft_assessment_edit_refuses_each_missing_field(therapist_client, therapist, patient):
    draft = patient_services.assessment_create(
        patient=patient,
        acting_user=therapist,
        values=_assessment_values(precautions=["osteoporosis"], ottawa_acute_knee_injury=True),
    )
    url = reverse("patients:assessment_edit", args=[patient.pk, draft.pk])
    data, fields = browser_post(therapist_client, url, "pain_now")
    _fill(data, clinical_impression="Knee OA, edited.")

    def saved(before, after):
        (row,) = after["Assessment"]
        assert row["clinical_impression"] == "Knee OA, edited."

    _check(therapist_client, url, data, fields, saved=saved)


def test_signed_assessment_amendment_refuses_each_missing_field(
    therapist_client, therapist, patient
):
    signed = patient_services.assessment_sign(
        assessment=patient_services.assessment_create(
            patient=patient, acting_user=therapist, values=_assessment_values()
        ),
        acting_user=therapist,
    )
    url = reverse("patients:assessment_amend", args=[patient.pk, signed.pk])
    data, fields = browser_post(therapist_client, url, "reason")
    _fill(data, reason="Pain character corrected.", pain_qualities=["", "sharp"])
    _check(therapist_client, url, data, fields, saved=_grew("AssessmentAmendment"))


# --- treatments --------------------------------------------------------------------------


def test_new_plan_of_care_refuses_each_missing_field(therapist_client, therapist, patient):
    signed_assessment(patient=patient, therapist=therapist)
    url = reverse("treatments:plan_create", args=[patient.pk])
    data, fields = browser_post(therapist_client, url, "goals")
    _fill(
        data,
        goals="Climb stairs without pain.",
        **{
            "techniques-0-technique": str(technique("joint_mobilization").pk),
            "techniques-0-grade": "III",
            "techniques-0-target": "Right knee",
        },
    )
    _check(therapist_client, url, data, fields, saved=_grew("TreatmentPlan"))


def _note_fill(data):
    return _fill(
        data,
        subjective="Stairs hurt less.",
        pain_before="6",
        pain_after="3",
        exercises_reviewed=["", str(exercise("calf-raises").pk)],
        **{
            "applied-0-technique": str(technique("soft_tissue_mobilization").pk),
            "applied-0-minutes": "10",
            "applied-0-target": "Calf",
        },
    )


def test_new_visit_note_refuses_each_missing_field(therapist_client, patient):
    url = reverse("treatments:note_create", args=[patient.pk])
    data, fields = browser_post(therapist_client, url, "subjective")
    _note_fill(data)
    _check(therapist_client, url, data, fields, saved=_grew("VisitNote"))


def test_draft_visit_note_edit_refuses_each_missing_field(therapist_client, therapist, patient):
    note = treatment_services.visit_note_create(
        patient=patient,
        acting_user=therapist,
        visited_at=timezone.now() - dt.timedelta(hours=1),
        subjective="Better.",
        techniques=[
            {"technique": technique("joint_mobilization"), "grade": "II", "target": "Knee"}
        ],
        exercises_reviewed=[exercise("lateral-step-downs")],
    )
    url = reverse("treatments:note_edit", args=[note.pk])
    data, fields = browser_post(therapist_client, url, "subjective")
    _fill(data, objective="Flexion 125°.")

    def saved(before, after):
        (row,) = after["VisitNote"]
        assert row["objective"] == "Flexion 125°."

    _check(therapist_client, url, data, fields, saved=saved)


def test_signed_visit_note_amendment_refuses_each_missing_field(
    therapist_client, therapist, patient
):
    note = treatment_services.visit_note_create(
        patient=patient,
        acting_user=therapist,
        visited_at=timezone.now() - dt.timedelta(hours=1),
        subjective="Better.",
    )
    treatment_services.visit_note_sign(note=note, acting_user=therapist)
    url = reverse("treatments:note_amend", args=[note.pk])
    data, fields = browser_post(therapist_client, url, "reason")
    _fill(data, reason="Objective findings added.", objective="Flexion 125°.")
    _check(therapist_client, url, data, fields, saved=_grew("VisitNoteAmendment"))


def _program_fill(data):
    return _fill(data, **{"rx-0-include": ["", "on"]})


def test_new_home_program_refuses_each_missing_field(therapist_client, patient):
    url = reverse("treatments:program_create", args=[patient.pk])
    data, fields = browser_post(therapist_client, url, "reminder_time")
    _program_fill(data)
    _check(therapist_client, url, data, fields, saved=_grew("HomeExerciseProgram"))


def test_replacing_a_home_program_refuses_each_missing_field(therapist_client, patient):
    program = HomeExerciseProgramFactory(patient=patient, reminder_days=[0, 3])
    ExercisePrescriptionFactory(program=program, exercise=exercise("calf-raises"))
    url = reverse("treatments:program_create", args=[patient.pk])
    data, fields = browser_post(therapist_client, url, "reminder_time")
    _program_fill(data)
    _check(therapist_client, url, data, fields, saved=_grew("HomeExerciseProgram"))


def test_precaution_table_refuses_each_missing_cell(client_for, manager):
    client = client_for(manager)
    url = reverse("treatments:precaution_table")
    data, fields = browser_post(client, url, "cell__")
    # One changed cell, so the complete submission is seen to change the table.
    cell = next(name for name in fields if name.startswith("cell__myositis__"))
    data[cell] = ["caution" if data[cell] == ["contraindicated"] else "contraindicated"]

    def saved(before, after):
        assert after["PrecautionRule"] != before["PrecautionRule"]

    _check(client, url, data, fields, saved=saved)


def test_the_page_sends_unticked_boxes_as_empty_markers(therapist_client, patient):
    # The empty marker is what makes an unticked box "sent": the page renders one for
    # every checkbox-type field, so a browser's submission has every field.
    url = reverse("treatments:program_create", args=[patient.pk])
    data, fields = browser_post(therapist_client, url, "reminder_time")
    assert data["rx-0-include"] == [""]
    assert data["reminders_enabled"][0] == ""  # ticked or not, the marker comes first
    assert "rx-0-include" in fields and "reminder_days" in fields
    data, _ = browser_post(
        therapist_client, reverse("patients:assessment_create", args=[patient.pk]), "pain_now"
    )
    assert data["precautions"] == [""]


def test_assessment_addendum_refuses_a_missing_text(therapist_client, therapist, patient):
    signed = patient_services.assessment_sign(
        assessment=patient_services.assessment_create(
            patient=patient, acting_user=therapist, values=_assessment_values()
        ),
        acting_user=therapist,
    )
    url = reverse("patients:assessment_addendum", args=[patient.pk, signed.pk])
    data, fields = browser_post(therapist_client, url, "text")
    _fill(data, text="Seen again on the phone: swelling settled.")
    _check(therapist_client, url, data, fields, saved=_grew("AssessmentAddendum"), at_least=1)


def test_visit_note_addendum_refuses_a_missing_text(therapist_client, therapist, patient):
    note = treatment_services.visit_note_create(
        patient=patient,
        acting_user=therapist,
        visited_at=timezone.now() - dt.timedelta(hours=1),
        subjective="Better.",
    )
    treatment_services.visit_note_sign(note=note, acting_user=therapist)
    url = reverse("treatments:note_addendum", args=[note.pk])
    data, fields = browser_post(therapist_client, url, "text")
    _fill(data, text="Late entry: ice advised after the session.")
    _check(therapist_client, url, data, fields, saved=_grew("VisitNoteAddendum"), at_least=1)
