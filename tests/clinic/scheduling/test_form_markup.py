"""The booking, free-slot and recurring forms write their fields with ``fast_field``
(patients/templatetags/fast_fields.py): the markup must stay crispy-forms' own, empty,
filled in and with errors, for the scheduling widgets (a date input with its own format,
a time input with a step, the practitioner and room selects)."""

from unittest import mock

import pytest
from django.template import engines

from clinic.scheduling import forms, selectors
from tests.patients.test_fast_fields import _tags

FAST = engines["django"].from_string("{% load fast_fields %}{{ field|fast_field }}")
CRISPY = engines["django"].from_string("{% load crispy_forms_tags %}{{ field|as_crispy_field }}")

BAD = {
    "practitioner": "999999",
    "room": "x",
    "kind": "zz",
    "duration": "-5",
    "date": "31/31/31",
    "first_date": "2026-02-30",
    "time": "25:99",
    "weeks": "0",
    "count": "99",
    "weekdays": ["9"],
    "override_hours": "on",
}


def _plain(html: str) -> list[str]:
    # crispy wraps the widget and its messages in no extra element; fast_field in a div.
    return [t for t in _tags(html) if t not in ("div", "</div>")]


@pytest.mark.django_db
@pytest.mark.parametrize("form_class", [forms.BookingForm, forms.FreeSlotForm, forms.RecurringForm])
@pytest.mark.parametrize("data", [None, {}, BAD], ids=["unbound", "empty", "bad"])
def test_scheduling_form_fields_match_crispys_markup(form_class, data, practitioner, room):
    rules = selectors.scheduling_settings()

    def bound():
        form = form_class(data, rules=rules)
        if data is not None:
            form.is_valid()
        return form

    # Separate forms: crispy adds its classes to the widget it renders.
    fast_form, crispy_form = bound(), bound()
    for name in fast_form.fields:
        fast = FAST.render({"field": fast_form[name]})
        crispy = CRISPY.render({"field": crispy_form[name]})
        assert _plain(fast) == _plain(crispy), (form_class.__name__, name)


@pytest.mark.django_db
def test_the_time_and_date_inputs_are_written_by_fast_field_not_crispy(practitioner):
    form = forms.BookingForm({"time": "25:99"}, rules=selectors.scheduling_settings())
    form.is_valid()
    html = FAST.render({"field": form["time"]})
    assert 'class="timeinput form-control is-invalid"' in html
    assert 'step="300"' in html
    assert 'aria-describedby="id_time_helptext id_time_error"' in html
    html = FAST.render({"field": form["date"]})
    assert 'type="date"' in html and 'class="dateinput form-control is-invalid"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("form_class", [forms.BookingForm, forms.RecurringForm])
def test_the_patient_picker_matches_crispys_markup(form_class, patient):
    rules = selectors.scheduling_settings()
    for value in (str(patient.pk), "999999", "x"):
        fast_form = form_class({"patient": value}, rules=rules)
        crispy_form = form_class({"patient": value}, rules=rules)
        fast_form.is_valid(), crispy_form.is_valid()
        with mock.patch("patients.templatetags.fast_fields.as_crispy_field") as crispy_field:
            fast = FAST.render({"field": fast_form["patient"]})
        assert not crispy_field.called  # written by fast_field, not handed to crispy
        crispy = CRISPY.render({"field": crispy_form["patient"]})
        assert _plain(fast) == _plain(crispy), value


@pytest.mark.django_db
def test_a_checkbox_is_written_by_fast_field_with_its_label_after_it():
    form = forms.BookingForm({"override_hours": "on"}, rules=selectors.scheduling_settings())
    form.is_valid()
    with mock.patch("patients.templatetags.fast_fields.as_crispy_field") as crispy_field:
        html = FAST.render({"field": form["override_hours"]})
    assert not crispy_field.called
    assert html.index('type="checkbox"') < html.index('class="form-check-label"')
    assert 'class="checkboxinput form-check-input"' in html and " checked" in html
    assert 'aria-describedby="id_override_hours_helptext"' in html
