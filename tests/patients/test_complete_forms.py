"""The mechanism behind "a missing field is an error, never 'none'" (patients/complete_forms.py)."""

import pytest
from django import forms
from django.http import QueryDict

from patients.complete_forms import MISSING_FIELD, MISSING_FORM, CompleteFormMixin


class _Form(CompleteFormMixin, forms.Form):
    text = forms.CharField(required=False)
    agreed = forms.BooleanField(required=False)
    flags = forms.MultipleChoiceField(
        required=False, choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple
    )


def _form(query: str) -> _Form:
    return _Form(QueryDict(query))


def test_unticked_boxes_sent_as_empty_markers_are_answers_not_missing():
    form = _form("text=&agreed=&flags=")
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"text": "", "agreed": False, "flags": []}


def test_ticked_boxes_read_after_their_marker_in_either_order():
    form = _form("text=x&agreed=&agreed=on&flags=&flags=b")
    assert form.is_valid() and form.cleaned_data["agreed"] is True
    assert form.cleaned_data["flags"] == ["b"]
    reversed_order = _form("text=x&agreed=on&agreed=&flags=")
    assert reversed_order.is_valid() and reversed_order.cleaned_data["agreed"] is True


@pytest.mark.parametrize("missing", ["text", "agreed", "flags"])
def test_a_field_missing_from_the_submission_is_refused(missing):
    sent = {"text": "", "agreed": "", "flags": ""}
    del sent[missing]
    form = _form("&".join(f"{name}={value}" for name, value in sent.items()))
    assert not form.is_valid()
    assert form.errors[missing] == [MISSING_FIELD]
    assert form.non_field_errors() == [MISSING_FORM]


def test_checkbox_widgets_render_their_marker_first():
    html = str(_Form()["agreed"])
    assert html.startswith('<input type="hidden" name="agreed" value="">')
    flags = str(_Form()["flags"])
    assert flags.startswith('<input type="hidden" name="flags" value="">')


def test_an_untouched_extra_formset_row_missing_a_field_is_refused():
    rows = forms.formset_factory(_Form, extra=1)
    data = {"f-TOTAL_FORMS": "1", "f-INITIAL_FORMS": "0", "f-0-text": "", "f-0-agreed": ""}
    formset = rows(QueryDict("&".join(f"{k}={v}" for k, v in data.items())), prefix="f")
    assert not formset.is_valid()
    assert formset.forms[0].errors["flags"] == [MISSING_FIELD]
