"""The patient registry and the clinical assessment record.

Field names follow the data model in docs/design.md ("Data model"); the clinical vocabularies
(pain qualities, suspected causes, precautions) follow docs/clinical.md.
"""

import functools
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.timezone import now

from . import clinical


def clinic_time_zone() -> str:
    return settings.TIME_ZONE


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    preferred_language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    timezone = models.CharField(max_length=64, default=clinic_time_zone)
    # Exercise reminders only.
    reminders_opt_in = models.BooleanField(default=False)
    # Booking confirmations, changes, cancellations, appointment reminders and waitlist
    # offers: on unless the patient says no (docs/decisions.md, "Consent per kind").
    appointment_emails_opt_in = models.BooleanField(default=True)
    # Lower-cased, accent-free "first last" kept by the services for search
    # (``unaccent`` is not available on SQLite).
    search_name = models.CharField(max_length=201, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            # Registry list, alphabetical.
            models.Index(fields=["last_name", "first_name"], name="patient_name_idx"),
            # Needs attention (clinic/attention/selectors.py, _caseload_sql): a caseload's
            # patients by record number, read for their names from the index alone
            # (ordered by name, then the first of them checked). Not partial: a partial
            # index on "not archived" would let the planner scan it for any query with
            # that condition (the registry search) instead of its own index.
            models.Index(
                fields=["id"],
                include=["last_name", "first_name", "archived_at"],
                name="patient_caseload_name_idx",
            ),
            # Name search (prefix/contains on the normalised name). On PostgreSQL the
            # registry's "search_name LIKE '%word%'" is served by the trigram index
            # patient_search_name_trgm_idx (migration 0008, PostgreSQL only).
            models.Index(fields=["search_name"], name="patient_search_name_idx"),
            # Duplicate check and date-of-birth search.
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(preferred_language__in=["en", "es"]),
                name="patient_language_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def age_on(self, day) -> int:
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


class AssessmentKind(models.TextChoices):
    INITIAL = "initial", "Initial evaluation"
    REASSESSMENT = "reassessment", "Reassessment"
    DISCHARGE = "discharge", "Discharge"


class Region(models.TextChoices):
    KNEE = "knee", "Knee"
    ANKLE = "ankle", "Ankle"
    KNEE_AND_ANKLE = "knee_and_ankle", "Knee and ankle"


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"


class PainQuality(models.TextChoices):
    DULL_ACHE = "dull_ache", "Dull ache"
    SHARP = "sharp", "Sharp"
    SHOOTING = "shooting", "Shooting"
    THROBBING = "throbbing", "Throbbing"
    CONSTANT = "constant", "Constant"
    INTERMITTENT = "intermittent", "Intermittent"
    STIFFNESS = "stiffness", "Stiffness"


class SuspectedCause(models.TextChoices):
    ARTHRITIS = "arthritis", "Joint damage (arthritis)"
    FRACTURE = "fracture", "Bone fracture"
    MUSCLE_WEAKNESS = "muscle_weakness", "Muscle weakness or imbalance"
    TENDINITIS = "tendinitis", "Tendinitis"
    SHIN_SPLINTS = "shin_splints", "Shin splints"
    NERVE_COMPRESSION = "nerve_compression", "Nerve compression"
    PLANTAR_FASCIITIS = "plantar_fasciitis", "Plantar fasciitis"
    OTHER = "other", "Other"


class Precaution(models.TextChoices):
    """Screening flags that restrict manual techniques (docs/clinical.md §4)."""

    FRACTURE = "fracture", "Suspected or recent fracture"
    MALIGNANCY = "malignancy", "Bone tumour / malignancy"
    OSTEOPOROSIS = "osteoporosis", "Severe osteoporosis"
    INSTABILITY = "instability", "Ligamentous / structural instability"
    INFECTION = "infection", "Infection, osteomyelitis, cellulitis, fever"
    INFLAMMATORY_ARTHRITIS = "inflammatory_arthritis", "Active inflammatory arthritis"
    ANTICOAGULATION = "anticoagulation", "Anticoagulant therapy or bleeding disorder"
    NEURO_DEFICIT = "neuro_deficit", "Progressive neurological deficit"
    DVT = "dvt", "DVT or haematoma"
    MYOSITIS = "myositis", "Myositis"


class OnsetMechanism(models.TextChoices):
    INJURY = "injury", "Injury"
    GRADUAL = "gradual", "Gradual onset"
    POST_SURGERY = "post_surgery", "After surgery"


class OttawaVerdict(models.TextChoices):
    """A stored Ottawa rule verdict (patients/clinical.py, docs/clinical.md)."""

    INDICATED = "indicated", "X-ray indicated"
    NOT_INDICATED = "not_indicated", "X-ray not indicated"
    DOES_NOT_APPLY = "does_not_apply", "Rule does not apply"
    NOT_EXAMINED = "not_examined", "Not examined"
    # Assessments saved before the inclusion criteria were recorded keep the x-ray
    # decision they were signed with (the xray_* fields) and have no verdict.
    EARLIER_RULE = "", "Recorded before inclusion criteria"


class RecordStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


def _labels(choices, values) -> list[str]:
    names = _choice_names(choices)
    return [names.get(value, value) for value in values or []]


# How an assessment's values read, from the values alone: the properties below and the
# rows read as plain values (the patient page's timeline) say them the same way.


def lefs_percent_of(total: int | None) -> float | None:
    if total is None:
        return None
    return round(total / 80 * 100, 1)


def suspected_cause_labels_of(causes: list[str] | None, other: str) -> list[str]:
    labels = _labels(SuspectedCause, causes)
    if other and SuspectedCause.OTHER in (causes or []):
        labels = [f"Other: {other}" if value == "Other" else value for value in labels]
    return labels


def precaution_labels_of(precautions: list[str] | None) -> list[str]:
    return _labels(Precaution, precautions)


@functools.cache
def _choice_names(choices) -> dict:
    """A choices class's labels by value, made once (``choices.choices`` builds its list
    each time it is read)."""
    return dict(choices.choices)


NPRS_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]


