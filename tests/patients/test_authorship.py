"""Who may change whose assessment (docs/decisions.md, "Who may change whose clinical
record"): only the author edits, signs and amends; any clinician adds an addendum to a
signed assessment under their own name."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients import services
from patients.models import Assessment, AssessmentAddendum, AssessmentAmendment, PainReport
from tests.factories import PatientFactory, TherapistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(therapist):
    return therapist


@pytest.fixture
def colleague():
    return TherapistFactory(first_name="Colin", last_name="League")


@pytest.fixture
def draft(author, values):
    return services.assessment_create(
        patient=PatientFactory(),
        acting_user=author,
        values=values(
            assessed_at=timezone.now().replace(second=0, microsecond=0),
            clinical_impression="Author's impression.",
        ),
    )


@pytest.fixture
def signed(draft, author):
    return services.assessment_sign(assessment=draft, acting_user=author)


def _url(name, assessment):
    return reverse(f"patients:{name}", args=[assessment.patient_id, assessment.pk])


def _stored(assessment) -> dict:
    row = Assessment.objects.get(pk=assessment.pk)
    return {
        "status": row.status,
        "signed_by": row.signed_by_id,
        "pain_now": row.pain_now,
        "clinical_impression": row.clinical_impression,
        "updated_at": row.updated_at,
    }


# Drafts: the author's alone.


def test_other_therapist_cannot_edit_draft_assessment(client_for, draft, colleague, post_data):
    before = _stored(draft)
    client = client_for(colleague)
    assert client.get(_url("assessment_edit", draft)).status_code == 403
    response = client.post(
        _url("assessment_edit", draft), post_data(pain_now="6", clinical_impression="Hijack")
    )
    assert response.status_code == 403
    assert _stored(draft) == before
    assert not AuditEvent.objects.filter(action="update", actor=colleague).exists()


def test_other_therapist_cannot_sign_draft_assessment(client_for, draft, colleague):
    response = client_for(colleague).post(_url("assessment_sign", draft))
    assert response.status_code == 403
    draft.refresh_from_db()
    assert (draft.status, draft.signed_by_id, draft.signed_at) == ("draft", None, None)
    assert not PainReport.objects.exists()
    assert not AuditEvent.objects.filter(action="sign").exists()


def test_author_still_edits_and_signs_their_draft(client_for, draft, author, post_data):
    client = client_for(author)
    assert client.post(_url("assessment_edit", draft), post_data(pain_now="6")).status_code == 302
    assert client.post(_url("assessment_sign", draft)).status_code == 302
    draft.refresh_from_db()
    assert (draft.pain_now, draft.status, draft.signed_by) == (6, "signed", author)


def test_service_refuses_edit_and_sign_by_another_therapist(draft, colleague, values):
    before = _stored(draft)
    with pytest.raises(services.NotTheAuthor, match="Only the author can edit"):
        services.assessment_update(
            assessment=draft, values=values(pain_now=6), acting_user=colleague
        )
    with pytest.raises(PermissionDenied, match="Only the author can sign"):
        services.assessment_sign(assessment=draft, acting_user=colleague)
    assert _stored(draft) == before
    assert not PainReport.objects.exists()


def test_other_therapist_sees_no_edit_or_sign_button_on_a_draft(client_for, draft, colleague):
    page = client_for(colleague).get(_url("assessment_detail", draft)).content.decode()
    assert _url("assessment_edit", draft) not in page
    assert _url("assessment_sign", draft) not in page
    assert _url("assessment_addendum", draft) not in page
    assert "Only the author can edit or sign this draft." in page


def test_author_sees_edit_and_sign_buttons(client_for, draft, author):
    page = client_for(author).get(_url("assessment_detail", draft)).content.decode()
    assert _url("assessment_edit", draft) in page
    assert _url("assessment_sign", draft) in page


# Signed: the author amends, colleagues add addenda.


def test_other_therapist_cannot_amend_a_signed_assessment(client_for, signed, colleague, post_data):
    before = _stored(signed)
    client = client_for(colleague)
    assert client.get(_url("assessment_amend", signed)).status_code == 403
    response = client.post(
        _url("assessment_amend", signed), post_data(pain_now="6", reason="I saw it differently")
    )
    assert response.status_code == 403
    assert _stored(signed) == before
    assert not AssessmentAmendment.objects.exists()


def test_service_refuses_an_amendment_by_another_therapist(signed, colleague, values):
    with pytest.raises(services.NotTheAuthor, match="add an addendum"):
        services.assessment_amend(
            assessment=signed, values=values(pain_now=6), reason="Mine now", acting_user=colleague
        )
    assert not AssessmentAmendment.objects.exists()
    assert Assessment.objects.get(pk=signed.pk).pain_now == 5


def test_signed_page_shows_amend_to_the_author_and_addendum_to_everyone(
    client_for, signed, author, colleague
):
    mine = client_for(author).get(_url("assessment_detail", signed)).content.decode()
    assert _url("assessment_amend", signed) in mine
    assert _url("assessment_addendum", signed) in mine
    theirs = client_for(colleague).get(_url("assessment_detail", signed)).content.decode()
    assert _url("assessment_amend", signed) not in theirs
    assert _url("assessment_addendum", signed) in theirs


def test_colleague_adds_an_addendum_shown_in_order_with_author_and_time(
    client_for, signed, author, colleague
):
    client = client_for(colleague)
    form = client.get(_url("assessment_addendum", signed))
    assert form.status_code == 200
    assert AuditEvent.objects.filter(
        action="view", actor=colleague, object_id=str(signed.pk), detail="addendum form"
    ).exists()
    response = client.post(_url("assessment_addendum", signed), {"text": "Seen at follow-up."})
    assert response.status_code == 302
    assert response["Location"] == _url("assessment_detail", signed)
    client_for(author).post(_url("assessment_addendum", signed), {"text": "Author's late entry."})
    addenda = list(AssessmentAddendum.objects.order_by("created_at", "id"))
    assert [(a.author, a.text) for a in addenda] == [
        (colleague, "Seen at follow-up."),
        (author, "Author's late entry."),
    ]
    # The signed record itself is unchanged.
    stored = Assessment.objects.get(pk=signed.pk)
    assert (stored.clinical_impression, stored.signed_by) == ("Author's impression.", author)
    event = AuditEvent.objects.get(
        action="create", object_type="patients.assessmentaddendum", actor=colleague
    )
    assert event.patient_id == signed.patient_id
    assert event.object_id == str(addenda[0].pk)
    assert author.username in event.detail
    page = client_for(colleague).get(_url("assessment_detail", signed)).content.decode()
    first, second = page.index("Seen at follow-up."), page.index("Author&#x27;s late entry.")
    assert first < second
    assert "Colin League" in page
    assert timezone.localtime(addenda[0].created_at).strftime("%-d %b %Y, %H:%M") in page


def test_addendum_needs_text_and_changes_nothing_without_it(client_for, signed, colleague):
    response = client_for(colleague).post(_url("assessment_addendum", signed), {"text": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors["text"]
    assert not AssessmentAddendum.objects.exists()
    with pytest.raises(ValidationError):
        services.assessment_addendum_create(assessment=signed, acting_user=colleague, text="")


def test_a_draft_takes_no_addendum(client_for, draft, colleague):
    response = client_for(colleague).post(_url("assessment_addendum", draft), {"text": "Early"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "This assessment is a draft: only a signed assessment takes addenda."
    ]
    with pytest.raises(services.AssessmentNotSigned):
        services.assessment_addendum_create(assessment=draft, acting_user=colleague, text="Early")
    assert not AssessmentAddendum.objects.exists()


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_non_clinicians_cannot_open_or_add_an_addendum(client_for, role_users, signed, role):
    client = client_for(role_users[role])
    url = _url("assessment_addendum", signed)
    assert client.get(url).status_code == 403
    assert client.post(url, {"text": "x"}).status_code == 403
    assert not AssessmentAddendum.objects.exists()


@pytest.mark.parametrize("name", ["assessment_addendum", "assessment_edit", "assessment_sign"])
def test_anonymous_visitors_are_sent_to_login(client_for, signed, name):
    url = _url(name, signed)
    response = client_for(None).post(url, {"text": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not AssessmentAddendum.objects.exists()
