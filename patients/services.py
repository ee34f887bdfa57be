"""Writes for the patient registry and the clinical record.

Every write of a clinical record writes an audit event through
``patients.audit.audit_record`` inside the same transaction, so a change and its audit
row are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from . import clinical, localtime
from .audit import AuditAction, audit_record
from .models import (
    Assessment,
    AssessmentAddendum,
    AssessmentAmendment,
    PainQuality,
    PainReport,
    PainSource,
    Patient,
    Precaution,
    QuestionnaireInstrument,
    QuestionnaireResponse,
    QuestionnaireStatus,
    RecordStatus,
    SuspectedCause,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class AssessmentLocked(ValidationError):
    """The assessment is signed: it can only be amended, never edited."""


class AssessmentNotSigned(ValidationError):
    """Amendments are for signed assessments; a draft is edited directly."""


class NotTheAuthor(PermissionDenied):
    """Only a clinical record's author edits, signs or amends it; colleagues add an
    addendum instead (docs/decisions.md, "Who may change whose clinical record").
    A PermissionDenied, so a view that lets it through answers 403."""


def author_require(*, record: Any, user: User, doing: str) -> None:
    """Refuse (NotTheAuthor) unless ``user`` wrote ``record`` (its ``therapist``).

    ``doing`` completes "Only the author can ...", e.g. "sign this assessment"."""
    if user is None or record.therapist_id != user.pk:
        raise NotTheAuthor(f"Only the author can {doing}.")


@transaction.atomic
def pain_report_create(
    *,
    patient: Patient,
    score: int,
    source: str,
    reported_at: dt.datetime | None = None,
) -> PainReport:
    """Record a 0-10 pain score from a visit, an assessment or an email check-in."""
    _check_pain(score=score, source=source)
    reported_at = reported_at or timezone.now()
    # An email check-in carries its local day, so the one-per-day constraint covers it
    # (the pain link itself goes through pain_checkin_record_daily, which replaces).
    local_date = (
        reported_at.astimezone(localtime.patient_zone(patient)).date()
        if source == PainSource.EMAIL_LINK
        else None
    )
    return PainReport.objects.create(
        patient=patient,
        score=score,
        source=source,
        reported_at=reported_at,
        local_date=local_date,
    )


def _check_pain(*, score: int, source: str) -> None:
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValidationError({"score": "Pain must be a whole number from 0 to 10."})
    if source not in PainSource.values:
        raise ValidationError({"source": f"Unknown source {source!r}."})


@transaction.atomic
def pain_checkin_record_daily(*, patient: Patient, score: int) -> tuple[PainReport, int | None]:
    """The patient's email check-in: one report per patient and local day. A later answer
    the same day replaces the score (and the time) of the earlier one.

    Returns (report, previous score), the previous score None when the report is new.
    The unique constraint painreport_one_email_link_per_local_day decides between two
    requests at once: the loser updates the winner's row (docs/decisions.md, "One pain
    report per day from email links")."""
    source = PainSource.EMAIL_LINK
    _check_pain(score=score, source=source)
    today = localtime.patient_today(patient)
    now = timezone.now()
    rows = PainReport.objects.select_for_update().filter(
        patient=patient, source=source, local_date=today
    )
    report = rows.first()
    if report is None:
        try:
            with transaction.atomic():
                return (
                    PainReport.objects.create(
                        patient=patient,
                        score=score,
                        source=source,
                        reported_at=now,
                        local_date=today,
                    ),
                    None,
                )
        except IntegrityError:
            report = rows.get()
    previous = report.score
    report.score = score
    report.reported_at = now
    report.save(update_fields=["score", "reported_at"])
    return report, previous


# --- Patients ---------------------------------------------------------------------------

PATIENT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "preferred_language",
    "timezone",
    "reminders_opt_in",
    "appointment_emails_opt_in",
)


def _patient_apply(patient: Patient, values: dict[str, Any]) -> None:
    for name in PATIENT_FIELDS:
        setattr(patient, name, values[name])
    patient.first_name = patient.first_name.strip()
    patient.last_name = patient.last_name.strip()
    patient.email = (patient.email or "").strip().lower()
    try:
        patient.phone = clinical.normalise_phone(patient.phone)
    except ValueError as error:
        raise ValidationError({"phone": str(error)}) from error
    patient.search_name = clinical.normalise_name(f"{patient.first_name} {patient.last_name}")
    today = localtime.clinic_today()
    if patient.date_of_birth and patient.date_of_birth > today:
        raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})
    if patient.date_of_birth and clinical.age_on(patient.date_of_birth, today) >= 120:
        raise ValidationError({"date_of_birth": "Check the year: that would be 120 or older."})
    patient.full_clean(exclude=["created_by"])


