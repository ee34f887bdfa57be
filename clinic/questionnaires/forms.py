"""The patient's questionnaire forms, in the active (the patient's) language.

The LEFS activities and answers are the ones in patients/clinical.py (docs/clinical.md
§3), repeated here as literals so the message catalogues carry them; a test checks the
English is the same, word for word. Validation only: scoring is the server's
(patients.services.questionnaire_score).
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from patients import clinical

LEFS_ITEMS = (
    _("Any of your usual work, housework or school activities"),
    _("Your usual hobbies, recreational or sporting activities"),
    _("Getting into or out of the bath"),
    _("Walking between rooms"),
    _("Putting on your shoes or socks"),
    _("Squatting"),
    _("Lifting an object, like a bag of groceries, from the floor"),
    _("Performing light activities around your home"),
    _("Performing heavy activities around your home"),
    _("Getting into or out of a car"),
    _("Walking 2 blocks"),
    _("Walking a mile"),
    _("Going up or down 10 stairs (about 1 flight of stairs)"),
    _("Standing for 1 hour"),
    _("Sitting for 1 hour"),
    _("Running on even ground"),
    _("Running on uneven ground"),
    _("Making sharp turns while running fast"),
    _("Hopping"),
    _("Rolling over in bed"),
)
LEFS_ANSWERS = (
    _("Extreme difficulty or unable"),
    _("Quite a bit of difficulty"),
    _("Moderate difficulty"),
    _("A little bit of difficulty"),
    _("No difficulty"),
)


class LefsQuestionnaireForm(forms.Form):
    """The 20 LEFS items, each 0-4. Every item must be answered (no total otherwise,
    docs/clinical.md §3): the error names the items still open, and the answers given
    are shown again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.missing: list[int] = []
        for number, label in enumerate(LEFS_ITEMS, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=label,
                choices=[(value, text) for value, text in enumerate(LEFS_ANSWERS)],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": _("Choose one of the answers.")},
            )

    def clean(self):
        cleaned = super().clean()
        answers = [cleaned.get(f"item_{n}") for n in range(1, clinical.LEFS_ITEM_COUNT + 1)]
        self.missing = clinical.lefs_missing(answers)
        if self.missing:
            items = "; ".join(f"{n}. {LEFS_ITEMS[n - 1]}" for n in self.missing)
            raise forms.ValidationError(
                ngettext(
                    "One activity is not answered yet: %(items)s.",
                    "%(count)d activities are not answered yet: %(items)s.",
                    len(self.missing),
                )
                % {"count": len(self.missing), "items": items}
            )
        return cleaned

    def answers(self) -> list[int | None]:
        return [self.cleaned_data.get(f"item_{n}") for n in range(1, clinical.LEFS_ITEM_COUNT + 1)]

    def items(self) -> list[tuple[int, forms.BoundField, bool]]:
        """(number, field, still missing) for the template, in order."""
        missing = set(self.missing)
        return [
            (n, self[f"item_{n}"], n in missing) for n in range(1, clinical.LEFS_ITEM_COUNT + 1)
        ]

    def answered(self) -> int:
        if not self.is_bound:
            return 0
        return clinical.LEFS_ITEM_COUNT - len(self.missing)
