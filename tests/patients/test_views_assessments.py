import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients import services
from patients.models import Assessment, AssessmentAmendment, PainReport
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    return PatientFactory(date_of_birth=dt.date(1975, 8, 20))


@pytest.fixture
def draft(patient, therapist, values):
    return services.assessment_create(
        patient=patient,
        acting_user=therapist,
        values=values(assessed_at=timezone.now().replace(second=0, microsecond=0)),
    )


@pytest.fixture
def signed(draft, therapist):
    return services.assessment_sign(assessment=draft, acting_user=therapist)


def _form_as_post(form) -> dict:
    """What the browser would send back for an untouched form (its initial values)."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            data[name] = ""
        elif isinstance(value, list):
            data[name] = value or ""  # nothing ticked: only the empty marker is sent
        elif isinstance(value, dt.datetime):  # already in the current time zone, naive
            data[name] = value.strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, dt.date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    return data


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_therapist_records_an_assessment_and_the_server_computes_the_scores(
    client_for, therapist, patient, post_data
):
    data = post_data(
        region="ankle",
        ottawa_acute_ankle_injury="True",
        ottawa_midfoot_zone_pain="True",
        ottawa_tenderness_navicular="True",
        knee_to_wall_left_cm="11.0",
        knee_to_wall_right_cm="8.5",
        precautions=["anticoagulation"],
        # The browser cannot choose the result: derived fields are ignored.
        xray_foot_indicated="False",
        lefs_total="80",
    )
    response = client_for(therapist).post(
        reverse("patients:assessment_create", args=[patient.pk]), data
    )
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "patients:assessment_detail", args=[patient.pk, assessment.pk]
    )
    assert assessment.therapist == therapist and assessment.status == "draft"
    assert assessment.lefs_total == 60 and assessment.lefs_percent == 75.0
    assert assessment.xray_foot_indicated and assessment.xray_indicated
    assert not assessment.xray_ankle_indicated
    assert assessment.ottawa_tenderness_navicular is True
    assert assessment.ottawa_malleolar_zone_pain is None  # not examined
    assert assessment.precautions == ["anticoagulation"]
    assert assessment.knee_to_wall_flagged

    page = client_for(therapist).get(response["Location"]).content.decode()
    assert "X-ray indicated" in page and "foot series" in page
    assert "60 / 80" in page and "75.0%" in page
    assert "differs by 2.5 cm" in page


def test_an_incomplete_lefs_is_saved_without_a_total(client_for, therapist, patient, post_data):
    client_for(therapist).post(
        reverse("patients:assessment_create", args=[patient.pk]), post_data(lefs_20="", lefs_3="")
    )
    assessment = Assessment.objects.get()
    assert assessment.lefs_total is None
    assert assessment.lefs_answered == 18


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"pain_now": "11"}, "pain_now"),
        ({"pain_worst": "-1"}, "pain_worst"),
        ({"pain_now": "five"}, "pain_now"),
        ({"pain_best": "8"}, "pain_best"),
        ({"lefs_4": "5"}, "lefs_4"),
        ({"lefs_4": "-1"}, "lefs_4"),
        ({"lefs_4": "x"}, "lefs_4"),
        ({"onset_date": "2026-02-30"}, "onset_date"),
        ({"onset_date": "1900-01-01"}, "onset_date"),
        ({"assessed_at": "2999-01-01T10:00"}, "assessed_at"),
        ({"assessed_at": "not a date"}, "assessed_at"),
        ({"knee_to_wall_left_cm": "45"}, "knee_to_wall_left_cm"),
        ({"knee_flexion_left": "200"}, "knee_flexion_left"),
        ({"region": "elbow"}, "region"),
        ({"suspected_causes": ["broken-heart"]}, "suspected_causes"),
        ({"suspected_causes": ["other"]}, "suspected_cause_other"),
        ({"ottawa_navicular_zone": "maybe", "ottawa_tenderness_navicular": "maybe"}, None),
        ({"clinical_impression": "x" * 1_000_000}, "clinical_impression"),
        ({"aggravating_activities": "x" * 1_000_000}, "aggravating_activities"),
    ],
)
def test_bad_assessment_input_gets_a_form_error_and_saves_nothing(
    client_for, therapist, patient, post_data, overrides, field
):
    response = client_for(therapist).post(
        reverse("patients:assessment_create", args=[patient.pk]), post_data(**overrides)
    )
    if field is None:
        # An unknown tri-state answer is read as "not examined", never a crash.
        assert response.status_code == 302
        assert Assessment.objects.get().ottawa_tenderness_navicular is None
        return
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "nothing was saved" in response.content.decode()
    assert Assessment.objects.count() == 0


def test_a_follow_up_form_starts_from_the_last_assessment(client_for, therapist, signed, patient):
    response = client_for(therapist).get(reverse("patients:assessment_create", args=[patient.pk]))
    form = response.context["form"]
    assert form["kind"].value() == "reassessment"
    assert form["region"].value() == signed.region
    assert form["suspected_causes"].value() == signed.suspected_causes


def test_a_draft_can_be_edited(client_for, therapist, draft, post_data):
    url = reverse("patients:assessment_edit", args=[draft.patient_id, draft.pk])
    form = client_for(therapist).get(url).context["form"]
    assert form["pain_now"].value() == 5 and form["lefs_1"].value() == "3"
    response = client_for(therapist).post(
        url, post_data(pain_now="4", clinical_impression="Revised.")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.pain_now, draft.clinical_impression) == (4, "Revised.")


def test_signing_locks_the_assessment(client_for, therapist, draft):
    client = client_for(therapist)
    response = client.post(
        reverse("patients:assessment_sign", args=[draft.patient_id, draft.pk]), follow=True
    )
    assert "Assessment signed" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_signed and draft.signed_by == therapist
    again = client.post(reverse("patients:assessment_sign", args=[draft.patient_id, draft.pk]))
    assert "already signed" in " ".join(_messages(again))
    assert PainReport.objects.filter(assessment=draft).count() == 1


def test_sign_is_post_only(client_for, therapist, draft):
    url = reverse("patients:assessment_sign", args=[draft.patient_id, draft.pk])
    assert client_for(therapist).get(url).status_code == 405
    draft.refresh_from_db()
    assert not draft.is_signed


def test_editing_a_signed_assessment_is_refused_with_a_clear_message(
    client_for, therapist, signed, post_data
):
    client = client_for(therapist)
    url = reverse("patients:assessment_edit", args=[signed.patient_id, signed.pk])
    before = Assessment.objects.filter(pk=signed.pk).values().get()
    for response in (client.get(url), client.post(url, post_data(pain_now="1", pain_best="0"))):
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "patients:assessment_detail", args=[signed.patient_id, signed.pk]
        )
        assert "signed and locked" in " ".join(_messages(response))
    assert Assessment.objects.filter(pk=signed.pk).values().get() == before
    assert not AuditEvent.objects.filter(action="update", object_id=str(signed.pk)).exists()


def test_an_amendment_keeps_the_original_readable(client_for, therapist, signed):
    client = client_for(therapist)
    url = reverse("patients:assessment_amend", args=[signed.patient_id, signed.pk])
    data = _form_as_post(client.get(url).context["form"])
    data.update(
        pain_now="6", pain_worst="8", reason="Patient corrected the worst pain after the visit."
    )
    response = client.post(url, data)
    assert response.status_code == 302
    amendment = AssessmentAmendment.objects.get()
    assert amendment.author == therapist
    assert amendment.reason == "Patient corrected the worst pain after the visit."
    assert amendment.changes == {
        "pain_now": {"old": 5, "new": 6},
        "pain_worst": {"old": 7, "new": 8},
    }
    page = client.get(
        reverse("patients:assessment_detail", args=[signed.patient_id, signed.pk])
    ).content.decode()
    assert "Patient corrected the worst pain" in page
    assert "The original, as signed" in page
    assert "6 / 8 / 2" in page  # current values
    original = client.get(
        reverse("patients:assessment_detail", args=[signed.patient_id, signed.pk])
    ).context["original"]
    assert ("Pain now (0–10)", "5") in original
    assert ("Worst pain, last 24 h (0–10)", "7") in original
    assert AuditEvent.objects.filter(action="amend", object_id=str(signed.pk)).count() == 1


def test_submitting_the_amend_form_unchanged_records_nothing(client_for, therapist, signed):
    client = client_for(therapist)
    url = reverse("patients:assessment_amend", args=[signed.patient_id, signed.pk])
    data = _form_as_post(client.get(url).context["form"])
    data["reason"] = "Checking"
    response = client.post(url, data)
    assert response.status_code == 302
    assert "Nothing was changed" in " ".join(_messages(response))
    assert AssessmentAmendment.objects.count() == 0


def test_an_amendment_without_a_reason_is_a_form_error(client_for, therapist, signed, post_data):
    url = reverse("patients:assessment_amend", args=[signed.patient_id, signed.pk])
    response = client_for(therapist).post(url, post_data(pain_now="6", pain_worst="8"))
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert AssessmentAmendment.objects.count() == 0
    assert Assessment.objects.get(pk=signed.pk).pain_now == 5


def test_amending_a_draft_sends_the_therapist_to_edit_it(client_for, therapist, draft, post_data):
    url = reverse("patients:assessment_amend", args=[draft.patient_id, draft.pk])
    response = client_for(therapist).post(url, post_data(pain_now="6", reason="x"))
    assert response.status_code == 302
    assert AssessmentAmendment.objects.count() == 0


def test_every_view_create_update_sign_and_amendment_is_audited(
    client_for, therapist, patient, post_data
):
    client = client_for(therapist)
    client.post(reverse("patients:assessment_create", args=[patient.pk]), post_data())
    assessment = Assessment.objects.get()
    args = [patient.pk, assessment.pk]
    client.get(reverse("patients:assessment_detail", args=args))
    client.post(reverse("patients:assessment_edit", args=args), post_data(pain_now="4"))
    client.post(reverse("patients:assessment_sign", args=args))
    client.post(
        reverse("patients:assessment_amend", args=args),
        post_data(pain_now="3", reason="Typo."),
    )
    client.get(reverse("patients:outcomes", args=[patient.pk]))
    client.get(reverse("patients:detail", args=[patient.pk]))
    events = list(
        AuditEvent.objects.filter(patient=patient)
        .order_by("id")
        .values_list("action", "object_type", "actor")
    )
    assessment_type = "patients.assessment"
    assert events == [
        ("create", assessment_type, therapist.pk),
        ("view", assessment_type, therapist.pk),
        ("update", assessment_type, therapist.pk),
        ("sign", assessment_type, therapist.pk),
        ("amend", assessment_type, therapist.pk),
        ("view", "patients.patient", therapist.pk),
        ("view", "patients.patient", therapist.pk),
    ]
    assert all(
        ip == "127.0.0.1"
        for ip in AuditEvent.objects.filter(patient=patient).values_list("ip", flat=True)
    )


def test_outcomes_page_draws_pain_from_every_source_and_flags_change(
    client_for, therapist, patient, values
):
    now = timezone.now()
    first = services.assessment_create(
        patient=patient,
        acting_user=therapist,
        values=values(assessed_at=now - dt.timedelta(days=21), pain_now=7, pain_worst=8),
    )
    services.assessment_sign(assessment=first, acting_user=therapist)
    services.pain_report_create(
        patient=patient, score=6, source="visit", reported_at=now - dt.timedelta(days=10)
    )
    services.pain_report_create(patient=patient, score=4, source="email_link", reported_at=now)
    second = services.assessment_create(
        patient=patient,
        acting_user=therapist,
        values=values(assessed_at=now - dt.timedelta(days=1), pain_now=4, lefs_answers=[4] * 20),
    )
    services.assessment_sign(assessment=second, acting_user=therapist)
    response = client_for(therapist).get(reverse("patients:outcomes", args=[patient.pk]))
    html = response.content.decode()
    assert html.count("<circle") == 6  # 4 pain points + 2 LEFS points
    assert 'class="pt-visit"' in html and 'class="pt-email"' in html
    change = response.context["outcomes"].nprs_change
    assert (change.first, change.latest, change.points) == (7, 4, -3)
    assert "Clinically important improvement" in html
    assert "60 → 80" in html
    assert "<script" not in html.split("</main>")[0]  # the chart needs no JavaScript


def test_archived_patients_get_no_new_assessment(client_for, therapist, patient, post_data):
    services.patient_archive(patient=patient)
    response = client_for(therapist).post(
        reverse("patients:assessment_create", args=[patient.pk]), post_data()
    )
    assert response.status_code == 302
    assert Assessment.objects.count() == 0


def test_the_edit_form_shows_stored_ottawa_findings_and_lefs_answers(
    client_for, therapist, patient, values
):
    draft = services.assessment_create(
        patient=patient,
        acting_user=therapist,
        values=values(
            ottawa_acute_ankle_injury=True,
            ottawa_malleolar_zone_pain=True,
            ottawa_tenderness_navicular=False,
            lefs_answers=[None] + [2] * 19,
        ),
    )
    form = (
        client_for(therapist)
        .get(reverse("patients:assessment_edit", args=[patient.pk, draft.pk]))
        .context["form"]
    )
    assert form["ottawa_malleolar_zone_pain"].value() is True
    assert form["ottawa_tenderness_navicular"].value() is False
    assert form["ottawa_midfoot_zone_pain"].value() is None
    assert form["lefs_1"].value() == "" and form["lefs_2"].value() == "2"


def test_amendment_history_uses_labels_a_person_reads(client_for, therapist, signed, values):
    services.assessment_amend(
        assessment=signed,
        values=values(
            assessed_at=signed.assessed_at,
            suspected_causes=["arthritis", "tendinitis"],
            ottawa_acute_ankle_injury=True,
            ottawa_midfoot_zone_pain=False,
        ),
        reason="Added tendinitis.",
        acting_user=therapist,
    )
    response = client_for(therapist).get(
        reverse("patients:assessment_detail", args=[signed.patient_id, signed.pk])
    )
    ((amendment, rows),) = response.context["history"]
    assert (
        "Suspected causes",
        "Joint damage (arthritis)",
        "Joint damage (arthritis), Tendinitis",
    ) in rows
    assert ("Pain in the midfoot zone", "—", "No") in rows
    assert ("Suspected causes", "Joint damage (arthritis)") in response.context["original"]


def test_opening_a_prefilled_form_is_audited_as_a_view(client_for, therapist, signed, draft):
    client = client_for(therapist)
    client.get(reverse("patients:assessment_amend", args=[signed.patient_id, signed.pk]))
    client.get(reverse("patients:assessment_create", args=[signed.patient_id]))
    details = list(
        AuditEvent.objects.filter(action="view", object_id=str(signed.pk))
        .order_by("id")
        .values_list("detail", flat=True)
    )
    assert details == ["amend form", "new assessment form, pre-filled from this one"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"reason": "x" * 1_000_000, "pain_now": "6", "pain_worst": "8"},
        {"reason": "ok", "pain_now": "99"},
    ],
)
def test_bad_amendments_get_form_errors_and_change_nothing(
    client_for, therapist, signed, post_data, overrides
):
    url = reverse("patients:assessment_amend", args=[signed.patient_id, signed.pk])
    before = Assessment.objects.filter(pk=signed.pk).values().get()
    response = client_for(therapist).post(url, post_data(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Assessment.objects.filter(pk=signed.pk).values().get() == before
    assert AssessmentAmendment.objects.count() == 0