@transaction.atomic
def patient_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    email: str = "",
    phone: str = "",
    preferred_language: str = "en",
    timezone: str | None = None,
    reminders_opt_in: bool = False,
    appointment_emails_opt_in: bool = True,
    acting_user: User | None = None,
    ip: str | None = None,
) -> Patient:
    from django.conf import settings

    patient = Patient(created_by=acting_user)
    _patient_apply(
        patient,
        {
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "email": email,
            "phone": phone,
            "preferred_language": preferred_language,
            "timezone": timezone or settings.TIME_ZONE,
            "reminders_opt_in": reminders_opt_in,
            "appointment_emails_opt_in": appointment_emails_opt_in,
        },
    )
    patient.save()
    audit_record(
        acting_user=acting_user, action=AuditAction.CREATE, patient=patient, obj=patient, ip=ip
    )
    return patient


@transaction.atomic
def patient_update(
    *,
    patient: Patient,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    email: str,
    phone: str,
    preferred_language: str,
    timezone: str,
    reminders_opt_in: bool,
    appointment_emails_opt_in: bool = True,
    acting_user: User | None = None,
    ip: str | None = None,
) -> Patient:
    before = {name: getattr(patient, name) for name in PATIENT_FIELDS}
    _patient_apply(
        patient,
        {
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "email": email,
            "phone": phone,
            "preferred_language": preferred_language,
            "timezone": timezone,
            "reminders_opt_in": reminders_opt_in,
            "appointment_emails_opt_in": appointment_emails_opt_in,
        },
    )
    changed = [name for name in PATIENT_FIELDS if getattr(patient, name) != before[name]]
    patient.save()
    # The email address says where the signed links go (and which old links stop
    # working), so its change is audited with both values; it is not clinical.
    labels = [
        f"email ({before['email'] or '(none)'} → {patient.email or '(none)'})"
        if name == "email"
        else name
        for name in changed
    ]
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=patient,
        obj=patient,
        ip=ip,
        detail="changed: " + ", ".join(labels) if labels else "no change",
    )
    return patient


@transaction.atomic
def patient_archive(
    *, patient: Patient, acting_user: User | None = None, ip: str | None = None
) -> Patient:
    """Archive instead of delete: the record stays (it is a legal record) but leaves the
    registry list and search unless asked for."""
    if patient.archived_at is None:
        patient.archived_at = timezone.now()
        patient.save(update_fields=["archived_at", "updated_at"])
        audit_record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            patient=patient,
            obj=patient,
            ip=ip,
            detail="archived",
        )
    return patient


@transaction.atomic
def patient_restore(
    *, patient: Patient, acting_user: User | None = None, ip: str | None = None
) -> Patient:
    if patient.archived_at is not None:
        patient.archived_at = None
        patient.save(update_fields=["archived_at", "updated_at"])
        audit_record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            patient=patient,
            obj=patient,
            ip=ip,
            detail="restored from archive",
        )
    return patient


# --- Assessments ------------------------------------------------------------------------

# The fields a therapist fills in; derived fields (x-ray, LEFS total) are computed here.
ASSESSMENT_FIELDS = (
    "assessed_at",
    "kind",
    "region",
    "side",
    "pain_now",
    "pain_worst",
    "pain_best",
    "pain_qualities",
    "onset_date",
    "onset_mechanism",
    "aggravating_activities",
    "suspected_causes",
    "suspected_cause_other",
    "precautions",
    "ottawa_acute_ankle_injury",
    "ottawa_acute_knee_injury",
    "ottawa_malleolar_zone_pain",
    "ottawa_tenderness_posterior_tibia_medial_malleolus",
    "ottawa_tenderness_posterior_fibula_lateral_malleolus",
    "ottawa_midfoot_zone_pain",
    "ottawa_tenderness_base_fifth_metatarsal",
    "ottawa_tenderness_navicular",
    "ottawa_unable_to_bear_weight",
    "ottawa_knee_isolated_patella_tenderness",
    "ottawa_knee_fibular_head_tenderness",
    "ottawa_knee_cannot_flex_90",
    "knee_to_wall_left_cm",
    "knee_to_wall_right_cm",
    "knee_flexion_left",
    "knee_flexion_right",
    "knee_extension_left",
    "knee_extension_right",
    "lefs_answers",
    "clinical_impression",
)
DERIVED_FIELDS = (
    "xray_ankle_indicated",
    "xray_foot_indicated",
    "xray_knee_indicated",
    "xray_indicated",
    "ottawa_ankle_verdict",
    "ottawa_foot_verdict",
    "ottawa_knee_verdict",
    "lefs_total",
)

