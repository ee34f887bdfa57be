from django import forms
from django.contrib.auth import get_user_model

from patients.audit import AuditAction
from patients.inputs import ClinicDateField, IdField, IdModelChoiceField

User = get_user_model()


class AuditFilterForm(forms.Form):
    patient = IdField(
        label="Patient record number",
        required=False,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": "No patient has this record number.",
            "out_of_range": "No patient has this record number.",
        },
    )
    patient_name = forms.CharField(
        label="Patient",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "Any part of the name"}),
    )
    user = IdModelChoiceField(
        label="Staff member",
        queryset=User.objects.order_by("username"),
        required=False,
        empty_label="Anyone",
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action")] + list(AuditAction.choices)
    )
    date_from = ClinicDateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = ClinicDateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
