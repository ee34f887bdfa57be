"""The project's request-parsing helpers: every id and date read from a URL, a query
string or a form goes through here.

Input from a request is hostile until parsed. Two kinds of value reach the database or
date arithmetic straight from it, and both have limits narrower than Python's:

- ids: the database stores 64-bit integers. SQLite raises OverflowError (a 500) for a
  larger number in a query, and some lookups (``__in``, foreign keys) are not guarded by
  Django. A record number is 1..2**63-1; anything else is refused here, before a query.
- dates: ``datetime.date`` stops at years 1 and 9999, so ``date ± 1 day`` or a time-zone
  conversion at either end raises OverflowError. The clinic works with dates from 1900
  (dates of birth) to 2200, which leaves room for any arithmetic the pages do.

Forms use the fields (``ClinicDateField``, ``ClinicDateTimeField``, ``IdField``,
``IdModelChoiceField``, ``ListedModelChoiceField``, ``IdModelMultipleChoiceField``,
``PatientPickerField``); views that
read one value from
``request.GET`` use ``parse_id`` / ``parse_date``. Ids in URL paths are checked by
``clinic.middleware.RecordIdRangeMiddleware`` with ``id_in_range``. This module is in
``patients`` because every app may import it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

MAX_ID = 2**63 - 1
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)
DATE_RANGE_MESSAGE = (
    f"Enter a date between {MIN_DATE.day} {MIN_DATE:%b %Y} and {MAX_DATE.day} {MAX_DATE:%b %Y}."
)
# Longer than any id or date a person types; longer text is not parsed at all (int() of a
# 10,000-digit string is slow and refused by Python anyway).
MAX_INPUT_LENGTH = 40


def id_in_range(value: int) -> bool:
    return 1 <= value <= MAX_ID


def parse_id(value) -> int | None:
    """A record number from a query string or a form, or None when it cannot be one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if id_in_range(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_INPUT_LENGTH or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if id_in_range(number) else None


def date_in_range(value: dt.date) -> bool:
    if isinstance(value, dt.datetime):
        value = value.date()
    return MIN_DATE <= value <= MAX_DATE


def parse_date(value) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) within the clinic's range, or None."""
    if not isinstance(value, str) or len(value) > MAX_INPUT_LENGTH:
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if date_in_range(day) else None


def _range_error() -> ValidationError:
    return ValidationError(DATE_RANGE_MESSAGE, code="date_out_of_range")


class _DateRangeMixin:
    def to_python(self, value):
        if isinstance(value, str) and len(value) > MAX_INPUT_LENGTH:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        result = super().to_python(value)
        if result is not None and not date_in_range(result):
            raise _range_error()
        return result

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if getattr(widget, "input_type", "") == "date":
            attrs.setdefault("min", MIN_DATE.isoformat())
            attrs.setdefault("max", MAX_DATE.isoformat())
        return attrs


class ClinicDateField(_DateRangeMixin, forms.DateField):
    """A date from 1900 to 2200, with a clear message outside it."""


class ClinicDateTimeField(_DateRangeMixin, forms.DateTimeField):
    """A date and time whose day is from 1900 to 2200 (so time-zone conversion and
    arithmetic on it cannot overflow)."""


