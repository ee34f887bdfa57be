"""Clinical forms refuse a submission that lacks one of their fields.

A field sent empty is an answer ("not examined", "no pain character ticked"); a field
that is not in the request at all is a truncated or forged request, and a clinical form
never reads it as "none" (docs/clinical.md: "A missing cell is an error, never 'none'").

Browsers leave two kinds of input out of a normal submission: an unticked checkbox and a
multiple select with nothing chosen. So every checkbox-type widget of a complete form
renders a hidden input of the same name with an empty value before its boxes; the field
is then always present when a browser sends the page, and the empty marker value is
dropped when the field's value is read. Everything else a browser always sends (text,
number, date and single-select inputs; the radio groups of the clinical forms always have
one option checked).

Lives in ``patients`` (the lowest app) so that ``treatments`` uses the same mechanism.
"""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.html import format_html

MISSING_FIELD = "This field was missing from the form as sent, so nothing was saved."
MISSING_FORM = (
    "Part of the form was missing from what the browser sent (the page may have been cut "
    "short or changed). Nothing was saved: reload the page and enter the changes again."
)
# crispy-forms renders a CheckboxSelectMultiple itself (not through the widget), so this
# field template adds the marker for it; see complete_field.html.
FIELD_TEMPLATE = "patients/partials/complete_field.html"


def _values(data, name: str) -> list:
    if hasattr(data, "getlist"):
        return data.getlist(name)
    value = data.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class PresenceMarked:
    """A checkbox-type widget whose field is in every real submission (see module)."""

    presence_marker = True

    def render(self, name, value, attrs=None, renderer=None):
        marker = format_html('<input type="hidden" name="{}" value="">', name)
        return marker + super().render(name, value, attrs, renderer)

    def value_omitted_from_data(self, data, files, name) -> bool:
        return name not in data


class MarkedCheckboxInput(PresenceMarked, forms.CheckboxInput):
    def value_from_datadict(self, data, files, name):
        values = [value for value in _values(data, name) if value != ""]
        if not values:
            return False
        return super().value_from_datadict({name: values[-1]}, files, name)


class MarkedCheckboxSelectMultiple(PresenceMarked, forms.CheckboxSelectMultiple):
    def value_from_datadict(self, data, files, name):
        return [value for value in _values(data, name) if value != ""]


class MarkedSelectMultiple(PresenceMarked, forms.SelectMultiple):
    def value_from_datadict(self, data, files, name):
        return [value for value in _values(data, name) if value != ""]


# The widgets browsers leave out when nothing is ticked, and their marked versions.
MARKED: dict[type[forms.Widget], type[forms.Widget]] = {
    forms.CheckboxInput: MarkedCheckboxInput,
    forms.CheckboxSelectMultiple: MarkedCheckboxSelectMultiple,
    forms.SelectMultiple: MarkedSelectMultiple,
}


def _mark(field: forms.Field) -> None:
    marked = MARKED.get(type(field.widget))
    if marked is not None:
        # The marked classes add behaviour only (no state), so the configured widget
        # (attrs, choices) is kept as it is.
        field.widget.__class__ = marked


class CompleteFormMixin:
    """Put first in a clinical form's bases: every field of the form must be in the
    submitted data, or the form is invalid with a clear error and nothing is saved.

    The check runs in ``full_clean`` rather than ``clean`` so that it also covers an
    untouched extra row of a formset, which Django would otherwise skip as empty.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _mark(field)
        if not hasattr(self, "helper"):
            self.helper = FormHelper()
            self.helper.form_tag = False
            self.helper.help_text_inline = False
            self.helper.error_text_inline = False
            self.helper.field_template = FIELD_TEMPLATE

    def __getitem__(self, name):
        _mark(self.fields[name])  # a field added after __init__ renders its marker too
        return super().__getitem__(name)

    def full_clean(self):
        super().full_clean()
        if not self.is_bound:
            return
        missing = []
        for name, field in self.fields.items():
            if field.disabled:
                continue  # never read from the request
            _mark(field)  # fields added after __init__ (e.g. in a subclass's __init__)
            if field.widget.value_omitted_from_data(self.data, self.files, self.add_prefix(name)):
                missing.append(name)
        for name in missing:
            if name not in self._errors:
                self.add_error(name, MISSING_FIELD)
        if missing:
            self.add_error(None, MISSING_FORM)
