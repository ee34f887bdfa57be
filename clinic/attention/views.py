"""The needs-attention page: a therapist's own patients only (clinic/attention/selectors.py).

Clinical content: front desk and managers hold no permission for it (clinic/roles.py)
and get 403, audited by clinic.audit.middleware like every clinical page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from patients.audit import AuditAction, audit_record, client_ip

from . import selectors, services
from .forms import AcknowledgeForm

# Rows on the page before "Show all" (all = every patient of the therapist's that needs
# attention, which is bounded by their caseload).
PAGE_ROWS = 50


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
    if request.GET.get("all") == "1":
        shown, more = selectors.needs_attention(request.user), False
    else:
        # The rules run for the first patients by name only, enough for the page.
        shown, more = selectors.needs_attention_first(request.user, PAGE_ROWS)
    audit_list_view(request, shown, "page")
    return render(
        request,
        "clinic/attention/list.html",
        {
            "rows": shown,
            "more": more,
            "can_acknowledge": request.user.has_perm("clinic.add_attentionacknowledgement"),
            "form": AcknowledgeForm(),
        },
    )


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
        return redirect("attention:list")
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
    return redirect("attention:list")
