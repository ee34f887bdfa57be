from django import forms


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "spellcheck": "false",
                "autocapitalize": "off",
            }
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isalnum():
            raise forms.ValidationError("Enter the code: digits, or letters for a recovery code.")
        return code
