"""Forms for the registry and the assessment record: validation only, no writes."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

from django import forms
from django.conf import settings
from django.utils import timezone

from . import clinical, localtime
from .complete_forms import CompleteFormMixin
from .inputs import ClinicDateField, ClinicDateTimeField
from .models import (
    Assessment,
    AssessmentKind,
    Language,
    OnsetMechanism,
    OttawaVerdict,
    PainQuality,
    Precaution,
    Region,
    Side,
    SuspectedCause,
)
from .services import ASSESSMENT_FIELDS


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    )
    return [(name, name.replace("_", " ")) for name in names]


class PatientForm(forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    date_of_birth = ClinicDateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The patient's age must be under 120.",
    )
    email = forms.EmailField(
        required=False, max_length=254, help_text="For reminders and check-in links."
    )
    phone = forms.CharField(
        required=False,
        max_length=32,
        help_text="Digits, spaces, dashes or brackets; start with + for an international number.",
    )
    preferred_language = forms.ChoiceField(
        label="Preferred language", choices=Language.choices, initial=Language.ENGLISH
    )
    timezone = forms.ChoiceField(
        label="Time zone", help_text="Reminders are sent at the patient's local time."
    )
    reminders_opt_in = forms.BooleanField(
        label="Patient agreed to exercise reminder emails",
        required=False,
        help_text="Only with the patient's consent; they can unsubscribe from any email.",
    )
    appointment_emails_opt_in = forms.BooleanField(
        label="Appointment emails",
        required=False,
        initial=True,
        help_text="Booking confirmations, changes, cancellations, appointment reminders and "
        "offers of freed times. Untick if the patient does not want them; the link in "
        "each of these emails turns them off too.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = time_zone_choices()
        self.fields["timezone"].initial = settings.TIME_ZONE

    def clean_first_name(self):
        return self._clean_name("first_name")

    def clean_last_name(self):
        return self._clean_name("last_name")

    def _clean_name(self, name):
        value = " ".join(self.cleaned_data[name].split())
        if not value:
            raise forms.ValidationError("Enter a name.")
        return value

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        today = localtime.clinic_today()
        if dob > today:
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if clinical.age_on(dob, today) >= 120:
            raise forms.ValidationError("Check the year: that would be 120 or older.")
        return dob

    def clean_phone(self):
        try:
            return clinical.normalise_phone(self.cleaned_data["phone"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def service_values(self) -> dict:
        return dict(self.cleaned_data)


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Name (any part), date of birth, phone or email.",
    )
    date_of_birth = ClinicDateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    archived = forms.BooleanField(label="Include archived", required=False)


TRI_STATE = [("", "Not examined"), ("True", "Yes"), ("False", "No")]


def _tri_state(label: str, help_text: str = "") -> forms.NullBooleanField:
    return forms.NullBooleanField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.RadioSelect(choices=TRI_STATE),
    )


LEFS_CHOICES = [("", "—")] + [(str(i), str(i)) for i in range(5)]


class AssessmentForm(CompleteFormMixin, forms.Form):
    """The assessment, grouped as the template lays it out (see ``SECTIONS``)."""

    assessed_at = ClinicDateTimeField(
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    kind = forms.ChoiceField(label="Kind", choices=AssessmentKind.choices)
    region = forms.ChoiceField(label="Region", choices=Region.choices)
    side = forms.ChoiceField(label="Side", choices=Side.choices)

    pain_now = forms.IntegerField(
        label="Pain now (0–10)",
        min_value=0,
        max_value=10,
        help_text="0 = no pain, 10 = worst possible",
    )
    pain_worst = forms.IntegerField(label="Worst pain, last 24 h (0–10)", min_value=0, max_value=10)
    pain_best = forms.IntegerField(label="Best pain, last 24 h (0–10)", min_value=0, max_value=10)
    pain_qualities = forms.MultipleChoiceField(
        label="Pain character",
        choices=PainQuality.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    onset_date = ClinicDateField(
        label="Onset date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    onset_mechanism = forms.ChoiceField(
        label="Mechanism",
        choices=[("", "Not recorded")] + list(OnsetMechanism.choices),
        required=False,
    )
    aggravating_activities = forms.CharField(
        label="Aggravating activities",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E.g. stairs, running, kneeling.",
    )

    suspected_causes = forms.MultipleChoiceField(
        label="Suspected causes",
        choices=SuspectedCause.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    suspected_cause_other = forms.CharField(
        label="Other cause", required=False, max_length=200, help_text="When 'Other' is ticked."
    )
    precautions = forms.MultipleChoiceField(
        label="Precautions and red flags",
        choices=Precaution.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="These restrict manual techniques in the plan of care.",
    )

    ottawa_acute_ankle_injury = _tri_state(
        "Acute injury of the ankle or foot",
        "The ankle and foot rules are for an acute (blunt) injury: answer No for gradual "
        "onset, overuse or long-standing pain. Not examined means no verdict.",
    )
    ottawa_acute_knee_injury = _tri_state(
        "Blunt knee injury within the last 7 days",
        "The knee rule is for adults with an acute blunt knee injury: then age 55 or over "
        "alone indicates an x-ray. Not examined means no verdict.",
    )
    ottawa_malleolar_zone_pain = _tri_state("Pain in the malleolar zone")
    ottawa_tenderness_posterior_tibia_medial_malleolus = _tri_state(
        "Bone tenderness: posterior edge of distal 6 cm of tibia or tip of medial malleolus"
    )
    ottawa_tenderness_posterior_fibula_lateral_malleolus = _tri_state(
        "Bone tenderness: posterior edge of distal 6 cm of fibula or tip of lateral malleolus"
    )
    ottawa_midfoot_zone_pain = _tri_state("Pain in the midfoot zone")
    ottawa_tenderness_base_fifth_metatarsal = _tri_state("Bone tenderness: base of 5th metatarsal")
    ottawa_tenderness_navicular = _tri_state("Bone tenderness: navicular")
    ottawa_unable_to_bear_weight = _tri_state(
        "Unable to bear weight for 4 steps, both immediately and at examination",
        "Used by the ankle, foot and knee rules.",
    )
    ottawa_knee_isolated_patella_tenderness = _tri_state("Isolated tenderness of the patella")
    ottawa_knee_fibular_head_tenderness = _tri_state("Tenderness at the head of the fibula")
    ottawa_knee_cannot_flex_90 = _tri_state("Cannot flex the knee to 90°")

    knee_to_wall_left_cm = forms.DecimalField(
        label="Knee-to-wall left (cm)",
        required=False,
        min_value=0,
        max_value=30,
        max_digits=4,
        decimal_places=1,
    )
    knee_to_wall_right_cm = forms.DecimalField(
        label="Knee-to-wall right (cm)",
        required=False,
        min_value=0,
        max_value=30,
        max_digits=4,
        decimal_places=1,
    )
    knee_flexion_left = forms.IntegerField(
        label="Knee flexion left (°)", required=False, min_value=0, max_value=170
    )
    knee_flexion_right = forms.IntegerField(
        label="Knee flexion right (°)", required=False, min_value=0, max_value=170
    )
    knee_extension_left = forms.IntegerField(
        label="Knee extension left (°)",
        required=False,
        min_value=-30,
        max_value=30,
        help_text="Negative = lacks full extension.",
    )
    knee_extension_right = forms.IntegerField(
        label="Knee extension right (°)", required=False, min_value=-30, max_value=30
    )

    clinical_impression = forms.CharField(
        label="Clinical impression",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    OTTAWA_ANKLE = (
        "ottawa_malleolar_zone_pain",
        "ottawa_tenderness_posterior_tibia_medial_malleolus",
        "ottawa_tenderness_posterior_fibula_lateral_malleolus",
    )
    OTTAWA_FOOT = (
        "ottawa_midfoot_zone_pain",
        "ottawa_tenderness_base_fifth_metatarsal",
        "ottawa_tenderness_navicular",
    )
    OTTAWA_KNEE = (
        "ottawa_knee_isolated_patella_tenderness",
        "ottawa_knee_fibular_head_tenderness",
        "ottawa_knee_cannot_flex_90",
    )

    def __init__(self, *args, patient=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        for number in range(1, clinical.LEFS_ITEM_COUNT + 1):
            self.fields[f"lefs_{number}"] = forms.TypedChoiceField(
                label=clinical.LEFS_ITEMS[number - 1],
                choices=LEFS_CHOICES,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        if not self.is_bound and "assessed_at" not in self.initial:
            self.initial["assessed_at"] = timezone.localtime().replace(second=0, microsecond=0)

    @property
    def ottawa_ankle_fields(self):
        return [self[name] for name in self.OTTAWA_ANKLE]

    @property
    def ottawa_foot_fields(self):
        return [self[name] for name in self.OTTAWA_FOOT]

    @property
    def ottawa_knee_fields(self):
        return [self[name] for name in self.OTTAWA_KNEE]

    def lefs_fields(self):
        return [
            (number, self[f"lefs_{number}"]) for number in range(1, clinical.LEFS_ITEM_COUNT + 1)
        ]

    def clean_assessed_at(self):
        value = self.cleaned_data["assessed_at"]
        if value > timezone.now() + dt.timedelta(minutes=10):
            raise forms.ValidationError("The assessment cannot be dated in the future.")
        return value

    def clean(self):
        cleaned = super().clean()
        worst, best = cleaned.get("pain_worst"), cleaned.get("pain_best")
        now = cleaned.get("pain_now")
        if None not in (worst, best) and best > worst:
            self.add_error("pain_best", "Best pain cannot be higher than worst pain.")
        elif None not in (now, worst, best) and not best <= now <= worst:
            self.add_error(
                "pain_now", "Pain now should lie between best and worst in the last 24 hours."
            )
        causes = cleaned.get("suspected_causes") or []
        if "other" in causes and not (cleaned.get("suspected_cause_other") or "").strip():
            self.add_error("suspected_cause_other", "Name the other suspected cause.")
        onset, assessed_at = cleaned.get("onset_date"), cleaned.get("assessed_at")
        if onset and assessed_at and onset > timezone.localtime(assessed_at).date():
            self.add_error("onset_date", "Onset cannot be after the assessment date.")
        if self.patient is not None:
            dob = self.patient.date_of_birth
            if onset and onset < dob:
                self.add_error("onset_date", "Onset cannot be before the patient's date of birth.")
        return cleaned

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        answers = [data.pop(f"lefs_{n}", None) for n in range(1, clinical.LEFS_ITEM_COUNT + 1)]
        data["lefs_answers"] = answers
        data["onset_mechanism"] = data.get("onset_mechanism") or ""
        data.pop("reason", None)
        return data

    @classmethod
    def initial_from(cls, assessment: Assessment) -> dict:
        initial = {name: getattr(assessment, name) for name in ASSESSMENT_FIELDS}
        initial.update(cls.lefs_initial(initial.pop("lefs_answers") or []))
        initial["assessed_at"] = timezone.localtime(assessment.assessed_at)
        return initial

    @staticmethod
    def lefs_initial(answers: list) -> dict:
        """The LEFS radio values for stored answers (an assessment's or a patient's
        questionnaire): "" for an item not answered."""
        initial = {}
        for number in range(1, clinical.LEFS_ITEM_COUNT + 1):
            value = answers[number - 1] if len(answers) >= number else None
            initial[f"lefs_{number}"] = "" if value is None else str(value)
        return initial


class AmendmentForm(AssessmentForm):
    reason = forms.CharField(
        label="Reason for the amendment",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the record, together with who changed what and when.",
    )


# --- Showing stored values to people (amendment history, original as signed) ----------

EXTRA_LABELS = {
    "lefs_answers": "LEFS answers",
    "lefs_total": "LEFS total (0–80)",
    "xray_ankle_indicated": "X-ray indicated: ankle series",
    "xray_foot_indicated": "X-ray indicated: foot series",
    "xray_knee_indicated": "X-ray indicated: knee",
    "xray_indicated": "X-ray indicated",
    "ottawa_ankle_verdict": "Ottawa ankle rule",
    "ottawa_foot_verdict": "Ottawa foot rule",
    "ottawa_knee_verdict": "Ottawa knee rule",
}
CHOICE_LABELS = {
    "kind": dict(AssessmentKind.choices),
    "region": dict(Region.choices),
    "side": dict(Side.choices),
    "onset_mechanism": dict(OnsetMechanism.choices),
    "pain_qualities": dict(PainQuality.choices),
    "suspected_causes": dict(SuspectedCause.choices),
    "precautions": dict(Precaution.choices),
    **{f"ottawa_{rule}_verdict": dict(OttawaVerdict.choices) for rule in ("ankle", "foot", "knee")},
}


def field_label(name: str) -> str:
    if name in EXTRA_LABELS:
        return EXTRA_LABELS[name]
    field = AssessmentForm.base_fields.get(name)
    return str(field.label) if field is not None else name.replace("_", " ").capitalize()


def display_value(name: str, value) -> str:
    """A stored (JSON) value as a person reads it: labels for codes, Yes/No, dashes."""
    if name.endswith("_verdict") and value == "":
        return str(OttawaVerdict.EARLIER_RULE.label)
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name == "lefs_answers":
        return " ".join("–" if answer is None else str(answer) for answer in value)
    labels = CHOICE_LABELS.get(name)
    if labels is not None:
        if isinstance(value, list):
            return ", ".join(str(labels.get(v, v)) for v in value)
        return str(labels.get(value, value))
    if name == "assessed_at" and isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).strftime("%d %b %Y, %H:%M")
        except ValueError:
            return value
    return str(value)


# --- Addenda (signed records of any clinician; visit notes use the same form) ----------


class AddendumForm(CompleteFormMixin, forms.Form):
    text = forms.CharField(
        label="Addendum",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Added under your name and the time; the signed record is not changed. "
        "An addendum cannot be edited or deleted once added.",
    )
