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


class AppointmentCancelForm(forms.Form):
    """The patient's reason on the cancel link's page, in their language."""

    reason = forms.CharField(
        label=_("Why are you cancelling?"),
        help_text=_("A few words are enough, for example “I have to work”."),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Please tell us why you are cancelling."),
            "max_length": _("Please keep it under 300 characters."),
        },
    )

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError(_("Please tell us why you are cancelling."))
        return reason
