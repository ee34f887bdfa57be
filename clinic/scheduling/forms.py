"""Forms for scheduling: validation only (the services decide what may be booked)."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django import forms
from django.utils import timezone

from clinic.models import AppointmentKind, Practitioner, Room, SchedulingSettings
from clinic.models.scheduling import ROOM_CAPACITY_MAX
from patients.inputs import (
    ClinicDateField,
    IdField,
    IdModelChoiceField,
    ListedModelChoiceField,
    PatientPickerField,
    date_in_range,
)
from patients.localtime import UTC, clinic_zone, local_datetime

from . import selectors

WEEKDAY_CHOICES = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]

MAX_SERIES = 104  # as the booking service allows

DURATION_HELP = "Leave empty for the usual length of this kind of visit."


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", attrs={"step": 300}, **kwargs)


class CalendarDateForm(forms.Form):
    """The calendar's ``?date=`` (day and week views)."""

    date = ClinicDateField(required=False)


def _combine(form: forms.Form, day_field: str, time_field: str) -> dt.datetime | None:
    day, time = form.cleaned_data.get(day_field), form.cleaned_data.get(time_field)
    if day is None or time is None:
        return None
    try:
        return local_datetime(day, time)
    except ValueError as error:
        form.add_error(time_field, str(error))
        return None


def _clean_duration(value, kind: str | None, rules: SchedulingSettings) -> int | None:
    if value in (None, ""):
        if not kind:
            return None
        return selectors.kind_durations(rules)[kind][0]
    if value < 10 or value > 240:
        raise forms.ValidationError("A visit lasts between 10 minutes and 4 hours (240 minutes).")
    return value


class VisitTimeMixin:
    """Date + time in the clinic's time zone and a length, combined into UTC instants."""

    rules: SchedulingSettings

    def clean_visit_time(self, cleaned):
        starts_at = _combine(self, "date", "time")
        kind = cleaned.get("kind")
        try:
            minutes = _clean_duration(cleaned.get("duration"), kind, self.rules)
        except forms.ValidationError as error:
            self.add_error("duration", error)
            minutes = None
        if starts_at is not None and starts_at < timezone.now():
            self.add_error("time", "That time is in the past: visits can only be booked ahead.")
            starts_at = None
        cleaned["starts_at"] = starts_at
        if starts_at is not None and minutes:
            # Add real minutes to the instant, never to the wall-clock time.
            cleaned["ends_at"] = starts_at.astimezone(UTC) + dt.timedelta(minutes=minutes)
        return cleaned


