"""The needs-attention page, its Today section and acknowledgements: who may see them,
what is audited, bad input, and a query count that does not grow with the data."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AttentionAcknowledgement, AttentionReason, AuditEvent
from tests.factories import (
    AppointmentFactory,
    ExerciseCompletionFactory,
    HomeExerciseProgramFactory,
    PainReportFactory,
    TherapistFactory,
)
from tests.treatments.helpers import signed_assessment

from .test_rules import past_visit, patient_of

pytestmark = pytest.mark.django_db

LIST = reverse("attention:list")
ACK = reverse("attention:acknowledge")


def new_events(before):
    return list(AuditEvent.objects.exclude(pk__in=before).order_by("pk"))


def event_ids():
    return set(AuditEvent.objects.values_list("pk", flat=True))


def acknowledge(client, patient, reason, note="Phoned: flare-up after a long walk."):
    return client.post(ACK, {"patient": patient.pk, "reason": reason, "note": note})


def test_the_page_lists_the_patient_with_why_and_a_link(client_for, therapist):
    patient = patient_of(therapist)
    PainReportFactory(patient=patient, score=9)
    response = client_for(therapist).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert patient.full_name in html
    assert reverse("patients:detail", args=[patient.pk]) in html
    assert "Pain 9/10 reported on" in html
    assert 'name="note"' in html


def test_opening_the_page_is_audited_with_the_patients_shown(client_for, therapist):
    patient = patient_of(therapist, next_visit=False)
    client = client_for(therapist)
    before = event_ids()
    client.get(LIST)
    (event,) = new_events(before)
    assert (event.action, event.actor, event.object_type) == ("view", therapist, "clinic.attention")
    assert str(patient.pk) in event.clinical_detail
    assert patient.full_name not in event.detail


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_front_desk_and_managers_are_refused_and_the_refusal_is_audited(
    client_for, role_users, role
):
    therapist = role_users["therapist"]
    patient = patient_of(therapist, next_visit=False)
    client = client_for(role_users[role])
    before = event_ids()
    assert client.get(LIST).status_code == 403
    assert acknowledge(client, patient, AttentionReason.NO_NEXT_VISIT).status_code == 403
    assert [e.action for e in new_events(before)] == ["access_denied", "access_denied"]
    assert not AttentionAcknowledgement.objects.exists()
    today = client.get(reverse("today")).content.decode()
    assert "Needs attention" not in today and patient.full_name not in today


def test_anonymous_visitors_are_sent_to_login(client):
    for response in (client.get(LIST), client.post(ACK, {})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_today_shows_the_therapists_list_and_audits_it(client_for, therapist):
    patient = patient_of(therapist, next_visit=False)
    other = patient_of(TherapistFactory(), next_visit=False)
    client = client_for(therapist)
    before = event_ids()
    html = client.get(reverse("today")).content.decode()
    assert 'data-section="needs-attention"' in html
    assert patient.full_name in html and other.full_name not in html
    assert "No next visit booked" in html
    events = [e for e in new_events(before) if e.object_type == "clinic.attention"]
    assert len(events) == 1 and "today" in events[0].detail


def test_acknowledging_hides_the_reason_until_newer_data_raises_it(client_for, therapist):
    patient = patient_of(therapist)
    PainReportFactory(patient=patient, score=8, reported_at=timezone.now() - dt.timedelta(days=1))
    client = client_for(therapist)
    before = event_ids()
    response = acknowledge(client, patient, AttentionReason.PAIN_HIGH)
    assert response.status_code == 302
    ack = AttentionAcknowledgement.objects.get()
    assert (ack.patient, ack.reason, ack.acknowledged_by) == (
        patient,
        AttentionReason.PAIN_HIGH,
        therapist,
    )
    assert ack.summary.startswith("Pain 8/10 reported on")
    assert ack.note == "Phoned: flare-up after a long walk."
    (event,) = new_events(before)
    assert (event.action, event.patient, event.object_id) == ("create", patient, str(ack.pk))
    assert "Phoned" in event.clinical_detail and "Phoned" not in event.detail
    assert patient.full_name not in client.get(LIST).content.decode()

    PainReportFactory(patient=patient, score=7)
    html = client.get(LIST).content.decode()
    assert patient.full_name in html and "Pain 7/10 reported on" in html


def test_an_acknowledged_missed_visits_reason_returns_with_a_newer_missed_visit(
    client_for, therapist
):
    patient = patient_of(therapist)
    past_visit(patient, therapist, 6, "no_show")
    past_visit(patient, therapist, 4, "no_show")
    client = client_for(therapist)
    acknowledge(client, patient, AttentionReason.MISSED_VISITS)
    assert patient.full_name not in client.get(LIST).content.decode()
    past_visit(patient, therapist, 2, "cancelled", late=True)
    assert "Missed the last 2 visits" in client.get(LIST).content.decode()


def test_acknowledging_one_reason_leaves_the_others(client_for, therapist):
    patient = patient_of(therapist, next_visit=False)
    today = timezone.localdate()
    program = HomeExerciseProgramFactory(
        patient=patient, prescribed_by=therapist, start_date=today - dt.timedelta(days=20)
    )
    ExerciseCompletionFactory(program=program, date=today - dt.timedelta(days=9))
    client = client_for(therapist)
    acknowledge(client, patient, AttentionReason.NO_NEXT_VISIT)
    html = client.get(LIST).content.decode()
    assert "No exercise marked done for 9 days" in html
    assert "no next visit booked" not in html
    # A visit booked and then past: the plan is without a next visit again, newer data.
    AppointmentFactory(
        patient=patient,
        practitioner=therapist.practitioner,
        starts_at=timezone.now() - dt.timedelta(days=1),
        status="completed",
    )
    assert "no next visit booked (last visit on" in client.get(LIST).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "pain_high", "note": ""}, "Note: This field is required."),
        ({"reason": "pain_high", "note": "   "}, "Note: This field is required."),
        ({"reason": "pain_high", "note": "x" * 501}, "at most 500 characters"),
        ({"reason": "pain_high", "note": "a\x00b"}, "Null characters are not allowed."),
        ({"reason": "nonsense", "note": "ok"}, "Select a valid choice."),
        ({"reason": "pain_high", "note": "ok", "patient": "abc"}, "Enter a valid record number."),
        ({"reason": "pain_high", "note": "ok", "patient": "9" * 30}, "No record has this number."),
        ({"reason": "pain_high", "note": "ok", "patient": "999999"}, "not on your needs-attention"),
        ({"reason": "lefs_fall", "note": "ok"}, "not on your needs-attention list"),
        ({"reason": "pain_high", "note": "ok", "patient": "other"}, "not on your needs-attention"),
    ],
)
def test_bad_input_on_acknowledge_gives_a_message_and_stores_nothing(
    client_for, therapist, data, message
):
    patient = patient_of(therapist)
    PainReportFactory(patient=patient, score=9)
    other = patient_of(TherapistFactory())
    PainReportFactory(patient=other, score=9)
    posted = {"patient": str(patient.pk), **data}
    if posted["patient"] == "other":
        posted["patient"] = str(other.pk)
    response = client_for(therapist).post(ACK, posted, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not acknowledged." in html
    assert message.replace("'", "&#x27;") in html or message in html
    assert not AttentionAcknowledgement.objects.exists()


def _history(therapist, patients: int, depth: int) -> None:
    """``patients`` patients of ``therapist``, each with ``depth`` rows of every kind."""
    today = timezone.localdate()
    for _ in range(patients):
        patient = patient_of(therapist, next_visit=False)
        program = HomeExerciseProgramFactory(
            patient=patient, prescribed_by=therapist, start_date=today - dt.timedelta(days=60)
        )
        for day in range(depth):
            PainReportFactory(
                patient=patient,
                score=(day * 3) % 11,
                reported_at=timezone.now() - dt.timedelta(days=day + 1),
            )
            signed_assessment(
                therapist=therapist,
                patient=patient,
                lefs_total=40 + (day * 7) % 30,
                assessed_at=timezone.now() - dt.timedelta(days=day + 1),
            )
            past_visit(patient, therapist, day + 2, "no_show")
            ExerciseCompletionFactory(program=program, date=today - dt.timedelta(days=day + 10))
        PatientAck = AttentionAcknowledgement  # noqa: N806 - one acknowledgement each
        PatientAck.objects.create(
            patient=patient,
            reason=AttentionReason.NO_NEXT_VISIT,
            trigger_key="plan:0:after:None",
            summary="old",
            note="old",
            acknowledged_by=therapist,
        )


# Session, user, its two permission queries; the list's one query (the caseload's
# first patients by name and the rules for them); the audit event.
PAGE_QUERIES = 6
TODAY_QUERIES = 9


@pytest.mark.parametrize(("patients", "depth"), [(2, 1), (12, 5)])
def test_the_page_runs_the_same_queries_whatever_the_data(
    client_for, therapist, django_assert_num_queries, patients, depth
):
    _history(therapist, patients, depth)
    client = client_for(therapist)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(LIST)
    assert len(response.context["rows"]) == patients


@pytest.mark.parametrize(("patients", "depth"), [(2, 1), (12, 5)])
def test_today_runs_the_same_queries_whatever_the_data(
    client_for, therapist, django_assert_num_queries, patients, depth
):
    _history(therapist, patients, depth)
    client = client_for(therapist)
    # Session, user, two permission queries; practitioner with today's visits; the list's
    # one query and its audit event; draft assessments; draft notes.
    with django_assert_num_queries(TODAY_QUERIES):
        response = client.get(reverse("today"))
    assert response.content.decode().count('data-patient="') == min(patients, 5)


def test_the_page_shows_25_rows_and_the_next_pages_continue_by_name(
    client_for, therapist, django_assert_num_queries
):
    """No page lists the whole caseload: each shows 25 patients by name and links to the
    next, which continues after its last row; every page costs the same queries and its
    audit event names only the patients it shows."""
    for n in range(52):
        patient = patient_of(therapist, next_visit=False)
        patient.last_name = f"Page{n:03d}"
        patient.save(update_fields=["last_name"])
    client = client_for(therapist)
    seen = []
    url = LIST
    for expected in (25, 25, 2):
        before = event_ids()
        with django_assert_num_queries(PAGE_QUERIES):
            response = client.get(url)
        rows = response.context["rows"]
        assert len(rows) == expected
        seen += [row.name.split()[-1] for row in rows]
        (event,) = new_events(before)
        assert event.clinical_detail == "patients " + ", ".join(str(r.patient_id) for r in rows)
        html = response.content.decode()
        if url != LIST:
            assert f'href="{LIST}"' in html  # back to the first patients
        if expected == 25:
            url = LIST + f"?after={rows[-1].patient_id}"
            assert f'href="?after={rows[-1].patient_id}"' in html
        else:
            assert "data-next-page" not in html
    assert seen == [f"Page{n:03d}" for n in range(52)]
    assert "More than 25 patients." in client.get(LIST).content.decode()


@pytest.mark.parametrize("after", ["abc", "-3", "", "1" * 40, "٣"])
def test_a_bad_page_address_shows_the_first_page(client_for, therapist, after):
    first = patient_of(therapist, next_visit=False)
    response = client_for(therapist).get(LIST, {"after": after})
    assert response.status_code == 200
    assert [row.patient_id for row in response.context["rows"]] == [first.pk]


def test_a_page_after_an_unknown_patient_is_empty_not_an_error(client_for, therapist):
    patient_of(therapist, next_visit=False)
    response = client_for(therapist).get(LIST, {"after": "999999999"})
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert "No more of your patients need attention." in response.content.decode()


def test_acknowledging_on_a_later_page_returns_to_that_page(client_for, therapist):
    patients = []
    for n in range(27):
        patient = patient_of(therapist, next_visit=False)
        patient.last_name = f"Ack{n:03d}"
        patient.save(update_fields=["last_name"])
        patients.append(patient)
    client = client_for(therapist)
    after = patients[24].pk
    html = client.get(LIST, {"after": after}).content.decode()
    assert f'<input type="hidden" name="after" value="{after}">' in html
    response = client.post(
        ACK,
        {
            "patient": patients[25].pk,
            "reason": AttentionReason.NO_NEXT_VISIT,
            "note": "Rang: booking next week.",
            "after": after,
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{LIST}?after={after}"
    assert [row.patient_id for row in client.get(response["Location"]).context["rows"]] == [
        patients[26].pk
    ]


def test_the_page_checks_the_first_patients_by_name_and_says_when_more_wait(
    client_for, therapist, django_assert_num_queries
):
    """The rules run for the first patients by name, enough for the page (one pass),
    and the page says more wait rather than counting the whole caseload."""
    for n in range(120):
        patient = patient_of(therapist, next_visit=False)
        patient.last_name = f"Zed{n:03d}"
        patient.save(update_fields=["last_name"])
    client = client_for(therapist)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(LIST)
    rows = response.context["rows"]
    assert [row.name.split()[-1] for row in rows] == [f"Zed{n:03d}" for n in range(25)]
    assert "More than 25 patients." in response.content.decode()
    with django_assert_num_queries(TODAY_QUERIES):
        today = client.get(reverse("today")).content.decode()
    assert today.count('data-patient="') == 5
    assert "More than 5 of your patients need attention" in today


def _first_by_name_with_nothing_to_see(therapist, count):
    """``count`` patients first by name ("Aaa000"...), each with a next visit booked (one
    after another from tomorrow): nothing needs attention."""
    tomorrow = (timezone.now() + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    for n in range(count):
        patient = patient_of(therapist, next_visit=False)
        patient.last_name = f"Aaa{n:03d}"
        patient.save(update_fields=["last_name"])
        starts = tomorrow + dt.timedelta(minutes=30 * n)
        AppointmentFactory(
            patient=patient,
            practitioner=therapist.practitioner,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=30),
        )


def test_a_caseload_mostly_without_reasons_is_checked_to_the_end(
    client_for, therapist, django_assert_num_queries
):
    """When the first patients by name need nothing, the rest are checked too (a second
    pass), so nobody who needs attention is left off the list."""
    _first_by_name_with_nothing_to_see(therapist, 30)
    late = patient_of(therapist, next_visit=False)
    late.last_name = "Zulu"
    late.save(update_fields=["last_name"])
    client = client_for(therapist)
    with django_assert_num_queries(PAGE_QUERIES):  # 31 patients: all in the first pass
        response = client.get(LIST)
    assert [row.patient_id for row in response.context["rows"]] == [late.pk]
    assert "1 patient." in response.content.decode()
    # Today checks 20 patients first (5 rows wanted), then the rest: one query more.
    with django_assert_num_queries(TODAY_QUERIES + 1):
        today = client.get(reverse("today")).content.decode()
    assert today.count('data-patient="') == 1
    assert "1 of your patients needs attention" in today


def test_the_rows_markup_escapes_names_and_keeps_one_form_per_reason(client_for, therapist):
    """The rows are made by the view as one fragment (views._rows_html): a name is
    escaped, and each reason still has its own acknowledge form."""
    patient = patient_of(therapist, next_visit=False)
    patient.last_name = "<b>O'Brien</b>"
    patient.save(update_fields=["last_name"])
    html = client_for(therapist).get(LIST).content.decode()
    assert "<b>O'Brien</b>" not in html
    assert "&lt;b&gt;O&#x27;Brien&lt;/b&gt;" in html
    assert f'data-patient="{patient.pk}"' in html
    assert 'data-reason="no_next_visit"' in html
    assert html.count('name="note"') == 1
    form = html[html.index('action="/attention/acknowledge/"') :]
    assert 'name="csrfmiddlewaretoken"' in form[: form.index("</form>")]
    assert f'<input type="hidden" name="patient" value="{patient.pk}">' in html


def test_today_finds_its_rows_in_one_pass_when_few_of_the_first_patients_need_nothing(
    client_for, therapist, django_assert_num_queries
):
    """Today's first pass checks enough patients for its rows at the share of a real
    caseload: here the first 10 by name need nothing and the next 11 do, so 12 patients
    checked would find 2 and need a second pass; the first pass (20) finds them all."""
    _first_by_name_with_nothing_to_see(therapist, 10)
    flagged = []
    for n in range(11):
        patient = patient_of(therapist, next_visit=False)
        patient.last_name = f"Bbb{n:03d}"
        patient.save(update_fields=["last_name"])
        flagged.append(patient.pk)
    client = client_for(therapist)
    with django_assert_num_queries(TODAY_QUERIES):
        today = client.get(reverse("today")).content.decode()
    assert [int(pid) for pid in re.findall(r'data-patient="(\d+)"', today)] == flagged[:5]
    assert "More than 5 of your patients need attention" in today
