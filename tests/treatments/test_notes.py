"""Visit notes: SOAP drafts, signing (pain reports, visit completions), amendments, roles."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients.models import PainReport, RecordStatus
from tests.factories import (
    AppointmentFactory,
    HomeExerciseProgramFactory,
    PatientFactory,
    PractitionerFactory,
    TherapistFactory,
)
from tests.treatments.helpers import exercise, technique
from treatments import services
from treatments.models import CompletionSource, ExerciseCompletion, VisitNote

pytestmark = pytest.mark.django_db


def _note_post(**overrides):
    data = {
        "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "appointment": "",
        "treatment_plan": "",
        "pain_before": "6",
        "pain_after": "3",
        "subjective": "Stairs hurt less.",
        "objective": "Flexion 120°.",
        "assessment": "Improving.",
        "plan": "Progress step downs.",
        "applied-TOTAL_FORMS": "3",
        "applied-INITIAL_FORMS": "0",
        "applied-MIN_NUM_FORMS": "0",
        "applied-MAX_NUM_FORMS": "12",
        # What a browser sends for nothing ticked (patients/complete_forms.py).
        "exercises_reviewed": "",
    }
    for index in range(3):
        for name in ("technique", "grade", "minutes", "target", "override_reason"):
            data[f"applied-{index}-{name}"] = ""
    data.update(overrides)
    return data


def _draft(patient=None, therapist=None, **fields):
    return services.visit_note_create(
        patient=patient or PatientFactory(),
        acting_user=therapist or TherapistFactory(),
        visited_at=fields.pop("visited_at", timezone.now()),
        subjective=fields.pop("subjective", "Better."),
        **fields,
    )


# Roles.


@pytest.mark.parametrize(
    ("role", "status"), [("therapist", 200), ("front_desk", 403), ("manager", 403)]
)
def test_note_pages_are_for_therapists_only(client_for, role_users, role, status):
    note = _draft(therapist=role_users["therapist"], pain_before=7)
    client = client_for(role_users[role])
    for url in (
        reverse("treatments:note_create", args=[note.patient_id]),
        reverse("treatments:note_detail", args=[note.pk]),
        reverse("treatments:note_edit", args=[note.pk]),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 403:
            assert "Better." not in response.content.decode()


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_non_therapists_cannot_sign_or_amend(client_for, role_users, role):
    note = _draft(therapist=role_users["therapist"])
    client = client_for(role_users[role])
    assert client.post(reverse("treatments:note_sign", args=[note.pk])).status_code == 403
    assert client.get(reverse("treatments:note_amend", args=[note.pk])).status_code == 403
    note.refresh_from_db()
    assert note.status == RecordStatus.DRAFT


# Creating and editing drafts.


def test_therapist_writes_a_draft_with_techniques_and_exercises(client_for, therapist):
    patient = PatientFactory()
    data = _note_post(
        **{
            "applied-0-technique": str(technique("joint_mobilization").pk),
            "applied-0-grade": "III",
            "applied-0-target": "Right knee",
            "applied-1-technique": str(technique("soft_tissue_mobilization").pk),
            "applied-1-minutes": "10",
            "applied-1-target": "Calf",
            "exercises_reviewed": [str(exercise("calf-raises").pk)],
        }
    )
    response = client_for(therapist).post(
        reverse("treatments:note_create", args=[patient.pk]), data
    )
    note = VisitNote.objects.get()
    assert response.status_code == 302
    assert (note.therapist, note.status, note.pain_before, note.pain_after) == (
        therapist,
        RecordStatus.DRAFT,
        6,
        3,
    )
    applied = list(note.techniques.values_list("technique__code", "grade", "minutes", "target"))
    assert applied == [
        ("joint_mobilization", "III", None, "Right knee"),
        ("soft_tissue_mobilization", "", 10, "Calf"),
    ]
    assert list(note.exercises_reviewed.values_list("code", flat=True)) == ["calf-raises"]
    assert not PainReport.objects.exists()  # only on signing
    assert AuditEvent.objects.filter(action="create", object_id=str(note.pk)).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"pain_before": "11"}, "pain_before"),
        ({"pain_after": "-1"}, "pain_after"),
        ({"pain_before": "seven"}, "pain_before"),
        ({"subjective": "x" * 10001}, "subjective"),
        ({"visited_at": "yesterday"}, "visited_at"),
        ({"visited_at": "2099-01-01T10:00"}, "visited_at"),
    ],
)
def test_bad_note_fields_are_form_errors(client_for, therapist, overrides, field):
    patient = PatientFactory()
    response = client_for(therapist).post(
        reverse("treatments:note_create", args=[patient.pk]), _note_post(**overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not VisitNote.objects.exists()


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"technique": "joint_mobilization", "grade": "V", "target": "Knee"}, "grade"),
        ({"technique": "hvla_thrust", "grade": "", "target": "Ankle"}, "grade"),
        ({"technique": "muscle_energy", "grade": "II", "minutes": "5", "target": "Hip"}, "grade"),
        ({"technique": "muscle_energy", "target": "Hip"}, "minutes"),
        ({"technique": "soft_tissue_mobilization", "minutes": "500", "target": "Calf"}, "minutes"),
        ({"technique": "joint_mobilization", "grade": "II", "target": ""}, "target"),
    ],
)
def test_applied_technique_errors(client_for, therapist, row, field):
    patient = PatientFactory()
    data = _note_post(
        **{
            "applied-0-technique": str(technique(row["technique"]).pk),
            "applied-0-grade": row.get("grade", ""),
            "applied-0-minutes": row.get("minutes", ""),
            "applied-0-target": row.get("target", ""),
        }
    )
    response = client_for(therapist).post(
        reverse("treatments:note_create", args=[patient.pk]), data
    )
    assert field in response.context["formset"].forms[0].errors
    assert not VisitNote.objects.exists()


def test_note_links_to_the_patients_own_appointment_only(client_for, therapist):
    patient = PatientFactory()
    practitioner = PractitionerFactory(user=therapist)
    mine = AppointmentFactory(patient=patient, practitioner=practitioner)
    theirs = AppointmentFactory(
        practitioner=practitioner,
        starts_at=mine.starts_at + dt.timedelta(hours=2),
        ends_at=mine.ends_at + dt.timedelta(hours=2),
    )
    client = client_for(therapist)
    url = reverse("treatments:note_create", args=[patient.pk])
    refused = client.post(url, _note_post(appointment=str(theirs.pk)))
    assert "appointment" in refused.context["form"].errors
    assert client.post(url, _note_post(appointment=str(mine.pk))).status_code == 302
    assert VisitNote.objects.get().appointment == mine
    # The appointment now has its note: it is no longer offered, and a second is refused.
    again = client.post(url, _note_post(appointment=str(mine.pk)))
    assert "appointment" in again.context["form"].errors
    assert VisitNote.objects.count() == 1


def test_appointment_query_parameter_preselects_it(client_for, therapist):
    patient = PatientFactory()
    appointment = AppointmentFactory(patient=patient)
    response = client_for(therapist).get(
        reverse("treatments:note_create", args=[patient.pk]) + f"?appointment={appointment.pk}"
    )
    assert response.context["form"].initial["appointment"] == appointment


def test_archived_patient_gets_no_new_note(client_for, therapist):
    patient = PatientFactory(archived_at=timezone.now())
    url = reverse("treatments:note_create", args=[patient.pk])
    assert client_for(therapist).post(url, _note_post()).status_code == 409
    assert not VisitNote.objects.exists()


def test_author_edits_a_draft_and_others_cannot(client_for, therapist):
    note = _draft(therapist=therapist)
    url = reverse("treatments:note_edit", args=[note.pk])
    other = TherapistFactory()
    assert client_for(other).post(url, _note_post(subjective="Hijack")).status_code == 403
    response = client_for(therapist).post(url, _note_post(subjective="Edited by author."))
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.subjective == "Edited by author."
    assert AuditEvent.objects.filter(action="update", object_id=str(note.pk)).exists()


# Signing.


def test_signing_locks_the_note_and_records_pain_reports(client_for, therapist):
    visited = timezone.now() - dt.timedelta(hours=3)
    note = _draft(therapist=therapist, pain_before=7, pain_after=4, visited_at=visited)
    client = client_for(therapist)
    response = client.post(reverse("treatments:note_sign", args=[note.pk]))
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.status == RecordStatus.SIGNED
    assert note.signed_by == therapist and note.signed_at is not None
    reports = list(
        PainReport.objects.filter(patient=note.patient).values_list(
            "score", "source", "reported_at"
        )
    )
    assert reports == [(7, "visit", visited), (4, "visit", visited)]
    assert AuditEvent.objects.filter(action="sign", object_id=str(note.pk)).exists()
    # Locked: edits are refused and change nothing; signing twice adds nothing.
    edit = client.post(
        reverse("treatments:note_edit", args=[note.pk]), _note_post(subjective="Changed")
    )
    assert edit.status_code == 302
    client.post(reverse("treatments:note_sign", args=[note.pk]))
    note.refresh_from_db()
    assert note.subjective == "Better."
    assert PainReport.objects.count() == 2


def test_signing_runs_the_same_queries_however_long_the_patients_history(
    client_for, therapist, django_assert_num_queries
):
    patient = PatientFactory()
    client = client_for(therapist)
    for history in (0, 15):
        for _ in range(history):
            signed = _draft(therapist=therapist, patient=patient, pain_before=5)
            services.visit_note_sign(note=signed, acting_user=therapist)
        note = _draft(therapist=therapist, patient=patient, pain_before=6)
        # session, user, user and group permissions, the note; in the transaction
        # (savepoint and release): the note locked, the latest screening, applied
        # techniques, the update, a pain report (in its own savepoint), reviewed
        # exercises, the audit event. (The note's techniques, exercises and amendments,
        # which its page shows, are not read.)
        with django_assert_num_queries(16):
            response = client.post(reverse("treatments:note_sign", args=[note.pk]))
        assert response.status_code == 302


def test_only_the_author_signs(client_for, therapist):
    note = _draft(therapist=therapist)
    assert (
        client_for(TherapistFactory())
        .post(reverse("treatments:note_sign", args=[note.pk]))
        .status_code
        == 403
    )
    note.refresh_from_db()
    assert note.status == RecordStatus.DRAFT


def test_an_empty_note_cannot_be_signed(client_for, therapist):
    note = _draft(therapist=therapist, subjective="")
    client_for(therapist).post(reverse("treatments:note_sign", args=[note.pk]))
    note.refresh_from_db()
    assert note.status == RecordStatus.DRAFT


def test_reviewing_exercises_at_a_signed_visit_counts_the_day_done(therapist):
    patient = PatientFactory()
    program = HomeExerciseProgramFactory(
        patient=patient, start_date=timezone.localdate() - dt.timedelta(days=10)
    )
    note = _draft(
        patient=patient, therapist=therapist, exercises_reviewed=[exercise("calf-raises")]
    )
    services.visit_note_sign(note=note, acting_user=therapist)
    completion = ExerciseCompletion.objects.get(program=program)
    assert (completion.date, completion.source) == (timezone.localdate(), CompletionSource.VISIT)


def test_signing_without_reviewed_exercises_records_no_completion(therapist):
    patient = PatientFactory()
    HomeExerciseProgramFactory(patient=patient, start_date=timezone.localdate())
    note = _draft(patient=patient, therapist=therapist)
    services.visit_note_sign(note=note, acting_user=therapist)
    assert not ExerciseCompletion.objects.exists()


# Amendments.


def test_amendment_keeps_the_signed_original(client_for, therapist):
    note = _draft(therapist=therapist, subjective="Original words.")
    services.visit_note_sign(note=note, acting_user=therapist)
    client = client_for(therapist)
    url = reverse("treatments:note_amend", args=[note.pk])
    response = client.post(
        url,
        {
            "subjective": "Corrected words.",
            "objective": "",
            "assessment": "",
            "plan": "",
            "reason": "Wrong knee recorded.",
        },
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.subjective == "Original words."
    amendment = note.amendments.get()
    assert amendment.changes == {
        "subjective": {"old": "Original words.", "new": "Corrected words."}
    }
    assert amendment.author == therapist
    page = client.get(reverse("treatments:note_detail", args=[note.pk])).content.decode()
    assert (
        "Corrected words." in page and "Original words." in page and "Wrong knee recorded." in page
    )
    assert AuditEvent.objects.filter(action="amend", object_id=str(note.pk)).exists()


def test_amendment_needs_a_reason_and_a_change(client_for, therapist):
    note = _draft(therapist=therapist, subjective="Same.")
    services.visit_note_sign(note=note, acting_user=therapist)
    url = reverse("treatments:note_amend", args=[note.pk])
    client = client_for(therapist)
    no_reason = client.post(url, {"subjective": "New.", "reason": ""})
    assert "reason" in no_reason.context["form"].errors
    no_change = client.post(url, {"subjective": "Same.", "reason": "Nothing really."})
    assert no_change.context["form"].non_field_errors()
    assert not note.amendments.exists()


def test_drafts_are_edited_not_amended(client_for, therapist):
    note = _draft(therapist=therapist)
    response = client_for(therapist).post(
        reverse("treatments:note_amend", args=[note.pk]), {"subjective": "x", "reason": "y"}
    )
    assert response.status_code == 302
    assert not note.amendments.exists()


# Today page, audit and query count.


def test_today_lists_the_therapists_own_unsigned_notes(client_for, therapist):
    mine = _draft(therapist=therapist, patient=PatientFactory(first_name="Mina", last_name="Draft"))
    signed = _draft(
        therapist=therapist, patient=PatientFactory(first_name="Sid", last_name="Signed")
    )
    services.visit_note_sign(note=signed, acting_user=therapist)
    _draft(patient=PatientFactory(first_name="Otto", last_name="Others"))
    page = client_for(therapist).get("/").content.decode()
    assert "Visit notes to sign" in page
    assert "Mina Draft" in page
    assert reverse("treatments:note_detail", args=[mine.pk]) in page
    assert "Sid Signed" not in page and "Otto Others" not in page


def test_today_lists_the_oldest_unsigned_notes_in_one_query_however_many(
    therapist, django_assert_num_queries
):

    from treatments import selectors

    start = timezone.now() - dt.timedelta(days=200)
    drafts = []
    for count in (3, 40):
        while len(drafts) < count:
            note = _draft(therapist=therapist)
            VisitNote.objects.filter(pk=note.pk).update(
                visited_at=start + dt.timedelta(days=len(drafts))
            )
            drafts.append(note.pk)
        with django_assert_num_queries(1):
            notes, more = selectors.unsigned_notes_for(therapist, limit=20)
        assert [n.id for n in notes] == drafts[:20]
        first = VisitNote.objects.select_related("patient").get(pk=drafts[0])
        assert notes[0].patient_name == first.patient.full_name
        # SQLite gives moments to the millisecond.
        assert abs(notes[0].visited_at - first.visited_at) < dt.timedelta(milliseconds=1)
        assert more is (count > 20)


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_today_shows_no_notes_to_other_roles(client_for, role_users, role):
    _draft(
        therapist=role_users["therapist"],
        patient=PatientFactory(first_name="Hidden", last_name="Person"),
    )
    page = client_for(role_users[role]).get("/").content.decode()
    assert "Visit notes to sign" not in page and "Hidden Person" not in page


def test_viewing_a_note_is_audited(client_for, therapist):
    note = _draft()
    client_for(therapist).get(reverse("treatments:note_detail", args=[note.pk]))
    assert AuditEvent.objects.filter(
        action="view", actor=therapist, object_type="treatments.visitnote"
    ).exists()


def test_note_page_query_count_is_constant(client_for, therapist, django_assert_num_queries):
    small = _draft(therapist=therapist)
    big = _draft(
        therapist=therapist,
        techniques=[
            {"technique": technique("joint_mobilization"), "grade": "II", "target": "Knee"},
            {"technique": technique("soft_tissue_mobilization"), "minutes": 8, "target": "Calf"},
            {"technique": technique("muscle_energy"), "minutes": 5, "target": "Hip"},
        ],
        exercises_reviewed=[exercise("calf-raises"), exercise("lateral-step-downs")],
    )
    services.visit_note_sign(note=big, acting_user=therapist)
    colleague = TherapistFactory()
    for n in range(3):
        services.visit_note_amend(
            note=big, acting_user=therapist, reason=f"r{n}", changes={"plan": f"p{n}"}
        )
        services.visit_note_addendum_create(note=big, acting_user=colleague, text=f"a{n}")
    client = client_for(therapist)
    for note in (small, big):
        # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 note with patient,
        # therapist, signer, appointment and plan, 6 applied techniques with technique,
        # 7 exercises reviewed, 8 amendments with author, 9 audit insert (view),
        # 10 addenda with author. (No query for the user's groups: the navigation
        # checks permissions.)
        with django_assert_num_queries(10):
            assert client.get(reverse("treatments:note_detail", args=[note.pk])).status_code == 200


def test_today_query_count_is_constant(client_for, therapist, django_assert_num_queries):
    client = client_for(therapist)
    for _ in range(2):
        _draft(therapist=therapist)
        _draft(therapist=therapist)
        # 1 session, 2 user, 3 user permissions and 4 group permissions (which sections
        # and navigation entries to show; no query for the user's groups), then the
        # therapist's sections: 5 their practitioner record with today's visits and
        # patients, 6 the needs-attention list's patients (clinic/attention/selectors.py:
        # none here, so none of its other queries and no audit event), 7 draft
        # assessments, 8 draft notes with patients.
        with django_assert_num_queries(8):
            client.get("/")


def test_another_patients_plan_cannot_be_linked(client_for, therapist):
    from tests.factories import TreatmentPlanFactory

    patient = PatientFactory()
    theirs = TreatmentPlanFactory()
    response = client_for(therapist).post(
        reverse("treatments:note_create", args=[patient.pk]),
        _note_post(treatment_plan=str(theirs.pk)),
    )
    assert "treatment_plan" in response.context["form"].errors
    assert not VisitNote.objects.exists()


def test_unknown_patient_or_note_is_404(client_for, therapist):
    client = client_for(therapist)
    assert client.get(reverse("treatments:note_create", args=[999999])).status_code == 404
    assert client.get(reverse("treatments:note_detail", args=[999999])).status_code == 404


def test_opening_the_edit_and_amendment_forms_is_audited(client_for, therapist):
    draft = _draft(therapist=therapist)
    signed = _draft(therapist=therapist)
    services.visit_note_sign(note=signed, acting_user=therapist)
    client = client_for(therapist)
    client.get(reverse("treatments:note_edit", args=[draft.pk]))
    client.get(reverse("treatments:note_amend", args=[signed.pk]))
    details = set(
        AuditEvent.objects.filter(action="view", actor=therapist).values_list("object_id", "detail")
    )
    assert details == {(str(draft.pk), "edit form"), (str(signed.pk), "amendment form")}


def test_note_form_reminds_of_the_latest_screening(client_for, therapist):
    from tests.treatments.helpers import signed_assessment

    assessment = signed_assessment(precautions=["anticoagulation"])
    page = (
        client_for(therapist)
        .get(reverse("treatments:note_create", args=[assessment.patient_id]))
        .content.decode()
    )
    assert 'id="note-screening"' in page
    assert "Anticoagulant therapy or bleeding disorder: contraindicated" in page
    clean = client_for(therapist).get(reverse("treatments:note_create", args=[PatientFactory().pk]))
    assert 'id="note-screening"' not in clean.content.decode()
