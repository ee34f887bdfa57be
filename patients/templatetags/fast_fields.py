"""``{{ form.field|fast_field }}``: a Bootstrap 5 form field as crispy-forms'
``as_crispy_field`` writes it (label, widget, errors, help text), built in Python.

crispy's field template is dozens of nested template nodes and includes per field: about
3 ms a field on the audit log's filter, more than the rest of the page. Text, date,
number, email and select inputs are written here with the same classes, ids and ARIA
attributes; any other widget (checkboxes, radios, multiple selects) goes to crispy.
"""

from __future__ import annotations

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_ASTERISK = mark_safe('<span class="asteriskField">*</span>')

# crispy-bootstrap5's class for each widget it styles as ``form-control`` / ``form-select``.
_INPUT_CLASSES: dict[type[forms.Widget], str] = {
    forms.TextInput: "textinput form-control",
    forms.DateInput: "dateinput form-control",
    forms.NumberInput: "numberinput form-control",
    forms.EmailInput: "emailinput form-control",
    forms.Select: "select form-select",
}


@register.filter
def fast_field(field: forms.BoundField) -> SafeString:
    widget = field.field.widget
    css = _INPUT_CLASSES.get(type(widget))
    if css is None or field.is_hidden:
        return as_crispy_field(field)
    errors = field.errors
    attrs: dict[str, str | bool] = {"class": f"{widget.attrs.get('class', '')} {css}".strip()}
    if errors:
        attrs["class"] = f"{attrs['class']} is-invalid"
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}_error"
    elif field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_helptext"
    label = (
        format_html(
            '<label for="{}" class="form-label{}">{}{}</label>',
            field.id_for_label,
            " requiredField" if field.field.required else "",
            field.label,
            _ASTERISK if field.field.required else "",
        )
        if field.label
        else ""
    )
    error_html = (
        format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>',
            field.auto_id,
            format_html_join(
                "",
                '<p id="error_{}_{}"><strong>{}</strong></p>',
                ((n, field.auto_id, e) for n, e in enumerate(errors, start=1)),
            ),
        )
        if errors
        else ""
    )
    help_html = (
        format_html(
            '<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text
        )
        if field.help_text
        else ""
    )
    return format_html(
        '<div id="div_{}" class="mb-3">{}<div>{}{}{}</div></div>',
        field.auto_id,
        label,
        field.as_widget(attrs=attrs),
        error_html,
        help_html,
    )