class RoomChoiceField(ListedModelChoiceField):
    """A room, with how many visits it holds when it is shared ("Gym (holds 4)")."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.name} (holds {obj.capacity})" if obj.capacity > 1 else obj.name


class BookingForm(VisitTimeMixin, forms.Form):
    patient = PatientPickerField(help_text="Current (not archived) patients only.")
    practitioner = ListedModelChoiceField(
        queryset=Practitioner.objects.filter(active=True), empty_label="Choose a practitioner…"
    )
    kind = forms.ChoiceField(label="Kind of visit", choices=AppointmentKind.choices)
    date = ClinicDateField(widget=DateInput())
    time = forms.TimeField(label="Start time", widget=TimeInput(), help_text="Clinic time.")
    duration = forms.IntegerField(label="Length (minutes)", required=False, help_text=DURATION_HELP)
    room = RoomChoiceField(
        queryset=Room.objects.filter(active=True), required=False, empty_label="No room"
    )
    override_hours = forms.BooleanField(
        label="Book outside working hours anyway",
        required=False,
        help_text="Only after checking with the practitioner.",
    )

    def __init__(self, *args, rules: SchedulingSettings, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.show_override = bool(self.data.get("override_hours"))

    def offer_override(self) -> None:
        self.show_override = True

    def clean(self):
        return self.clean_visit_time(super().clean())

    def booking_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "patient": data["patient"],
            "practitioner": data["practitioner"],
            "kind": data["kind"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "room": data["room"],
            "allow_outside_hours": data["override_hours"],
        }


class RescheduleForm(VisitTimeMixin, forms.Form):
    practitioner = ListedModelChoiceField(queryset=Practitioner.objects.filter(active=True))
    date = ClinicDateField(label="New date", widget=DateInput())
    time = forms.TimeField(label="New start time", widget=TimeInput(), help_text="Clinic time.")
    duration = forms.IntegerField(label="Length (minutes)", required=False)
    room = RoomChoiceField(
        queryset=Room.objects.filter(active=True), required=False, empty_label="No room"
    )
    override_hours = forms.BooleanField(label="Book outside working hours anyway", required=False)

    def __init__(self, *args, rules: SchedulingSettings, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.kind = kind
        self.show_override = bool(self.data.get("override_hours"))

    def offer_override(self) -> None:
        self.show_override = True

    def clean(self):
        cleaned = super().clean()
        cleaned["kind"] = self.kind
        return self.clean_visit_time(cleaned)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason for cancelling",
        max_length=500,
        help_text="For example “Patient unwell” or “Therapist away”. Not clinical details.",
        widget=forms.TextInput(),
    )
    scope = forms.ChoiceField(
        label="Which visits",
        choices=[("one", "This visit only"), ("following", "This and all following visits")],
        initial="one",
        widget=forms.RadioSelect,
        required=False,
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason for the cancellation.")
        return reason


class UndoStatusForm(forms.Form):
    reason = forms.CharField(
        label="Why undo it",
        max_length=300,
        help_text="For example “Checked in the wrong patient”. Kept in the audit log.",
        widget=forms.TextInput(),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason for undoing it.")
        return reason


class SeriesCancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason for cancelling",
        max_length=500,
        help_text="For example “Treatment finished early”. Not clinical details.",
        widget=forms.TextInput(),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason for the cancellation.")
        return reason


class SeriesMoveForm(forms.Form):
    """Where the remaining visits go: weekdays, a time and a practitioner."""

    practitioner = ListedModelChoiceField(
        queryset=Practitioner.objects.filter(active=True), empty_label="Choose a practitioner…"
    )
    weekdays = forms.TypedMultipleChoiceField(
        label="New days of the week",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    time = forms.TimeField(label="New start time", widget=TimeInput(), help_text="Clinic time.")
    first_date = ClinicDateField(
        label="From", widget=DateInput(), help_text="The first moved visit is on or after it."
    )


def parse_instant(value: str | None) -> dt.datetime | None:
    """An aware ISO instant posted back from a preview, or None."""
    if not value or len(value) > 40:
        return None
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(instant) or not date_in_range(instant):
        return None
    return instant


class FreeSlotForm(forms.Form):
    practitioner = ListedModelChoiceField(
        queryset=Practitioner.objects.filter(active=True),
        required=False,
        empty_label="Any practitioner",
    )
    kind = forms.ChoiceField(label="Kind of visit", choices=AppointmentKind.choices)
    duration = forms.IntegerField(label="Length (minutes)", required=False, help_text=DURATION_HELP)
    date = ClinicDateField(label="From", widget=DateInput(), required=False)
    count = forms.IntegerField(label="How many", min_value=1, max_value=30, initial=5)

    def __init__(self, *args, rules: SchedulingSettings, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules

    def clean_duration(self):
        return self.cleaned_data.get("duration")

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["minutes"] = _clean_duration(
                cleaned.get("duration"), cleaned.get("kind"), self.rules
            )
        except forms.ValidationError as error:
            self.add_error("duration", error)
        day = cleaned.get("date")
        cleaned["after"] = local_datetime(day, dt.time.min) if day else timezone.now()
        return cleaned


class RecurringForm(forms.Form):
    patient = PatientPickerField()
    practitioner = ListedModelChoiceField(
        queryset=Practitioner.objects.filter(active=True), empty_label="Choose a practitioner…"
    )
    kind = forms.ChoiceField(
        label="Kind of visit", choices=AppointmentKind.choices, initial=AppointmentKind.FOLLOW_UP
    )
    first_date = ClinicDateField(label="First date", widget=DateInput())
    time = forms.TimeField(label="Start time", widget=TimeInput(), help_text="Clinic time.")
    weekdays = forms.TypedMultipleChoiceField(
        label="Days of the week",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    weeks = forms.IntegerField(label="For how many weeks", min_value=1, max_value=52, initial=6)
    duration = forms.IntegerField(label="Length (minutes)", required=False, help_text=DURATION_HELP)
    room = RoomChoiceField(
        queryset=Room.objects.filter(active=True), required=False, empty_label="No room"
    )
    plan = IdField(required=False, widget=forms.HiddenInput)
    override_hours = forms.BooleanField(
        label="Book times outside working hours anyway", required=False
    )

    def __init__(self, *args, rules: SchedulingSettings, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.treatment_plan = None

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["minutes"] = _clean_duration(
                cleaned.get("duration"), cleaned.get("kind"), self.rules
            )
        except forms.ValidationError as error:
            self.add_error("duration", error)
        patient, plan_id = cleaned.get("patient"), cleaned.get("plan")
        if plan_id and patient is not None:
            from treatments.models import TreatmentPlan

            self.treatment_plan = TreatmentPlan.objects.filter(pk=plan_id, patient=patient).first()
            if self.treatment_plan is None:
                self.add_error(None, "That plan of care does not belong to this patient.")
        weekdays, weeks = cleaned.get("weekdays"), cleaned.get("weeks")
        first_date, time = cleaned.get("first_date"), cleaned.get("time")
        starts = []
        if weekdays and weeks and first_date and time:
            for day in selectors.series_dates(
                first_date=first_date, weekdays=weekdays, count=weeks * len(weekdays)
            ):
                try:
                    starts.append(local_datetime(day, time))
                except ValueError as error:
                    self.add_error("time", str(error))
        if len(starts) > MAX_SERIES:
            self.add_error(
                "weeks", f"A series holds at most {MAX_SERIES} visits; book fewer weeks."
            )
            starts = []
        cleaned["starts"] = starts
        return cleaned


class OccurrenceField(forms.MultipleChoiceField):
    """Instants posted back from the preview, compared as instants: the page writes them
    in clinic time, the server lists them in UTC."""

    def to_python(self, value):
        values = super().to_python(value)
        try:
            instants = [dt.datetime.fromisoformat(v) for v in values if len(v) <= 40]
        except ValueError:
            instants = None
        # Out-of-range years cannot be compared as instants (OverflowError): refuse them.
        if instants is None or len(instants) != len(values):
            instants = None
        if instants is None or not all(map(date_in_range, instants)):
            raise forms.ValidationError(self.error_messages["invalid_choice"] % {"value": ""})
        return instants

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        allowed = {choice for choice, _ in self.choices}
        for instant in value:
            if timezone.is_naive(instant) or instant not in allowed:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"] % {"value": ""}, code="invalid_choice"
                )


class ConfirmSeriesForm(forms.Form):
    """The occurrences ticked on the preview."""

    occurrence = OccurrenceField(
        required=True,
        error_messages={
            "required": "Tick at least one visit to book.",
            "invalid_choice": "The times changed since the preview: check the new preview "
            "below and book again.",
        },
    )

    def __init__(self, *args, choices: list[dt.datetime], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["occurrence"]).choices = [
            (c, c.isoformat()) for c in choices
        ]


class WorkingHoursForm(forms.Form):
    weekday = forms.TypedChoiceField(label="Day", choices=WEEKDAY_CHOICES, coerce=int)
    start = forms.TimeField(label="From", widget=TimeInput())
    end = forms.TimeField(label="Until", widget=TimeInput())

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", "Working hours must end after they start.")
        return cleaned


class TimeOffForm(forms.Form):
    start_date = ClinicDateField(label="First day away", widget=DateInput())
    start_time = forms.TimeField(
        label="From", widget=TimeInput(), required=False, help_text="Empty: the whole day."
    )
    end_date = ClinicDateField(label="Last day away", widget=DateInput())
    end_time = forms.TimeField(
        label="Until", widget=TimeInput(), required=False, help_text="Empty: the whole day."
    )
    reason = forms.CharField(max_length=200, required=False, help_text="Shown on the calendar.")

    def clean(self):
        cleaned = super().clean()
        start_date, end_date = cleaned.get("start_date"), cleaned.get("end_date")
        if start_date is None or end_date is None:
            return cleaned
        tz = clinic_zone()
        start_time = cleaned.get("start_time") or dt.time.min
        try:
            starts_at = local_datetime(start_date, start_time, tz)
            if cleaned.get("end_time"):
                ends_at = local_datetime(end_date, cleaned["end_time"], tz)
            else:
                ends_at = local_datetime(end_date + dt.timedelta(days=1), dt.time.min, tz)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        if ends_at <= starts_at:
            self.add_error("end_date", "Time off must end after it starts.")
        cleaned["starts_at"], cleaned["ends_at"] = starts_at, ends_at
        return cleaned


class PractitionerForm(forms.Form):
    display_name = forms.CharField(label="Name on the calendar", max_length=100)
    active = forms.BooleanField(
        label="Taking bookings", required=False, help_text="Untick to hide from the calendar."
    )


class PractitionerCreateForm(forms.Form):
    user = IdModelChoiceField(
        label="Therapist account",
        queryset=None,
        help_text="Therapists get a practitioner record when their account is created; "
        "this links an older account.",
    )
    display_name = forms.CharField(label="Name on the calendar", max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        from clinic.roles import THERAPIST

        self.fields["user"].queryset = get_user_model().objects.filter(
            groups__name=THERAPIST, practitioner__isnull=True, is_active=True
        )


class RoomForm(forms.Form):
    name = forms.CharField(max_length=100)
    capacity = forms.IntegerField(
        label="Capacity",
        min_value=1,
        max_value=ROOM_CAPACITY_MAX,
        initial=1,
        help_text="How many visits the room holds at the same time: 1 for a treatment room, "
        "more for a gym.",
    )
    active = forms.BooleanField(label="In use", required=False, initial=True)

    def __init__(self, *args, room: Room | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = Room.objects.filter(name__iexact=name)
        if self.room is not None:
            others = others.exclude(pk=self.room.pk)
        if others.exists():
            raise forms.ValidationError("There is already a room with this name.")
        return name


class SchedulingSettingsForm(forms.ModelForm):
    class Meta:
        model = SchedulingSettings
        fields = [
            "initial_evaluation_minutes",
            "follow_up_minutes",
            "follow_up_long_minutes",
            "reassessment_minutes",
            "discharge_minutes",
            "late_cancellation_hours",
            "slot_step_minutes",
        ]
        labels = {
            "initial_evaluation_minutes": "Initial evaluation (minutes)",
            "follow_up_minutes": "Follow-up, short (minutes)",
            "follow_up_long_minutes": "Follow-up, long (minutes)",
            "reassessment_minutes": "Re-assessment (minutes)",
            "discharge_minutes": "Discharge visit (minutes)",
            "late_cancellation_hours": "Late cancellation window (hours)",
            "slot_step_minutes": "Free-slot search step (minutes)",
        }
        help_texts = {
            "late_cancellation_hours": "Cancellations closer than this to the visit are "
            "flagged as late.",
        }


class ClosureForm(forms.Form):
    """A day or days the whole clinic is closed (the services check overlaps and length)."""

    starts_on = ClinicDateField(label="First day closed", widget=DateInput())
    ends_on = ClinicDateField(
        label="Last day closed",
        widget=DateInput(),
        required=False,
        help_text="Empty: the first day only.",
    )
    reason = forms.CharField(
        max_length=200,
        help_text="Shown on the calendar and wherever a booking on these days is refused, "
        "e.g. “Christmas Eve”.",
    )

    def clean(self):
        cleaned = super().clean()
        starts_on = cleaned.get("starts_on")
        if (
            starts_on is not None
            and cleaned.get("ends_on") is None
            and not self.has_error("ends_on")
        ):
            cleaned["ends_on"] = starts_on
        ends_on = cleaned.get("ends_on")
        if starts_on is not None and ends_on is not None and ends_on < starts_on:
            self.add_error("ends_on", "The last day closed cannot be before the first.")
        reason = (cleaned.get("reason") or "").strip()
        if "reason" in cleaned and not reason:
            self.add_error("reason", "Say why the clinic is closed.")
        cleaned["reason"] = reason
        return cleaned