class IdField(forms.IntegerField):
    """A record number (1..2**63-1) posted as a bare integer."""

    default_error_messages = {
        "invalid": "Enter a valid record number.",
        "out_of_range": "No record has this number.",
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_id(value)
        if number is None:
            code = "out_of_range" if str(value).strip().isdigit() else "invalid"
            raise ValidationError(self.error_messages[code], code=code)
        return number


class ListedChoices(forms.models.ModelChoiceIterator):
    """A select's choices read as one plain query. Django's own iterator reads them with
    ``QuerySet.iterator()``, which on PostgreSQL opens a server-side cursor: a DECLARE, a
    FETCH and a CLOSE, three round trips for a list of a dozen practitioners or rooms."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.rows():
            yield self.choice(obj)

    def rows(self):
        return self.queryset.all()  # a fresh read each time, as Django's


class KeptChoices(ListedChoices):
    """The choices of a ``ListedModelChoiceField``: its form's queryset, read once."""

    def rows(self):
        return self.queryset


class IdModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that refuses impossible ids before it queries the database."""

    iterator = ListedChoices

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not self.to_field_name and not isinstance(value, self.queryset.model):
            if parse_id(value) is None:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class ListedModelChoiceField(IdModelChoiceField):
    """A select of a short list (practitioners, rooms) that finds the chosen record among
    the listed ones: a form shown again with its values (the recurring preview, a refused
    booking) reads the list once for the check and the select, not the chosen record
    and then the list. Each form has its own copy of the queryset, read once."""

    iterator = KeptChoices

    def to_python(self, value):
        if value in self.empty_values or self.to_field_name:
            return super().to_python(value)
        pk = value.pk if isinstance(value, self.queryset.model) else parse_id(value)
        if pk is not None:  # impossible ids are refused before any query
            for obj in self.queryset:
                if obj.pk == pk:
                    return obj
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")


class IdModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses impossible ids before its ``__in`` query."""

    default_error_messages = {"invalid_pk_value": "“%(pk)s” is not a valid record number."}

    def _check_values(self, value):
        if not self.to_field_name:
            for item in value:
                if isinstance(item, self.queryset.model):
                    continue
                if parse_id(item) is None:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": str(item)[:MAX_INPUT_LENGTH]},
                    )
        return super()._check_values(value)


class BoundedFormSet(forms.BaseFormSet):
    """A formset that refuses a TOTAL_FORMS above its ``absolute_max`` outright.

    Django caps the forms it builds at ``absolute_max`` and reports the error, but still
    builds and renders that many forms, each with its own errors. A count above the cap
    is never a person's input, so no rows are built at all: the reply is the page with one
    message. Use it with ``formset_factory(..., max_num=N, absolute_max=N,
    validate_max=True)``.
    """

    default_error_messages = {
        "too_many_forms": "Too many rows were sent (at most %(num)d); nothing was saved. "
        "Reload the page and enter them again.",
    }

    def _count_refused(self) -> bool:
        if not self.is_bound:
            return False
        management = self.management_form
        total = management.cleaned_data["TOTAL_FORMS"] if management.is_valid() else 0
        return total > self.absolute_max  # type: ignore[operator]  # formset_factory sets it

    def total_form_count(self):
        if self._count_refused():
            return 0
        return super().total_form_count()

    def initial_form_count(self):
        if self._count_refused():
            return 0
        return super().initial_form_count()


# --- Choosing a patient ----------------------------------------------------------------
#
# No page lists every patient: a clinic has tens of thousands. The picker is a text box
# that asks ``patients:search`` as the user types (patients/static/patients/
# patient_picker.js) and posts the chosen patient's id; without JavaScript it links to the
# registry search, whose rows send the user back with ``?patient=<id>``.