# Findings that belong to one inclusion criterion (weight bearing is shared by all rules).
OTTAWA_ANKLE_FOOT_FINDINGS = (
    "ottawa_malleolar_zone_pain",
    "ottawa_tenderness_posterior_tibia_medial_malleolus",
    "ottawa_tenderness_posterior_fibula_lateral_malleolus",
    "ottawa_midfoot_zone_pain",
    "ottawa_tenderness_base_fifth_metatarsal",
    "ottawa_tenderness_navicular",
)
OTTAWA_KNEE_FINDINGS = (
    "ottawa_knee_isolated_patella_tenderness",
    "ottawa_knee_fibular_head_tenderness",
    "ottawa_knee_cannot_flex_90",
)


def _assessment_apply(assessment: Assessment, values: dict[str, Any]) -> None:
    """Copy the therapist's values, compute the derived fields, validate everything."""
    unknown = set(values) - set(ASSESSMENT_FIELDS)
    if unknown:
        raise ValueError(f"Not assessment fields: {sorted(unknown)}")
    for name, value in values.items():
        setattr(assessment, name, value)
    if assessment.suspected_cause_other and "other" not in (assessment.suspected_causes or []):
        assessment.suspected_cause_other = ""
    try:
        answers = clinical.lefs_validate(assessment.lefs_answers or [None] * 20)
    except ValueError as error:
        raise ValidationError({"lefs_answers": str(error)}) from error
    assessment.lefs_answers = answers
    assessment.lefs_total = clinical.lefs_total(answers)
    _assessment_check_consistency(assessment)
    local_day = timezone.localtime(assessment.assessed_at).date()
    age = clinical.age_on(assessment.patient.date_of_birth, local_day)
    result = clinical.ottawa_evaluate(
        clinical.parse_ottawa_findings(
            {name: getattr(assessment, name) for name in ASSESSMENT_FIELDS}
        ),
        age,
    )
    assessment.xray_ankle_indicated = result.ankle
    assessment.xray_foot_indicated = result.foot
    assessment.xray_knee_indicated = result.knee
    assessment.xray_indicated = result.any
    assessment.ottawa_ankle_verdict = result.ankle_verdict
    assessment.ottawa_foot_verdict = result.foot_verdict
    assessment.ottawa_knee_verdict = result.knee_verdict
    assessment.full_clean(exclude=["patient", "therapist", "signed_by"])


# Clocks drift; an assessment a few minutes "ahead" is a clock, not an impossible date.
FUTURE_SLACK = dt.timedelta(minutes=10)


def _assessment_check_consistency(assessment: Assessment) -> None:
    errors: dict[str, str] = {}
    dob = assessment.patient.date_of_birth
    assessed_at = assessment.assessed_at
    if assessed_at is None or timezone.is_naive(assessed_at):
        errors["assessed_at"] = "Give the date and time of the assessment."
    else:
        if assessed_at > timezone.now() + FUTURE_SLACK:
            errors["assessed_at"] = "The assessment cannot be dated in the future."
        elif timezone.localtime(assessed_at).date() < dob:
            errors["assessed_at"] = "The assessment cannot be before the patient's birth."
        onset = assessment.onset_date
        if onset is not None:
            if onset > timezone.localtime(assessed_at).date():
                errors["onset_date"] = "Onset cannot be after the assessment date."
            elif onset < dob:
                errors["onset_date"] = "Onset cannot be before the patient's date of birth."
    now, worst, best = assessment.pain_now, assessment.pain_worst, assessment.pain_best
    if None not in (now, worst, best) and all(isinstance(v, int) for v in (now, worst, best)):
        if best > worst:
            errors["pain_best"] = "Best pain cannot be higher than worst pain."
        elif not best <= now <= worst:
            errors["pain_now"] = "Pain now should lie between best and worst in the last 24 hours."
    errors.update(_ottawa_inclusion_errors(assessment))
    if "other" in (assessment.suspected_causes or []) and not assessment.suspected_cause_other:
        errors["suspected_cause_other"] = "Name the other suspected cause."
    for name, choices in (
        ("pain_qualities", PainQuality),
        ("suspected_causes", SuspectedCause),
        ("precautions", Precaution),
    ):
        value = getattr(assessment, name)
        if not isinstance(value, list) or not set(value) <= set(choices.values):
            errors[name] = "Choose from the listed options."
        else:
            setattr(assessment, name, list(dict.fromkeys(value)))  # no repeats, order kept
    for name in ("aggravating_activities", "clinical_impression"):
        limit = _max_length(Assessment, name)
        if len(getattr(assessment, name) or "") > limit:
            errors[name] = f"Keep this under {limit} characters."
    if errors:
        raise ValidationError(errors)


