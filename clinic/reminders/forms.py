from django import forms

PAIN_CHOICES = [(score, str(score)) for score in range(11)]


class PainCheckinForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=PAIN_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        label="Pain now (0–10)",
    )

    def __init__(self, *args, texts: dict, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["score"]
        field.label = texts["pain_question"]
        field.help_text = texts["pain_help"]
        field.error_messages["required"] = texts["pain_required"]
        field.error_messages["invalid_choice"] = texts["pain_required"]
