"""The needs-attention page: a therapist's own patients only (clinic/attention/selectors.py).

Clinical content: front desk and managers hold no permission for it (clinic/roles.py)
and get 403, audited by clinic.audit.middleware like every clinical page.
"""

# The same text as django.utils.html.escape, without its lazy-string wrapper: that cost
# a third of the rows' time on a list of 50.
from html import escape

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from patients.audit import AuditAction, audit_record, client_ip
from patients.inputs import parse_id

from . import selectors, services
from .forms import AcknowledgeForm

# Rows a page shows; the next page continues by name (docs/decisions.md, "Needs
# attention").
PAGE_ROWS = 25


def audit_list_view(request, rows: list[selectors.Row], where: str) -> None:
    """One view event for a list of patients: who saw it, which patients it showed."""
    audit_record(
        acting_user=request.user,
        action=AuditAction.VIEW,
        object_type="clinic.attention",
        object_id=str(request.user.pk),
        ip=client_ip(request),
        detail=f"needs attention ({where}): {len(rows)} patients",
        clinical_detail="patients " + ", ".join(str(row.patient_id) for row in rows),
    )


@login_required
@permission_required("clinic.view_attentionacknowledgement", raise_exception=True)
@require_GET
def attention_list(request):
    """A page of the list: the first patients by name, or (``?after=<patient id>``, the
    last row of the page before) the next ones. The rules run for those only; an
    ``after`` that is no record number shows the first page."""
    after = parse_id(request.GET.get("after"))
    shown, more = selectors.needs_attention_first(request.user, PAGE_ROWS, after=after)
    audit_list_view(request, shown, "page")
    can_acknowledge = request.user.has_perm("clinic.add_attentionacknowledgement")
    return render(
        request,
        "clinic/attention/list.html",
        {
            "rows": shown,
            "rows_html": _rows_html(request, shown, can_acknowledge, after),
            "more": more,
            "after": after,
            "next_after": shown[-1].patient_id if more else None,
            "can_acknowledge": can_acknowledge,
        },
    )


def _rows_html(
    request, rows: list[selectors.Row], can_acknowledge: bool, after: int | None
) -> SafeString:
    """The list's rows as one finished fragment, each value escaped once: a template
    loop with a form, a csrf tag and a label per reason cost most of the page on a
    list of 50 (docs/decisions.md, "Pages at a clinic group's size"). The markup is
    the one the template had."""
    form_open = ""
    if can_acknowledge:
        form_open = (
            f'<form method="post" action="{escape(reverse("attention:acknowledge"))}" '
            'class="row g-2 align-items-end mt-1">\n'
            '<input type="hidden" name="csrfmiddlewaretoken" '
            f'value="{escape(get_token(request))}">\n'
        )
        if after is not None:  # back to this page once acknowledged
            form_open += f'<input type="hidden" name="after" value="{after}">\n'
    out = []
    for row in rows:
        pid = row.patient_id
        out.append(
            f'<li class="list-group-item" data-patient="{pid}">\n'
            f'<h2 class="h6 mb-2"><a href="{escape(row.link)}">{escape(row.name)}</a></h2>\n'
            '<ul class="list-unstyled mb-0">\n'
        )
        for flag in row.flags:
            reason = escape(flag.reason)
            out.append(
                f'<li class="mb-2" data-reason="{reason}">\n'
                f"<strong>{escape(flag.label)}:</strong> {escape(flag.text)}\n"
            )
            if can_acknowledge:
                note = f"note-{pid}-{reason}"
                out.append(
                    f"{form_open}"
                    f'<input type="hidden" name="patient" value="{pid}">\n'
                    f'<input type="hidden" name="reason" value="{reason}">\n'
                    '<div class="col-md-8">\n'
                    f'<label class="form-label small mb-0" for="{note}">Note</label>\n'
                    f'<textarea class="form-control form-control-sm" id="{note}" name="note" '
                    'rows="1" maxlength="500" required></textarea>\n'
                    "</div>\n"
                    '<div class="col-md-4"><button type="submit" '
                    'class="btn btn-sm btn-outline-primary">Acknowledge</button></div>\n'
                    "</form>\n"
                )
            out.append("</li>\n")
        out.append("</ul>\n</li>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@login_required
@permission_required("clinic.add_attentionacknowledgement", raise_exception=True)
@require_POST
def attention_acknowledge(request):
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label or name.capitalize()}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        )
        messages.error(request, f"Not acknowledged. {problems}")
        return _back_to_list(parse_id(request.POST.get("after")))
    data = form.cleaned_data
    try:
        services.attention_acknowledge(
            acting_user=request.user,
            patient_id=data["patient"],
            reason=data["reason"],
            note=data["note"],
            ip=client_ip(request),
        )
    except ValidationError as error:
        messages.error(request, "Not acknowledged. " + " ".join(error.messages))
    else:
        messages.success(request, "Acknowledged: the reason is hidden until new data raises it.")
    return _back_to_list(parse_id(request.POST.get("after")))


def _back_to_list(after: int | None):
    """The page of the list the form was on."""
    url = reverse("attention:list")
    return redirect(f"{url}?after={after}" if after is not None else url)