def _ottawa_inclusion_errors(assessment: Assessment) -> dict[str, str]:
    """A finding recorded for an Ottawa rule needs that rule's inclusion criterion
    answered: otherwise a positive finding would silently count for nothing (the rule's
    verdict would be "not examined"). docs/clinical.md."""
    errors = {}

    def answered(names: Iterable[str]) -> bool:
        return any(getattr(assessment, name) is not None for name in names)

    ankle, knee = assessment.ottawa_acute_ankle_injury, assessment.ottawa_acute_knee_injury
    if ankle is None and answered(OTTAWA_ANKLE_FOOT_FINDINGS):
        errors["ottawa_acute_ankle_injury"] = (
            "Ankle or foot findings are recorded: say whether there was an acute ankle or "
            "foot injury (the ankle and foot rules apply only then)."
        )
    if knee is None and answered(OTTAWA_KNEE_FINDINGS):
        errors["ottawa_acute_knee_injury"] = (
            "Knee findings are recorded: say whether there was a blunt knee injury in the "
            "last 7 days (the knee rule applies only then)."
        )
    if (
        ankle is None
        and knee is None
        and assessment.ottawa_unable_to_bear_weight is not None
        and not errors
    ):
        errors["ottawa_unable_to_bear_weight"] = (
            "Weight bearing is recorded: say whether there was an acute ankle, foot or knee "
            "injury (the Ottawa rules apply only then)."
        )
    return errors


def _require_draft(assessment: Assessment) -> None:
    if assessment.is_signed:
        raise AssessmentLocked(
            "This assessment is signed and locked. To change it, add an amendment."
        )


@transaction.atomic
def assessment_create(
    *, patient: Patient, acting_user: User, values: dict[str, Any], ip: str | None = None
) -> Assessment:
    """Save a new draft assessment."""
    assessment = Assessment(patient=patient, therapist=acting_user, status=RecordStatus.DRAFT)
    _assessment_apply(assessment, values)
    assessment.save()
    audit_record(
        acting_user=acting_user, action=AuditAction.CREATE, patient=patient, obj=assessment, ip=ip
    )
    return assessment


@transaction.atomic
def assessment_update(
    *, assessment: Assessment, values: dict[str, Any], acting_user: User, ip: str | None = None
) -> Assessment:
    """Edit a draft (its author only: NotTheAuthor). A signed assessment is refused
    (AssessmentLocked), nothing changes."""
    # Re-read under a row lock so a sign in another request cannot slip in between.
    locked = _locked(assessment)
    author_require(record=locked, user=acting_user, doing="edit this draft assessment")
    _require_draft(locked)
    _assessment_apply(locked, values)
    locked.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=locked.patient,
        obj=locked,
        ip=ip,
    )
    return locked


@transaction.atomic
def assessment_sign(
    *, assessment: Assessment, acting_user: User, ip: str | None = None
) -> Assessment:
    """Sign a draft: it becomes the legal record and its pain score joins the outcome
    chart. Signing twice is refused (AssessmentLocked), so nothing is signed twice; only
    the author signs (NotTheAuthor)."""
    locked = _locked(assessment)
    author_require(record=locked, user=acting_user, doing="sign this assessment")
    _require_draft(locked)
    locked.status = RecordStatus.SIGNED
    locked.signed_at = timezone.now()
    locked.signed_by = acting_user
    locked.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    PainReport.objects.create(
        patient=locked.patient,
        score=locked.pain_now,
        reported_at=locked.assessed_at,
        source=PainSource.ASSESSMENT,
        assessment=locked,
    )
    audit_record(
        acting_user=acting_user, action=AuditAction.SIGN, patient=locked.patient, obj=locked, ip=ip
    )
    return locked


