"""The reports' filters: a date range (bounded) and, for outcomes, the measure."""

from __future__ import annotations

from django import forms

from patients.inputs import ClinicDateField

from . import selectors


class PeriodForm(forms.Form):
    date_from = ClinicDateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = ClinicDateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.default = selectors.default_period(today)
        self.fields["date_from"].widget.attrs["placeholder"] = self.default.start.isoformat()
        self.fields["date_to"].widget.attrs["placeholder"] = self.default.end.isoformat()

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start = cleaned.get("date_from")
        end = cleaned.get("date_to")
        if start is None and end is None:
            start, end = self.default.start, self.default.end
        elif start is None:
            # Only an end: the default length of period, ending there.
            start = end - (self.default.end - self.default.start)
        elif end is None:
            end = min(start + (self.default.end - self.default.start), self.default.end)
            end = max(end, start)
        if end < start:
            self.add_error("date_to", "The end date is before the start date.")
            return cleaned
        if (end - start).days + 1 > selectors.MAX_DAYS:
            self.add_error(
                "date_to",
                f"A report covers at most {selectors.MAX_DAYS // 7} weeks "
                f"({selectors.MAX_DAYS} days); choose a shorter range.",
            )
            return cleaned
        cleaned["period"] = selectors.Period(start, end)
        return cleaned

    @property
    def period(self) -> selectors.Period:
        """The period asked for (valid form) or the default one (to label an empty page)."""
        if self.is_valid():
            return self.cleaned_data["period"]
        return self.default


class OutcomesForm(PeriodForm):
    measure = forms.ChoiceField(
        label="Measure",
        required=False,
        choices=list(selectors.MEASURES.items()),
        help_text="LEFS: function, MCID a rise of 9 points. NPRS: pain now, MCID a drop of "
        "2 points or 30 %.",
    )

    def clean_measure(self) -> str:
        return self.cleaned_data.get("measure") or selectors.LEFS
