from django import forms
from django.utils.translation import gettext_lazy as _

PAIN_CHOICES = [(score, str(score)) for score in range(11)]


class PainCheckinForm(forms.Form):
    """The 0–10 check-in on the patient's pain link, in the active (the patient's) language."""

    score = forms.TypedChoiceField(
        choices=PAIN_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        label=_("Pain now (0–10)"),
        help_text=_("0 means no pain at all; 10 means the worst pain you can imagine."),
        error_messages={
            "required": _("Choose a number from 0 to 10."),
            "invalid_choice": _("Choose a number from 0 to 10."),
        },
    )
