from django import forms

from clinic.models import AttentionReason
from patients.inputs import IdField


class AcknowledgeForm(forms.Form):
    patient = IdField()
    reason = forms.ChoiceField(choices=AttentionReason.choices)
    note = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you did or decided (up to 500 characters).",
    )
