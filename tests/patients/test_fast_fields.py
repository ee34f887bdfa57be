"""``fast_field`` writes a field as crispy-forms' ``as_crispy_field`` does: the same
label, classes, ids, errors and help text, without crispy's template per field."""

import re

from django import forms
from django.template import engines

from patients.inputs import ClinicDateField

FAST = engines["django"].from_string("{% load fast_fields %}{{ field|fast_field }}")
CRISPY = engines["django"].from_string("{% load crispy_forms_tags %}{{ field|as_crispy_field }}")


class _Form(forms.Form):
    name = forms.CharField(label="Patient", required=False, help_text="Any part of it.")
    when = ClinicDateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "Any"), ("a", "A & <b>"), ('q"', "Quote")]
    )
    grouped = forms.ChoiceField(
        label="Grouped", required=False, choices=[("Group <1>", [("x", "X"), ("y", "Y")])]
    )
    agree = forms.BooleanField(label="Agree", required=False)


def _tags(html: str) -> list[str]:
    """The elements with their attributes, whitespace and attribute order aside."""
    out = []
    for tag in re.findall(r"<[^>]+>|[^<\s][^<]*", html):
        tag = " ".join(tag.split())
        if tag.startswith("<") and not tag.startswith("</"):
            name, *attrs = re.findall(r'[\w-]+(?:="[^"]*")?', tag)
            tag = " ".join([name, *sorted(attrs)])
        out.append(tag)
    return out


def test_fields_match_crispys_markup_with_and_without_errors():
    for data in ({}, {"when": "31/31/31", "name": "x" * 5, "kind": "zz"}, {"kind": 'q"'}):
        form = _Form(data)
        form.is_valid()
        for name in ("name", "when", "kind", "grouped", "agree"):
            fast = FAST.render({"field": form[name]})
            crispy = CRISPY.render({"field": form[name]})
            # crispy wraps the widget and its messages in no extra element; ours in a div.
            assert [t for t in _tags(fast) if t not in ("div", "</div>")] == [
                t for t in _tags(crispy) if t not in ("div", "</div>")
            ], name


def test_an_error_is_shown_and_marks_the_input_invalid():
    form = _Form({"when": "31/31/31"})
    form.is_valid()
    html = FAST.render({"field": form["when"]})
    assert 'class="dateinput form-control is-invalid"' in html
    assert 'aria-describedby="id_when_error"' in html
    assert "<strong>" in html and "id_when_error" in html