def _locked(assessment: Assessment) -> Assessment:
    """A fresh copy of the row, locked until the transaction ends (so a sign and an edit
    in two requests cannot interleave); the caller's instance is never half-changed."""
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    locked.patient = assessment.patient
    return locked


def json_value(value: Any) -> Any:
    """Amendment values as JSON (dates, datetimes and decimals as text)."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@transaction.atomic
def assessment_amend(
    *,
    assessment: Assessment,
    values: dict[str, Any],
    reason: str,
    acting_user: User,
    ip: str | None = None,
) -> AssessmentAmendment | None:
    """Change a signed assessment (its author only: NotTheAuthor; a colleague adds an
    addendum). The amendment keeps who, when, why and every changed
    field's old and new value, so the original as signed can always be read back.
    Returns None when nothing changed (no empty amendment is written)."""
    locked = _locked(assessment)
    author_require(
        record=locked,
        user=acting_user,
        doing="amend this assessment; add an addendum under your own name instead",
    )
    if not locked.is_signed:
        raise AssessmentNotSigned("This assessment is a draft: edit it instead of amending it.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the signed assessment is being changed."})
    before = {name: getattr(locked, name) for name in ASSESSMENT_FIELDS + DERIVED_FIELDS}
    _assessment_apply(locked, values)
    # The form works to the minute: the same minute is no change of date and time.
    old_at = before["assessed_at"]
    if locked.assessed_at.replace(second=0, microsecond=0) == old_at.replace(
        second=0, microsecond=0
    ):
        locked.assessed_at = old_at
    changes = {}
    for name, old in before.items():
        new = getattr(locked, name)
        if isinstance(old, Decimal) or isinstance(new, Decimal):
            same = (old is None and new is None) or (
                old is not None and new is not None and Decimal(old) == Decimal(new)
            )
        else:
            same = old == new
        if not same:
            changes[name] = {"old": json_value(old), "new": json_value(new)}
    if not changes:
        return None
    locked.save()
    PainReport.objects.filter(assessment=locked).update(
        score=locked.pain_now, reported_at=locked.assessed_at
    )
    amendment = AssessmentAmendment.objects.create(
        assessment=locked, author=acting_user, reason=reason, changes=changes
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.AMEND,
        patient=locked.patient,
        obj=locked,
        ip=ip,
        clinical_detail="amended: " + ", ".join(sorted(changes)),
    )
    return amendment


def _max_length(model: type[models.Model], name: str) -> int:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.max_length is not None
    return field.max_length


ADDENDUM_MAX_LENGTH = _max_length(AssessmentAddendum, "text")


def addendum_text_clean(text: str) -> str:
    """The addendum's text, stripped; empty or too long is a ValidationError on "text"."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum."})
    if len(text) > ADDENDUM_MAX_LENGTH:
        raise ValidationError({"text": f"Keep this under {ADDENDUM_MAX_LENGTH} characters."})
    return text


@transaction.atomic
def assessment_addendum_create(
    *, assessment: Assessment, acting_user: User, text: str, ip: str | None = None
) -> AssessmentAddendum:
    """Add an addendum under ``acting_user``'s name to a signed assessment.

    Any clinician may (the author too); the assessment itself is not changed. A draft is
    refused: it still belongs to its author, who edits it (docs/decisions.md)."""
    text = addendum_text_clean(text)
    # Lock the row so an addendum and a concurrent amendment are ordered, and read the
    # status as committed.
    locked = _locked(assessment)
    if not locked.is_signed:
        raise AssessmentNotSigned(
            "This assessment is a draft: only a signed assessment takes addenda."
        )
    addendum = AssessmentAddendum.objects.create(assessment=locked, author=acting_user, text=text)
    addendum_audit(record=locked, addendum=addendum, acting_user=acting_user, ip=ip)
    return addendum