def safe_return_path(value: Any) -> str | None:
    """A same-site path (never a URL on another host) to send the user back to."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2000:
        return None
    if value.startswith("//") or "\\" in value:
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return None
    return value


def picker_return_path(request, field_name: str = "patient") -> str:
    """The current page's path and query without the picked patient, for the registry's
    "Book" links to come back to (``?pick=``)."""
    params = request.GET.copy()
    params.pop(field_name, None)
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


def patient_label(patient) -> str:
    return f"{patient.last_name}, {patient.first_name} ({patient.date_of_birth:%d %b %Y})"


class PatientPicker(forms.Widget):
    """A type-ahead box over ``patients:search`` posting the chosen patient's id.

    Renders a hidden input with the id, the chosen patient's name with a "Change" link,
    and a combobox (hidden until the script runs) with its listbox and a live region that
    announces how many patients match. Without JavaScript the "Find in the registry" and
    "Change" links lead to the registry search in pick mode.
    """

    class Media:
        js = ["patients/patient_picker.js"]
        css = {"all": ["patients/patient_picker.css"]}

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.chosen = None  # the Patient the field loaded, so rendering needs no query
        self.return_path = ""  # set by the view: where the registry's "Book" links go

    def id_for_label(self, id_):
        return f"{id_}_search" if id_ else id_

    def _patient(self, value):
        from patients.models import Patient

        if isinstance(value, Patient):
            return value
        number = parse_id(value)
        if number is None:
            return None
        if self.chosen is not None and self.chosen.pk == number:
            return self.chosen
        # A prefilled ?patient=: show only a current patient, one row.
        return (
            Patient.objects.filter(pk=number, archived_at__isnull=True)
            .only("id", "first_name", "last_name", "date_of_birth", "archived_at")
            .first()
        )

    def registry_url(self) -> str:
        url = reverse("patients:list")
        path = safe_return_path(self.return_path)
        return f"{url}?{urlencode({'pick': path})}" if path else url

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        base_id = attrs.pop("id", None) or f"id_{name}"
        css_class = " ".join(
            ["form-control", *[c for c in attrs.pop("class", "").split() if c != "form-control"]]
        )
        patient = self._patient(value)
        chosen = patient is not None and patient.archived_at is None
        search_id, list_id, status_id = f"{base_id}_search", f"{base_id}_list", f"{base_id}_status"
        registry = self.registry_url()
        described = attrs.pop("aria-describedby", "")
        invalid = "is-invalid" in css_class.split()
        return format_html(
            '<div class="patient-picker{root_class}" data-patient-picker '
            'data-search-url="{search_url}">'
            '<input type="hidden" name="{name}" id="{base_id}" value="{value}" data-picker-value>'
            '<div class="patient-picker-chosen"{chosen_hidden} data-picker-chosen>'
            '<span class="patient-picker-name" data-picker-name>{label}</span> '
            '<a href="{registry}" class="patient-picker-change" data-picker-change>'
            "Change patient</a></div>"
            "<div{search_hidden} data-picker-search>"
            '<div class="patient-picker-box" hidden data-picker-box>'
            '<input type="text" id="{search_id}" class="{css_class}" role="combobox" '
            'aria-autocomplete="list" aria-expanded="false" aria-controls="{list_id}" '
            'aria-describedby="{status_id}{described}"{aria_invalid} autocomplete="off" '
            'spellcheck="false" '
            'maxlength="100" placeholder="Name, date of birth or phone" data-picker-input>'
            '<ul id="{list_id}" class="list-group patient-picker-list" role="listbox" '
            'aria-label="Matching patients" hidden data-picker-list></ul></div>'
            '<div id="{status_id}" class="form-text" role="status" aria-live="polite" '
            "data-picker-status></div>"
            '<div class="form-text"><a href="{registry}" data-picker-registry>'
            "Find the patient in the registry</a></div>"
            "</div></div>",
            root_class=" is-invalid" if invalid else "",
            aria_invalid=mark_safe(' aria-invalid="true"') if invalid else "",
            search_url=reverse("patients:search"),
            name=name,
            base_id=base_id,
            value=patient.pk if chosen and patient is not None else "",
            chosen_hidden="" if chosen else " hidden",
            search_hidden=" hidden" if chosen else "",
            label=patient_label(patient) if chosen and patient is not None else "",
            registry=registry,
            search_id=search_id,
            list_id=list_id,
            status_id=status_id,
            described=f" {described}" if described else "",
            css_class=css_class,
        )

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class PatientPickerField(forms.Field):
    """A current patient chosen with ``PatientPicker``: validation loads one row.

    Posted values are hostile: anything but a record number of an existing patient is a
    form error, and an archived patient gets a clear message (not a 500, not a booking).
    """

    widget = PatientPicker
    default_error_messages = {
        "required": "Choose a patient: type part of their name, their date of birth or "
        "phone number and pick them from the list.",
        "invalid_choice": "That patient could not be found: choose the patient again.",
        "archived": "%(name)s's record is archived: restore it before booking visits.",
    }

    def to_python(self, value):
        from patients.models import Patient

        if value in self.empty_values:
            return None
        if isinstance(value, Patient):
            return value
        number = parse_id(value)
        patient = Patient.objects.filter(pk=number).first() if number is not None else None
        if patient is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        self.widget.chosen = patient
        return patient

    def validate(self, value):
        super().validate(value)
        if value is not None and value.archived_at is not None:
            raise ValidationError(
                self.error_messages["archived"], code="archived", params={"name": value.full_name}
            )

    def prepare_value(self, value):
        return value.pk if hasattr(value, "pk") else value
