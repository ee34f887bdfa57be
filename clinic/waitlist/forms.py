"""Forms for the waitlist: validation only (the services decide)."""

from __future__ import annotations

import datetime as dt

from django import forms

from clinic.models import AppointmentKind, Practitioner
from clinic.scheduling.forms import WEEKDAY_CHOICES, DateInput, TimeInput, _combine
from patients.inputs import (
    ClinicDateField,
    IdModelChoiceField,
    PatientPickerField,
    parse_date,
    parse_id,
)
from patients.localtime import clinic_today


class WaitlistEntryForm(forms.Form):
    patient = PatientPickerField(help_text="Current (not archived) patients only.")
    practitioner = IdModelChoiceField(
        queryset=Practitioner.objects.filter(active=True),
        required=False,
        empty_label="Any practitioner",
    )
    kind = forms.ChoiceField(label="Kind of visit", choices=AppointmentKind.choices)
    earliest_date = ClinicDateField(label="Earliest date", widget=DateInput())
    latest_date = ClinicDateField(label="Latest date", widget=DateInput())
    weekdays = forms.TypedMultipleChoiceField(
        label="Days the patient can come",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    window_start = forms.TimeField(
        label="From", widget=TimeInput(), help_text="Clinic time: the visit starts at or after."
    )
    window_end = forms.TimeField(
        label="Until", widget=TimeInput(), help_text="Clinic time: the visit ends by then."
    )

    def clean(self):
        cleaned = super().clean()
        earliest, latest = cleaned.get("earliest_date"), cleaned.get("latest_date")
        if earliest and latest:
            if latest < earliest:
                self.add_error("latest_date", "The latest date must be on or after the earliest.")
            elif latest < clinic_today():
                self.add_error("latest_date", "The latest date is in the past.")
        start, end = cleaned.get("window_start"), cleaned.get("window_end")
        if start and end and end <= start:
            self.add_error("window_end", "The time window must end after it starts.")
        return cleaned


class WaitlistBookForm(forms.Form):
    """Book an entry by hand: a practitioner, a day and a start (the entry's kind and its
    usual length)."""

    practitioner = IdModelChoiceField(
        queryset=Practitioner.objects.filter(active=True), empty_label="Choose a practitioner…"
    )
    date = ClinicDateField(widget=DateInput())
    time = forms.TimeField(label="Start time", widget=TimeInput(), help_text="Clinic time.")
    override_hours = forms.BooleanField(
        label="Book outside working hours anyway",
        required=False,
        help_text="Only after checking with the practitioner.",
    )

    def clean(self):
        cleaned = super().clean()
        cleaned["starts_at"] = _combine(self, "date", "time")
        return cleaned


def book_initial(entry) -> dict[str, object]:
    return {
        "practitioner": entry.practitioner_id,
        "date": max(entry.earliest_date, clinic_today()),
        "time": entry.window_start,
    }


def weekday_initial() -> list[int]:
    return [0, 1, 2, 3, 4]


def entry_initial(params) -> dict[str, object]:
    """Prefill from the patient page's and the booking form's links; values that do not
    parse are left out."""
    initial: dict[str, object] = {
        "weekdays": weekday_initial(),
        "window_start": dt.time(8, 0),
        "window_end": dt.time(18, 0),
        "earliest_date": clinic_today(),
        "latest_date": clinic_today() + dt.timedelta(days=28),
    }
    for key in ("patient", "practitioner"):
        number = parse_id(params.get(key))
        if number is not None:
            initial[key] = number
    kind = params.get("kind")
    if kind in AppointmentKind.values:
        initial["kind"] = kind
    day = parse_date(params.get("date"))
    if day is not None and day >= clinic_today():
        initial["earliest_date"] = day
        initial["latest_date"] = day + dt.timedelta(days=28)
    return initial