def _pain_range(field: str) -> models.Q:
    return models.Q(**{f"{field}__isnull": True}) | models.Q(
        **{f"{field}__gte": 0, f"{field}__lte": 10}
    )


def _verdict_constraints(rule: str) -> models.CheckConstraint:
    """A verdict is one of the known values, and "x-ray indicated" exactly when the
    stored x-ray flag says so (rows from before the verdicts keep their flag alone)."""
    verdict, flag = f"ottawa_{rule}_verdict", f"xray_{rule}_indicated"
    return models.CheckConstraint(
        condition=models.Q(**{verdict: ""})
        | models.Q(**{verdict: OttawaVerdict.INDICATED, flag: True})
        | models.Q(
            **{
                f"{verdict}__in": [
                    OttawaVerdict.NOT_INDICATED,
                    OttawaVerdict.DOES_NOT_APPLY,
                    OttawaVerdict.NOT_EXAMINED,
                ],
                flag: False,
            }
        ),
        name=f"assessment_ottawa_{rule}_verdict_valid",
    )


class Assessment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments"
    )
    assessed_at = models.DateTimeField(default=now)
    kind = models.CharField(
        max_length=16, choices=AssessmentKind.choices, default=AssessmentKind.INITIAL
    )
    region = models.CharField(max_length=16, choices=Region.choices)
    side = models.CharField(max_length=10, choices=Side.choices)

    # Numeric Pain Rating Scale, 0-10, over the last 24 hours.
    pain_now = models.PositiveSmallIntegerField(validators=NPRS_VALIDATORS)
    pain_worst = models.PositiveSmallIntegerField(validators=NPRS_VALIDATORS)
    pain_best = models.PositiveSmallIntegerField(validators=NPRS_VALIDATORS)
    pain_qualities = models.JSONField(default=list, blank=True)  # list of PainQuality values

    onset_date = models.DateField(null=True, blank=True)
    onset_mechanism = models.CharField(max_length=16, choices=OnsetMechanism.choices, blank=True)
    aggravating_activities = models.TextField(blank=True, max_length=2000)

    suspected_causes = models.JSONField(default=list, blank=True)  # SuspectedCause values
    suspected_cause_other = models.CharField(max_length=200, blank=True)
    precautions = models.JSONField(default=list, blank=True)  # Precaution values

    # Ottawa rules' inclusion criteria (None = not examined): an acute ankle or foot injury
    # (ankle and foot rules), a blunt knee injury within 7 days (knee rule).
    ottawa_acute_ankle_injury = models.BooleanField(null=True, blank=True)
    ottawa_acute_knee_injury = models.BooleanField(null=True, blank=True)
    # Ottawa ankle and foot rules (findings; None = not examined).
    ottawa_malleolar_zone_pain = models.BooleanField(null=True, blank=True)
    ottawa_tenderness_posterior_tibia_medial_malleolus = models.BooleanField(null=True, blank=True)
    ottawa_tenderness_posterior_fibula_lateral_malleolus = models.BooleanField(
        null=True, blank=True
    )
    ottawa_midfoot_zone_pain = models.BooleanField(null=True, blank=True)
    ottawa_tenderness_base_fifth_metatarsal = models.BooleanField(null=True, blank=True)
    ottawa_tenderness_navicular = models.BooleanField(null=True, blank=True)
    # Inability to bear weight for 4 steps both immediately and at examination
    # (shared by the ankle, foot and knee rules).
    ottawa_unable_to_bear_weight = models.BooleanField(null=True, blank=True)
    # Ottawa knee rule (age >= 55 comes from the date of birth on the assessment date).
    ottawa_knee_isolated_patella_tenderness = models.BooleanField(null=True, blank=True)
    ottawa_knee_fibular_head_tenderness = models.BooleanField(null=True, blank=True)
    ottawa_knee_cannot_flex_90 = models.BooleanField(null=True, blank=True)
    # Computed on the server when the assessment is saved, and stored.
    xray_ankle_indicated = models.BooleanField(default=False)
    xray_foot_indicated = models.BooleanField(default=False)
    xray_knee_indicated = models.BooleanField(default=False)
    xray_indicated = models.BooleanField(default=False)
    # Each rule's verdict (OttawaVerdict); "" on rows saved before the inclusion criteria.
    ottawa_ankle_verdict = models.CharField(
        max_length=16, choices=OttawaVerdict.choices, blank=True, default=""
    )
    ottawa_foot_verdict = models.CharField(
        max_length=16, choices=OttawaVerdict.choices, blank=True, default=""
    )
    ottawa_knee_verdict = models.CharField(
        max_length=16, choices=OttawaVerdict.choices, blank=True, default=""
    )

    # Range of motion.
    knee_to_wall_left_cm = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(30)],
    )
    knee_to_wall_right_cm = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(30)],
    )
    knee_flexion_left = models.SmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(170)]
    )
    knee_flexion_right = models.SmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(170)]
    )
    knee_extension_left = models.SmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(-30), MaxValueValidator(30)]
    )
    knee_extension_right = models.SmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(-30), MaxValueValidator(30)]
    )

    # Lower Extremity Functional Scale: 20 answers 0-4 (None = unanswered); the total is
    # stored only when all 20 were answered (an incomplete form has no total).
    lefs_answers = models.JSONField(default=list, blank=True)
    lefs_total = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(80)]
    )

    clinical_impression = models.TextField(blank=True, max_length=10000)

    status = models.CharField(
        max_length=10, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-assessed_at", "-id"]
        permissions = [("sign_assessment", "Can sign and amend assessments")]
        indexes = [
            # Patient timeline and outcome chart: a patient's assessments by date. Needs
            # attention's two latest signed LEFS totals (clinic/attention/selectors.py,
            # _rules_sql) come from the index alone, in its order (date, then id).
            models.Index(
                fields=["patient", "assessed_at", "id"],
                include=["status", "lefs_total"],
                name="assessment_patient_date_idx",
            ),
            # The outcomes rollup's changes since its last read (clinic/reports/rollup.py).
            models.Index(fields=["updated_at"], name="assessment_updated_idx"),
            # A therapist's oldest unsigned drafts on the Today page:
            # WHERE therapist_id = %s AND status = 'draft' ORDER BY assessed_at, id LIMIT 21
            # (patients.selectors.therapist_drafts).
            models.Index(
                fields=["therapist", "status", "assessed_at", "id"],
                name="assessment_therapist_todo_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=_pain_range("pain_now"), name="assessment_pain_now_0_10"
            ),
            models.CheckConstraint(
                condition=_pain_range("pain_worst"), name="assessment_pain_worst_0_10"
            ),
            models.CheckConstraint(
                condition=_pain_range("pain_best"), name="assessment_pain_best_0_10"
            ),
            models.CheckConstraint(
                condition=models.Q(lefs_total__isnull=True)
                | models.Q(lefs_total__gte=0, lefs_total__lte=80),
                name="assessment_lefs_total_0_80",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="assessment_signed_has_signer",
            ),
            *(_verdict_constraints(rule) for rule in ("ankle", "foot", "knee")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.patient} on {self.assessed_at:%Y-%m-%d}"

    @property
    def is_signed(self) -> bool:
        return self.status == RecordStatus.SIGNED

    @property
    def ottawa_verdicts(self) -> list[tuple[str, str, str]]:
        """(rule, verdict code, how it reads) for the ankle series, foot series and knee."""
        rows = []
        for rule, inclusion in (
            ("ankle", self.ottawa_acute_ankle_injury),
            ("foot", self.ottawa_acute_ankle_injury),
            ("knee", self.ottawa_acute_knee_injury),
        ):
            verdict = getattr(self, f"ottawa_{rule}_verdict")
            if verdict:
                text = clinical.ottawa_verdict_text(rule, verdict, inclusion=inclusion)
            else:
                text = self._earlier_rule_text(rule)
            rows.append((rule, verdict, text))
        return rows

    def _earlier_rule_text(self, rule: str) -> str:
        """What the page said when an assessment from before the inclusion criteria was
        signed: its stored x-ray flag, worded as it was then."""
        if getattr(self, f"xray_{rule}_indicated"):
            return "X-ray indicated (recorded before inclusion criteria)"
        knee_examined = any(
            value is not None
            for value in (
                self.ottawa_knee_isolated_patella_tenderness,
                self.ottawa_knee_fibular_head_tenderness,
                self.ottawa_knee_cannot_flex_90,
            )
        )
        if rule == "knee" and not knee_examined:
            return "Not applied: no knee finding examined (recorded before inclusion criteria)"
        return "Not indicated (recorded before inclusion criteria)"

    @property
    def lefs_percent(self) -> float | None:
        return lefs_percent_of(self.lefs_total)

    @property
    def pain_quality_labels(self) -> list[str]:
        return _labels(PainQuality, self.pain_qualities)

    @property
    def suspected_cause_labels(self) -> list[str]:
        return suspected_cause_labels_of(self.suspected_causes, self.suspected_cause_other)

    @property
    def precaution_labels(self) -> list[str]:
        return precaution_labels_of(self.precautions)

    @property
    def lefs_answered(self) -> int:
        return sum(1 for answer in self.lefs_answers or [] if answer is not None)

    @property
    def knee_to_wall_difference(self):
        if self.knee_to_wall_left_cm is None or self.knee_to_wall_right_cm is None:
            return None
        return abs(self.knee_to_wall_left_cm - self.knee_to_wall_right_cm)

    @property
    def knee_to_wall_flagged(self) -> bool:
        # Minimal detectable difference between legs is 1.5 cm (docs/clinical.md §7).
        difference = self.knee_to_wall_difference
        return difference is not None and difference > Decimal("1.5")


class AssessmentAmendment(models.Model):
    """A change made after signing; the signed original is never edited in place."""

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    reason = models.TextField(max_length=2000)
    # {"field": {"old": ..., "new": ...}} for every field the amendment changed.
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Amendment to {self.assessment_id} by {self.author_id}"


class AssessmentAddendum(models.Model):
    """A note another clinician (or the author) adds under their own name to a signed
    assessment. Append-only: the services create addenda and nothing edits or deletes
    them, so the signed record and everything said about it stay readable
    (docs/decisions.md, "Who may change whose clinical record")."""

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(text=""), name="assessmentaddendum_text_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum to {self.assessment_id} by {self.author_id}"


class PainSource(models.TextChoices):
    ASSESSMENT = "assessment", "Assessment"
    VISIT = "visit", "Visit"
    EMAIL_LINK = "email_link", "Email check-in"
    # The NPRS answered on a patient questionnaire (QuestionnaireResponse, docs/clinical.md §2).
    QUESTIONNAIRE = "questionnaire", "Patient questionnaire"


class PainReport(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="pain_reports")
    score = models.PositiveSmallIntegerField(validators=NPRS_VALIDATORS)
    reported_at = models.DateTimeField(default=now)
    source = models.CharField(max_length=16, choices=PainSource.choices)
    # The signed assessment this score came from (source "assessment"), so an amendment
    # of its pain score or date moves the same point on the outcome chart.
    assessment = models.OneToOneField(
        Assessment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pain_report",
    )
    # The patient's local day of an email check-in: one per patient and day, a later
    # answer that day replaces the score (docs/decisions.md, "One pain report per day
    # from email links"). Empty for other sources and for rows older than the rule.
    local_date = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["reported_at", "id"]
        indexes = [
            # Outcome chart: a patient's reports by date. Needs attention's two latest
            # scores (clinic/attention/selectors.py, _rules_sql) come from the index
            # alone, in its order (moment, then id).
            models.Index(
                fields=["patient", "reported_at", "id"],
                include=["score"],
                name="painreport_patient_date_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=10), name="painreport_score_0_10"
            ),
            models.UniqueConstraint(
                fields=["patient", "local_date"],
                condition=models.Q(source="email_link"),
                name="painreport_one_email_link_per_local_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/10 ({self.get_source_display()})"


class QuestionnaireInstrument(models.TextChoices):
    LEFS = "lefs", "LEFS"
    NPRS = "nprs", "NPRS"


class QuestionnaireStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    COMPLETED = "completed", "Completed"
    # Never answered: the link's time ran out, or a newer request replaced it.
    EXPIRED = "expired", "Expired"


class QuestionnaireSource(models.TextChoices):
    EMAIL_LINK = "email_link", "Email link"
    CLINIC = "clinic", "In the clinic"


class QuestionnaireResponse(models.Model):
    """A patient-reported LEFS or NPRS, asked for by email between visits.

    A row is created "requested" when the email goes into the outbox; the patient's link
    completes it, scored on the server (patients/clinical.py: an LEFS total only when all
    20 items are answered; the NPRS is one answer 0-10). ``assessment`` is set when a
    therapist uses the answers in an assessment, so they are offered only once.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="questionnaire_responses"
    )
    instrument = models.CharField(max_length=8, choices=QuestionnaireInstrument.choices)
    # LEFS: 20 answers 0-4 (None = unanswered); NPRS: one answer 0-10.
    answers = models.JSONField(default=list, blank=True)
    total = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=QuestionnaireStatus.choices, default=QuestionnaireStatus.REQUESTED
    )
    requested_at = models.DateTimeField(default=now)
    completed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(
        max_length=16, choices=QuestionnaireSource.choices, default=QuestionnaireSource.EMAIL_LINK
    )
    assessment = models.ForeignKey(
        Assessment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questionnaire_responses",
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            # Outcome chart and the assessment form's offer: a patient's completed LEFS
            # by date, WHERE patient_id = %s AND instrument = 'lefs' AND status =
            # 'completed' ORDER BY completed_at (patients.selectors.patient_outcomes,
            # latest_questionnaire_offer); the needs-attention list's two latest per
            # patient (clinic/attention/selectors._rules_sql).
            models.Index(
                fields=["patient", "instrument", "status", "completed_at"],
                name="questionnaire_patient_done_idx",
            ),
            # Cadence: the patient's latest request, WHERE patient_id IN (...) ORDER BY
            # requested_at DESC (clinic/questionnaires/selectors.py).
            models.Index(fields=["patient", "requested_at"], name="questionnaire_patient_req_idx"),
            # Dispatch sweep: requests whose link has run out, WHERE status = 'requested'
            # AND requested_at < %s (clinic/questionnaires/services.questionnaires_expire).
            models.Index(fields=["status", "requested_at"], name="questionnaire_status_req_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__isnull=True)
                | models.Q(instrument="lefs", total__gte=0, total__lte=80)
                | models.Q(instrument="nprs", total__gte=0, total__lte=10),
                name="questionnaire_total_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="completed") | models.Q(completed_at__isnull=False),
                name="questionnaire_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} questionnaire ({self.status})"
