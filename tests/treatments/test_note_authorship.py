"""Who may change whose visit note, plan and program (docs/decisions.md, "Who may change
whose clinical record"): the author amends their signed note, a colleague adds an
addendum; closing a colleague's plan or ending their program is allowed and audited."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from tests.factories import HomeExerciseProgramFactory, PatientFactory, TherapistFactory
from tests.treatments.helpers import signed_assessment
from treatments import services
from treatments.models import PlanStatus, ProgramStatus, VisitNote, VisitNoteAddendum

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(therapist):
    return therapist


@pytest.fixture
def colleague():
    return TherapistFactory(first_name="Colin", last_name="League")


@pytest.fixture
def signed(author):
    note = services.visit_note_create(
        patient=PatientFactory(),
        acting_user=author,
        visited_at=timezone.now(),
        subjective="Original words.",
    )
    return services.visit_note_sign(note=note, acting_user=author)


def _url(name, note):
    return reverse(f"treatments:{name}", args=[note.pk])


AMEND = {"subjective": "Colleague's words.", "objective": "", "assessment": "", "plan": ""}


# Amending: the author's alone.


def test_other_therapist_cannot_amend_a_colleagues_signed_note(client_for, signed, colleague):
    client = client_for(colleague)
    assert client.get(_url("note_amend", signed)).status_code == 403
    response = client.post(_url("note_amend", signed), {**AMEND, "reason": "I disagree."})
    assert response.status_code == 403
    assert not signed.amendments.exists()
    assert not AuditEvent.objects.filter(action="amend").exists()


def test_service_refuses_an_amendment_by_another_therapist(signed, colleague):
    with pytest.raises(PermissionDenied, match="add an addendum"):
        services.visit_note_amend(
            note=signed, acting_user=colleague, reason="Mine", changes={"subjective": "New"}
        )
    assert not signed.amendments.exists()


def test_service_refuses_note_edit_and_sign_by_another_therapist(author, colleague):
    draft = services.visit_note_create(
        patient=PatientFactory(), acting_user=author, visited_at=timezone.now(), subjective="Mine."
    )
    with pytest.raises(PermissionDenied, match="Only the author can change"):
        services.visit_note_update(note=draft, acting_user=colleague, subjective="Theirs.")
    with pytest.raises(PermissionDenied, match="Only the author can sign"):
        services.visit_note_sign(note=draft, acting_user=colleague)
    draft.refresh_from_db()
    assert (draft.subjective, draft.status, draft.signed_by) == ("Mine.", "draft", None)


def test_author_still_amends_their_signed_note(client_for, signed, author):
    response = client_for(author).post(
        _url("note_amend", signed), {**AMEND, "reason": "Wrong knee recorded."}
    )
    assert response.status_code == 302
    assert signed.amendments.get().author == author


def test_note_page_shows_amend_to_the_author_only_and_addendum_to_every_therapist(
    client_for, signed, author, colleague
):
    mine = client_for(author).get(_url("note_detail", signed)).content.decode()
    assert _url("note_amend", signed) in mine and _url("note_addendum", signed) in mine
    theirs = client_for(colleague).get(_url("note_detail", signed)).content.decode()
    assert _url("note_amend", signed) not in theirs
    assert _url("note_addendum", signed) in theirs


# Addenda.


def test_colleague_adds_an_addendum_shown_in_order_with_author_and_time(
    client_for, signed, author, colleague
):
    client = client_for(colleague)
    assert client.get(_url("note_addendum", signed)).status_code == 200
    assert AuditEvent.objects.filter(
        action="view", actor=colleague, object_id=str(signed.pk), detail="addendum form"
    ).exists()
    response = client.post(_url("note_addendum", signed), {"text": "Covered the visit after."})
    assert response.status_code == 302
    assert response["Location"] == _url("note_detail", signed)
    client_for(author).post(_url("note_addendum", signed), {"text": "Late entry by author."})
    addenda = list(VisitNoteAddendum.objects.order_by("created_at", "id"))
    assert [(a.note_id, a.author, a.text) for a in addenda] == [
        (signed.pk, colleague, "Covered the visit after."),
        (signed.pk, author, "Late entry by author."),
    ]
    stored = VisitNote.objects.get(pk=signed.pk)
    assert (stored.subjective, stored.signed_by) == ("Original words.", author)
    assert not stored.amendments.exists()
    event = AuditEvent.objects.get(
        action="create", object_type="treatments.visitnoteaddendum", actor=colleague
    )
    assert (event.patient_id, event.object_id) == (signed.patient_id, str(addenda[0].pk))
    assert author.username in event.detail
    page = client.get(_url("note_detail", signed)).content.decode()
    assert page.index("Covered the visit after.") < page.index("Late entry by author.")
    assert "Colin League" in page
    assert timezone.localtime(addenda[0].created_at).strftime("%-d %b %Y, %H:%M") in page


def test_addendum_needs_text_and_changes_nothing_without_it(client_for, signed, colleague):
    response = client_for(colleague).post(_url("note_addendum", signed), {"text": " "})
    assert response.status_code == 200
    assert response.context["form"].errors["text"]
    with pytest.raises(ValidationError):
        services.visit_note_addendum_create(note=signed, acting_user=colleague, text="")
    assert not VisitNoteAddendum.objects.exists()


def test_a_draft_note_takes_no_addendum(client_for, author, colleague):
    draft = services.visit_note_create(
        patient=PatientFactory(), acting_user=author, visited_at=timezone.now(), subjective="x"
    )
    response = client_for(colleague).post(_url("note_addendum", draft), {"text": "Early"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "This note is a draft: only a signed note takes addenda."
    ]
    with pytest.raises(ValidationError, match="draft"):
        services.visit_note_addendum_create(note=draft, acting_user=colleague, text="Early")
    assert not VisitNoteAddendum.objects.exists()


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_non_clinicians_cannot_open_or_add_a_note_addendum(client_for, role_users, signed, role):
    client = client_for(role_users[role])
    assert client.get(_url("note_addendum", signed)).status_code == 403
    assert client.post(_url("note_addendum", signed), {"text": "x"}).status_code == 403
    assert not VisitNoteAddendum.objects.exists()


def test_anonymous_visitors_are_sent_to_login_from_the_addendum_page(client_for, signed):
    response = client_for(None).post(_url("note_addendum", signed), {"text": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not VisitNoteAddendum.objects.exists()


# Plans and programs: a colleague may close or end them, and the audit log says so.


def test_colleague_closes_a_plan_and_the_audit_says_whose_it_was(client_for, author, colleague):
    plan = services.treatment_plan_create(
        patient=(assessment := signed_assessment(therapist=author)).patient,
        assessment=assessment,
        acting_user=author,
        goals="Stairs.",
        visits_per_week=2,
        weeks=6,
        start_date=timezone.localdate(),
        techniques=[],
    )
    response = client_for(colleague).post(
        reverse("treatments:plan_close", args=[plan.pk]),
        {"status": "discontinued", "reason": "Moved to another clinic."},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DISCONTINUED
    event = AuditEvent.objects.get(action="update", object_id=str(plan.pk))
    assert event.actor == colleague
    assert event.detail == f"plan discontinued; a colleague's plan (therapist {author.username})"


def test_own_plan_closing_is_audited_without_a_colleague_note(author):
    assessment = signed_assessment(therapist=author)
    plan = services.treatment_plan_create(
        patient=assessment.patient,
        assessment=assessment,
        acting_user=author,
        goals="Stairs.",
        visits_per_week=2,
        weeks=6,
        start_date=timezone.localdate(),
        techniques=[],
    )
    services.treatment_plan_close(plan=plan, status="completed", reason="", acting_user=author)
    assert AuditEvent.objects.get(action="update", object_id=str(plan.pk)).detail == (
        "plan completed"
    )


def test_colleague_ends_a_program_and_the_audit_says_whose_it_was(client_for, author, colleague):
    program = HomeExerciseProgramFactory(prescribed_by=author)
    response = client_for(colleague).post(reverse("treatments:program_end", args=[program.pk]))
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.status == ProgramStatus.ENDED
    event = AuditEvent.objects.get(action="update", object_id=str(program.pk))
    assert event.actor == colleague
    assert event.detail == f"program ended; a colleague's program (prescribed by {author.username})"