def addendum_audit(
    *, record: Any, addendum: models.Model, acting_user: User, ip: str | None = None
) -> None:
    """The ``create`` event for an addendum to ``record`` (an assessment or a visit note);
    the detail names the record's author when a colleague wrote it (docs/decisions.md)."""
    detail = "addendum"
    if record.therapist_id != acting_user.pk:
        detail = f"addendum by a colleague of the author ({record.therapist.get_username()})"
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient=record.patient,
        obj=addendum,
        ip=ip,
        detail=detail,
    )


# --- Patient-reported questionnaires --------------------------------------------------


class QuestionnaireClosed(ValidationError):
    """The questionnaire was already answered, or has expired: nothing to record."""


class QuestionnaireIncomplete(ValidationError):
    """Some LEFS items are unanswered: there is no total (docs/clinical.md §3), so the
    answers are not recorded. ``missing`` holds the item numbers (1-20)."""

    def __init__(self, missing: list[int]) -> None:
        self.missing = missing
        super().__init__(f"Items not answered: {', '.join(str(n) for n in missing)}.")


def questionnaire_score(*, instrument: str, answers: Any) -> tuple[list[int | None], int | None]:
    """The answers as stored and their total, scored with the rules in patients/clinical.py:
    an LEFS total only when all 20 items are answered; the NPRS is one answer 0-10.
    ValidationError for answers out of range or of the wrong shape."""
    try:
        if instrument == QuestionnaireInstrument.LEFS:
            checked = clinical.lefs_validate(answers)
            return checked, clinical.lefs_total(checked)
        if instrument == QuestionnaireInstrument.NPRS:
            values = list(answers)
            if len(values) != 1:
                raise ValueError("The NPRS has one answer.")
            if values[0] is None:
                return [None], None
            return [values[0]], clinical.nprs_validate(values[0])
    except (TypeError, ValueError) as error:
        raise ValidationError({"answers": str(error)}) from error
    raise ValidationError({"instrument": f"Unknown questionnaire {instrument!r}."})


@transaction.atomic
def questionnaire_response_complete(
    *, response: QuestionnaireResponse, answers: Any, ip: str | None = None
) -> QuestionnaireResponse:
    """The patient's answers (their email link): scored on the server and completed.

    Only an open request is completed, once: the row is locked, so two submits at once
    record one answer. An incomplete LEFS records nothing (QuestionnaireIncomplete names
    the items). An NPRS answer is also a pain report (source "questionnaire"), so it
    shows and counts wherever pain scores do."""
    locked = QuestionnaireResponse.objects.select_for_update().get(pk=response.pk)
    if locked.status != QuestionnaireStatus.REQUESTED:
        raise QuestionnaireClosed("This questionnaire was already answered or has expired.")
    checked, total = questionnaire_score(instrument=locked.instrument, answers=answers)
    if total is None:
        raise QuestionnaireIncomplete(clinical.lefs_missing(checked) or [1])
    now = timezone.now()
    locked.answers = checked
    locked.total = total
    locked.status = QuestionnaireStatus.COMPLETED
    locked.completed_at = now
    locked.save(update_fields=["answers", "total", "status", "completed_at"])
    if locked.instrument == QuestionnaireInstrument.NPRS:
        pain_report_create(
            patient=locked.patient, score=total, source=PainSource.QUESTIONNAIRE, reported_at=now
        )
    audit_record(
        acting_user=None,
        action=AuditAction.CREATE,
        patient=locked.patient,
        obj=locked,
        ip=ip,
        detail=f"{locked.get_instrument_display()} questionnaire answered by the patient "
        f"({locked.get_source_display().lower()})",
    )
    return locked


@transaction.atomic
def questionnaire_response_link(
    *,
    response: QuestionnaireResponse,
    assessment: Assessment,
    acting_user: User,
    ip: str | None = None,
) -> bool:
    """The therapist used the patient's answers in ``assessment``: link them, once, so
    they are not offered again. False (nothing changed) for another patient's response,
    one not completed or already used."""
    changed = QuestionnaireResponse.objects.filter(
        pk=response.pk,
        patient_id=assessment.patient_id,
        status=QuestionnaireStatus.COMPLETED,
        assessment__isnull=True,
    ).update(assessment=assessment)
    if changed:
        response.assessment = assessment
        audit_record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            patient=assessment.patient,
            obj=response,
            ip=ip,
            detail=f"patient questionnaire used in assessment {assessment.pk}",
        )
    return bool(changed)
