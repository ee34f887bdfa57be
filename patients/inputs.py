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
``IdModelChoiceField``, ``IdModelMultipleChoiceField``); views that read one value from
``request.GET`` use ``parse_id`` / ``parse_date``. Ids in URL paths are checked by
``clinic.middleware.RecordIdRangeMiddleware`` with ``id_in_range``. This module is in
``patients`` because every app may import it.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

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


class IdModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that refuses impossible ids before it queries the database."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not self.to_field_name and not isinstance(value, self.queryset.model):
            if parse_id(value) is None:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


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
