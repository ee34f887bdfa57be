"""``{{ form.field|fast_field }}``: a Bootstrap 5 form field as crispy-forms'
``as_crispy_field`` writes it (label, widget, errors, help text), built in Python.

crispy's field template is dozens of nested template nodes and includes per field: about
3 ms a field on the audit log's filter, more than the rest of the page. Text, date, time,
number, email and select inputs (and their subclasses) and the patient picker are written
here with the same classes, ids and ARIA attributes (a select's options too, as Django's
templates write them), single checkboxes and ungrouped multiple checkboxes (crispy's
fieldset); any other widget (radios, multiple selects) goes to crispy.
"""

from __future__ import annotations

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms, template
from django.forms.renderers import BaseRenderer
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from patients.inputs import PatientPicker

register = template.Library()

_ASTERISK = mark_safe('<span class="asteriskField">*</span>')

# The widgets written here and crispy-bootstrap5's Bootstrap class for each; a subclass
# (a date input with its own format, a time input with a step) is written like its base.
# None: crispy writes it (a multiple select is a Select too).
_INPUT_CLASSES: dict[type[forms.Widget], str | None] = {
    forms.TextInput: "form-control",
    forms.DateInput: "form-control",
    forms.TimeInput: "form-control",
    forms.NumberInput: "form-control",
    forms.EmailInput: "form-control",
    forms.CheckboxInput: "form-check-input",
    forms.SelectMultiple: None,
    forms.Select: "form-select",
    # The type-ahead patient field (Book, Recurring): crispy styles it as an input.
    PatientPicker: "form-control",
}


def _css(widget: forms.Widget) -> str | None:
    """crispy's classes for the widget: its class's name in lower case (crispy's marker,
    ``dateinput``), then Bootstrap's; None when crispy should write it."""
    for base in type(widget).__mro__:
        if base in _INPUT_CLASSES:
            bootstrap = _INPUT_CLASSES[base]
            return f"{type(widget).__name__.lower()} {bootstrap}" if bootstrap else None
    return None


@register.filter
def fast_field(field: forms.BoundField) -> SafeString:
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple) and field.label:
        return _checkbox_list(field)
    css = _css(widget)
    if css is None or field.is_hidden:
        return as_crispy_field(field)
    errors = field.errors
    own = widget.attrs.get("class", "")
    if own and css.split()[0] in own:  # crispy adds its marker once
        css = css.split(maxsplit=1)[1]
    attrs: dict[str, str | bool] = {"class": f"{own} {css}".strip()}
    if errors:
        attrs["class"] = f"{attrs['class']} is-invalid"
        attrs["aria-invalid"] = "true"
        # Django's help text id first, then crispy's error id, as crispy writes them.
        attrs["aria-describedby"] = (
            f"{field.auto_id}_helptext {field.auto_id}_error"
            if field.help_text
            else f"{field.auto_id}_error"
        )
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
    error_html = _errors_html(field)
    help_html = _help_html(field)
    checkbox = isinstance(widget, forms.CheckboxInput)
    if checkbox:
        # A single checkbox: its label after it, both in crispy's "form-check" wrapper.
        # (crispy names the errors' element "None_error", which nothing points at; the id
        # here is the one aria-describedby names.)
        label = format_html(
            '<label for="{}" class="form-check-label{}">{}{}</label>',
            field.id_for_label,
            " requiredField" if field.field.required else "",
            field.label,
            _ASTERISK if field.field.required else "",
        )
    form = field.form
    renderer = form.renderer
    form.renderer = _SelectRenderer(renderer)  # this form, this request only
    try:
        widget_html = field.as_widget(attrs=attrs)
    finally:
        form.renderer = renderer
    if checkbox:
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check">{}{}{}{}</div></div>',
            field.auto_id,
            widget_html,
            label,
            error_html,
            help_html,
        )
    return format_html(
        '<div id="div_{}" class="mb-3">{}<div>{}{}{}</div></div>',
        field.auto_id,
        label,
        widget_html,
        error_html,
        help_html,
    )


def _errors_html(field: forms.BoundField) -> str:
    """crispy's errors block (layout/field_errors_block.html), or ""."""
    if not field.errors:
        return ""
    return format_html(
        '<div id="{}_error" class="invalid-feedback">{}</div>',
        field.auto_id,
        format_html_join(
            "",
            '<p id="error_{}_{}"><strong>{}</strong></p>',
            ((n, field.auto_id, e) for n, e in enumerate(field.errors, start=1)),
        ),
    )


def _help_html(field: forms.BoundField) -> str:
    """crispy's help text (layout/help_text.html), or ""."""
    if not field.help_text:
        return ""
    return format_html(
        '<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text
    )


def _checkbox_list(field: forms.BoundField) -> SafeString:
    """Multiple checkboxes (the recurring form's weekdays) as crispy writes them
    (layout/radio_checkbox_select.html): the label as the legend of a fieldset, each
    option in its own "form-check", the errors after the last option's label."""
    widget = field.field.widget
    # The options' attributes as crispy's ``optgroups`` filter builds them.
    attrs = field.build_widget_attrs({"id": widget.attrs.get("id") or field.auto_id})
    groups = widget.optgroups(field.html_name, widget.format_value(field.value()), attrs)
    if any(group for group, _choices, _index in groups):
        return as_crispy_field(field)  # crispy heads each group with its name
    options = [option for _group, choices, _index in groups for option in choices]
    css = "form-check-input is-invalid" if field.errors else "form-check-input"
    items = [
        format_html(
            '<div class="form-check"><input type="{}" class="{}"  name="{}" value="{}"{}>'
            '<label for="{}" class="form-check-label">{}</label>{}</div>',
            option["type"],
            css,
            field.html_name,
            str(option["value"]),
            mark_safe(_attrs(option["attrs"])),  # noqa: S308  # _attrs escapes each value
            option["attrs"].get("id", ""),
            option["label"],
            _errors_html(field) if n == len(options) else "",
        )
        for n, option in enumerate(options, start=1)
    ]
    describedby = field.aria_describedby
    return format_html(
        '<div id="div_{}" class="mb-3"><fieldset{}><legend class="form-label{} fs-6">{}{}'
        "</legend><div >{}</div>{}</fieldset></div>",
        field.auto_id,
        format_html(' aria-describedby="{}"', describedby) if describedby else "",
        " requiredField" if field.field.required else "",
        field.label,
        _ASTERISK if field.field.required else "",
        mark_safe("".join(items)),  # noqa: S308  # each item is built by format_html
        _help_html(field),
    )


_SELECT = "django/forms/widgets/select.html"
_OPTION = "django/forms/widgets/select_option.html"


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html, in Python."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class _SelectRenderer(BaseRenderer):
    """The form's renderer, except that a select and its options are written here:
    a template per option (a staff list, the actions) cost more than the field."""

    def __init__(self, fallback: BaseRenderer) -> None:
        self.fallback = fallback

    def get_template(self, template_name):
        return self.fallback.get_template(template_name)

    def render(self, template_name, context, request=None):
        widget = context.get("widget", {})
        options = [
            option for _group, choices, _index in widget.get("optgroups", []) for option in choices
        ]
        if template_name != _SELECT or any(o["template_name"] != _OPTION for o in options):
            return self.fallback.render(template_name, context, request)
        parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group, choices, _index in widget["optgroups"]:
            if group:
                parts.append(f'\n  <optgroup label="{conditional_escape(group)}">')
            parts.extend(
                f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>"
                for option in choices
            )
            if group:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        # Every value above is escaped, as the templates escape them.
        return mark_safe("".join(parts))  # noqa: S308
