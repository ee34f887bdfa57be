# The same text as django.utils.html.escape, without its lazy-string wrapper (rows).
from html import escape

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import charts, clinical, localtime, sections, selectors, services
from .audit import audit_view, client_ip
from .forms import (
    AddendumForm,
    AmendmentForm,
    AssessmentForm,
    PatientForm,
    PatientSearchForm,
    display_value,
    field_label,
)
from .inputs import patient_label, safe_return_path
from .links import path_maker
from .models import Language
from .paging import next_page

PAGE_SIZE = 25


def _add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form (fields it knows, else on top)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# --- Registry -------------------------------------------------------------------------


@login_required
@permission_required("patients.view_patient", raise_exception=True)
def patient_list(request):
    """The registry: search by name, date of birth, phone or email. Demographics only,
    whoever looks, so front desk sees no clinical content here either."""
    form = PatientSearchForm(request.GET or None)
    query, dob, archived = "", None, False
    if form.is_valid():
        query = form.cleaned_data["q"]
        dob = form.cleaned_data["date_of_birth"]
        archived = form.cleaned_data["archived"]
    patients = selectors.patient_search(query=query, date_of_birth=dob, include_archived=archived)
    # No count of the matches (patients/paging.py): Previous/Next links only.
    page = next_page(patients, request.GET.get("page"), PAGE_SIZE)
    params = request.GET.copy()
    params.pop("page", None)
    # Pick mode (the patient picker without JavaScript): each current patient's "Book"
    # link goes back to the form that sent the user here, with ?patient=<id>.
    pick = safe_return_path(request.GET.get("pick"))
    pick_base = f"{pick}{'&' if '?' in pick else '?'}patient=" if pick else ""
    return render(
        request,
        "patients/patient_list.html",
        {
            "form": form,
            "page": page,
            "searching": bool(query or dob),
            "query_string": params.urlencode(),
            "pick": pick,
            "pick_base": pick_base,
            "rows_html": registry_rows_html(page.object_list, pick_base),
        },
    )


_LANGUAGES = dict(Language.choices)


def registry_rows_html(patients, pick_base: str) -> SafeString:
    """The registry's rows, one ``<tr>`` per patient, written once here rather than by
    an included template per row (docs/decisions.md, "Pages at a clinic group's size");
    the markup the template had. Links and dates are made once per page (links.py)."""
    detail = path_maker("patients:detail", 1)
    out = []
    for patient in patients:
        pk = patient.pk
        archived = patient.archived_at is not None
        name = f"{escape(patient.last_name)}, {escape(patient.first_name)}"
        pick = ""
        if pick_base:
            book = (
                f'<a class="btn btn-sm btn-primary" href="{escape(pick_base)}{pk}" '
                f'aria-label="Book {escape(patient.full_name)}" data-pick="{pk}">Book</a>'
                if not archived
                else ""
            )
            pick = f"<td>{book}</td>"
        muted = ' class="text-muted"' if archived else ""
        badge = ' <span class="badge text-bg-secondary">Archived</span>' if archived else ""
        language = escape(str(_LANGUAGES.get(patient.preferred_language, "")))
        out.append(
            f'<tr data-patient="{pk}"{muted}>'
            f'<td><a href="{detail(pk)}">{name}</a>{badge}</td>'
            f"<td>{dateformat.format(patient.date_of_birth, 'j M Y')}</td>"
            f"<td>{escape(patient.phone or '—')}</td>"
            f"<td>{escape(patient.email or '—')}</td>"
            f"<td>{language}</td>{pick}</tr>\n"
        )
    # Every value above is escaped, a number or a date.
    return mark_safe("".join(out))  # noqa: S308


@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_GET
def patient_search(request):
    """The patient picker's type-ahead: current patients matching ``?q=`` (name, date of
    birth or phone), at most ten, as JSON. Demographics only, whoever asks."""
    results = selectors.patient_picker_search(request.GET.get("q", ""))
    response = JsonResponse(
        {
            "results": [
                {
                    "id": patient.pk,
                    "label": patient_label(patient),
                    "name": patient.full_name,
                    "date_of_birth": f"{patient.date_of_birth:%d %b %Y}",
                    "phone": patient.phone,
                }
                for patient in results.patients
            ],
            "more": results.more,
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@permission_required("patients.add_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_create(request):
    form = PatientForm(request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.service_values()
        duplicates = selectors.possible_duplicates(
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
        )
        if not duplicates or request.POST.get("confirm_duplicate") == "yes":
            try:
                patient = services.patient_create(
                    acting_user=request.user, ip=client_ip(request), **data
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, f"{patient.full_name} registered.")
                return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "duplicates": duplicates, "title": "Register a patient"},
    )


@login_required
@permission_required("patients.change_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_edit(request, patient_id: int):
    patient = selectors.get_patient_for_user(request.user, patient_id)
    initial = {name: getattr(patient, name) for name in services.PATIENT_FIELDS}
    form = PatientForm(request.POST or None, initial=initial)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.service_values()
        new_name = clinical.normalise_name(f"{data['first_name']} {data['last_name']}")
        identity_changed = (
            data["date_of_birth"] != patient.date_of_birth or new_name != patient.search_name
        )
        if identity_changed:
            duplicates = selectors.possible_duplicates(
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                exclude_id=patient.pk,
            )
        if not duplicates or request.POST.get("confirm_duplicate") == "yes":
            try:
                services.patient_update(
                    patient=patient, acting_user=request.user, ip=client_ip(request), **data
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, f"{patient.full_name} saved.")
                return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/patient_form.html",
        {
            "form": form,
            "duplicates": duplicates,
            "patient": patient,
            "title": f"Edit {patient.full_name}",
        },
    )


@login_required
@permission_required("patients.change_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_archive(request, patient_id: int):
    """Archive (never delete): GET asks for confirmation, POST archives or restores."""
    patient = selectors.get_patient_for_user(request.user, patient_id)
    if request.method == "POST":
        if request.POST.get("action") == "restore":
            services.patient_restore(
                patient=patient, acting_user=request.user, ip=client_ip(request)
            )
            messages.success(request, f"{patient.full_name} is back in the registry.")
        else:
            services.patient_archive(
                patient=patient, acting_user=request.user, ip=client_ip(request)
            )
            messages.success(
                request, f"{patient.full_name} archived. The record is kept and can be restored."
            )
        return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/patient_archive.html", {"patient": patient})


@login_required
@permission_required("patients.view_patient", raise_exception=True)
def patient_detail(request, patient_id: int):
    """Demographics for every role that may see patients, then the sections each role may
    see (patients/sections.py): clinical ones only for clinicians, and showing them is
    audited as a view of the clinical record."""
    patient = selectors.get_patient_for_user(request.user, patient_id)
    visible = sections.patient_page.visible(request, patient)
    if any(section.clinical for section, _ in visible):
        audit_view(
            request, patient=patient, obj=patient, detail="patient page with clinical record"
        )
    return render(
        request,
        "patients/patient_detail.html",
        {"patient": patient, "sections": visible},
    )


# --- Assessments ----------------------------------------------------------------------


def _audit_form_view(request, assessment, what: str) -> None:
    """A form pre-filled from an assessment shows the record: audit it as a view."""
    if request.method == "GET":
        audit_view(request, patient=assessment.patient, obj=assessment, detail=what)


@login_required
@permission_required("patients.add_assessment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def assessment_create(request, patient_id: int):
    patient = selectors.get_patient_for_user(request.user, patient_id)
    if patient.is_archived:
        messages.error(request, "This patient is archived. Restore the record first.")
        return redirect("patients:detail", patient_id=patient.pk)
    initial = {}
    previous = selectors.latest_assessment(patient) if request.method == "GET" else None
    if previous is not None:
        _audit_form_view(request, previous, "new assessment form, pre-filled from this one")
        # A follow-up starts from what was found last time; the therapist edits from there.
        initial = {
            "kind": "reassessment",
            "region": previous.region,
            "side": previous.side,
            "onset_date": previous.onset_date,
            "onset_mechanism": previous.onset_mechanism,
            "suspected_causes": previous.suspected_causes,
            "suspected_cause_other": previous.suspected_cause_other,
            "precautions": previous.precautions,
        }
    elif request.method == "GET":
        # A first assessment's form shows the patient (name, age for the knee rule).
        audit_view(request, patient=patient, obj=patient, detail="new assessment form")
    # The patient's latest questionnaire since the last assessment is offered; "use these
    # answers" (?questionnaire=<id>) pre-fills the LEFS, and saving links the two.
    offer = using = None
    if request.method == "GET":
        offer = selectors.questionnaire_offer(patient)
        if offer is not None:
            audit_view(
                request, patient=patient, obj=offer, detail="offered on the new assessment form"
            )
            if request.GET.get("questionnaire") == str(offer.pk):
                using = offer
                initial.update(AssessmentForm.lefs_initial(offer.answers))
    else:
        using = selectors.questionnaire_for_assessment(
            patient, request.POST.get("questionnaire_response")
        )
    form = AssessmentForm(request.POST or None, patient=patient, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_create(
                patient=patient,
                acting_user=request.user,
                values=form.service_values(),
                ip=client_ip(request),
            )
            if using is not None:
                services.questionnaire_response_link(
                    response=using,
                    assessment=assessment,
                    acting_user=request.user,
                    ip=client_ip(request),
                )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Assessment saved as a draft. Review it, then sign it.")
            return redirect(
                "patients:assessment_detail", patient_id=patient.pk, assessment_id=assessment.pk
            )
    context = _form_context(form, patient, title="New assessment")
    context.update(questionnaire_offer=offer, questionnaire_using=using)
    return render(request, "patients/assessment_form.html", context)


def _form_context(form, patient, *, title, assessment=None, amending=False) -> dict:
    return {
        "form": form,
        "patient": patient,
        "assessment": assessment,
        "title": title,
        "amending": amending,
        "patient_age_today": clinical.age_on(patient.date_of_birth, localtime.clinic_today()),
        "knee_rule_age": clinical.KNEE_RULE_AGE,
        "lefs_labels": clinical.LEFS_ANSWER_LABELS,
    }


@login_required
@permission_required("patients.view_assessment", raise_exception=True)
def assessment_detail(request, patient_id: int, assessment_id: int):
    assessment = selectors.get_assessment_for_user(request.user, patient_id, assessment_id)
    amendments = selectors.assessment_amendments(assessment)
    addenda = selectors.assessment_addenda(assessment)
    audit_view(request, patient=assessment.patient, obj=assessment)
    original = None
    history = []
    if amendments:
        signed_values = selectors.assessment_as_signed(assessment, amendments)
        original = [
            (field_label(name), display_value(name, value)) for name, value in signed_values.items()
        ]
        history = [
            (
                amendment,
                [
                    (
                        field_label(name),
                        display_value(name, c.get("old")),
                        display_value(name, c.get("new")),
                    )
                    for name, c in amendment.changes.items()
                ],
            )
            for amendment in amendments
        ]
    age = clinical.age_on(
        assessment.patient.date_of_birth, timezone.localtime(assessment.assessed_at).date()
    )
    lefs_rows = [
        (number, item, (assessment.lefs_answers or [None] * 20)[number - 1])
        for number, item in enumerate(clinical.LEFS_ITEMS, start=1)
    ]
    return render(
        request,
        "patients/assessment_detail.html",
        {
            "assessment": assessment,
            "patient": assessment.patient,
            "amendments": amendments,
            "addenda": addenda,
            # Edit, sign and amend are the author's (docs/decisions.md); others get no
            # buttons for them, and the views answer 403.
            "is_author": assessment.therapist_id == request.user.pk,
            "history": history,
            "original": original,
            "age_at_assessment": age,
            "knee_rule_age": clinical.KNEE_RULE_AGE,
            "lefs_rows": lefs_rows,
            "lefs_labels": clinical.LEFS_ANSWER_LABELS,
        },
    )


@login_required
@permission_required("patients.change_assessment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def assessment_edit(request, patient_id: int, assessment_id: int):
    assessment = selectors.get_assessment_for_user(request.user, patient_id, assessment_id)
    services.author_require(
        record=assessment, user=request.user, doing="edit this draft assessment"
    )
    detail = redirect(
        "patients:assessment_detail", patient_id=patient_id, assessment_id=assessment.pk
    )
    if assessment.is_signed:
        messages.error(
            request, "This assessment is signed and locked. To change it, add an amendment."
        )
        return detail
    _audit_form_view(request, assessment, "edit form")
    form = AssessmentForm(
        request.POST or None,
        patient=assessment.patient,
        initial=AssessmentForm.initial_from(assessment),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_update(
                assessment=assessment,
                values=form.service_values(),
                acting_user=request.user,
                ip=client_ip(request),
            )
        except services.AssessmentLocked as error:
            messages.error(request, error.messages[0])
            return detail
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Draft saved.")
            return detail
    return render(
        request,
        "patients/assessment_form.html",
        _form_context(
            form, assessment.patient, title="Edit draft assessment", assessment=assessment
        ),
    )


@login_required
@permission_required("patients.sign_assessment", raise_exception=True)
@require_POST
def assessment_sign(request, patient_id: int, assessment_id: int):
    assessment = selectors.get_assessment_for_user(request.user, patient_id, assessment_id)
    services.author_require(record=assessment, user=request.user, doing="sign this assessment")
    try:
        services.assessment_sign(
            assessment=assessment, acting_user=request.user, ip=client_ip(request)
        )
    except services.AssessmentLocked:
        messages.error(request, "This assessment is already signed; nothing was changed.")
    else:
        messages.success(request, "Assessment signed. It is now locked; changes are amendments.")
    return redirect(
        "patients:assessment_detail", patient_id=patient_id, assessment_id=assessment.pk
    )


@login_required
@permission_required("patients.sign_assessment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def assessment_amend(request, patient_id: int, assessment_id: int):
    assessment = selectors.get_assessment_for_user(request.user, patient_id, assessment_id)
    services.author_require(
        record=assessment,
        user=request.user,
        doing="amend this assessment; add an addendum under your own name instead",
    )
    if not assessment.is_signed:
        messages.info(request, "This assessment is still a draft: edit it directly.")
        return redirect(
            "patients:assessment_edit", patient_id=patient_id, assessment_id=assessment.pk
        )
    _audit_form_view(request, assessment, "amend form")
    form = AmendmentForm(
        request.POST or None,
        patient=assessment.patient,
        initial=AssessmentForm.initial_from(assessment),
    )
    if request.method == "POST" and form.is_valid():
        try:
            amendment = services.assessment_amend(
                assessment=assessment,
                values=form.service_values(),
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
                ip=client_ip(request),
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            if amendment is None:
                messages.info(request, "Nothing was changed, so no amendment was recorded.")
            else:
                messages.success(request, "Amendment recorded; the original stays readable.")
            return redirect(
                "patients:assessment_detail", patient_id=patient_id, assessment_id=assessment.pk
            )
    return render(
        request,
        "patients/assessment_form.html",
        _form_context(
            form,
            assessment.patient,
            title="Amend signed assessment",
            assessment=assessment,
            amending=True,
        ),
    )


@login_required
@permission_required("patients.add_assessmentaddendum", raise_exception=True)
@require_http_methods(["GET", "POST"])
def assessment_addendum(request, patient_id: int, assessment_id: int):
    """Any clinician adds an addendum under their own name to a signed assessment (the
    author amends instead when the record itself is wrong; docs/decisions.md)."""
    assessment = selectors.get_assessment_for_user(request.user, patient_id, assessment_id)
    detail = redirect(
        "patients:assessment_detail", patient_id=patient_id, assessment_id=assessment.pk
    )
    if not assessment.is_signed:
        messages.error(
            request, "This assessment is a draft: only a signed assessment takes addenda."
        )
        return detail
    _audit_form_view(request, assessment, "addendum form")
    form = AddendumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_addendum_create(
                assessment=assessment,
                acting_user=request.user,
                text=form.cleaned_data["text"],
                ip=client_ip(request),
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Addendum added under your name.")
            return detail
    return render(
        request,
        "patients/assessment_addendum.html",
        {"form": form, "assessment": assessment, "patient": assessment.patient},
    )


# Rows per page of the full lists behind the patient page's "show all" links.
HISTORY_PAGE_SIZE = 50
SCORE_TABLES = ("nprs", "lefs")


def render_history_page(request, patient, rows, *, what: str, template: str, markup):
    """One page of a patient's full history list (the "show all" behind the patient page's
    latest rows), audited as a view of the record naming the list and page. Used by the
    assessment, plan and note lists; ``markup`` makes the page's rows as the patient
    page's section makes its latest ones (``rows_html``)."""
    page = Paginator(rows, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_view(request, patient=patient, obj=patient, detail=f"{what} list, page {page.number}")
    return render(
        request,
        template,
        {
            "patient": patient,
            "page": page,
            "rows_html": markup(page.object_list),
            "query_string": "",
        },
    )


@login_required
@permission_required("patients.view_assessment", raise_exception=True)
def outcomes(request, patient_id: int):
    """The chart of the whole history, and the latest scores of each kind, newest first;
    ``?all=nprs`` (or ``lefs``) lists every score of that kind, a page at a time."""
    patient = selectors.get_patient_for_user(request.user, patient_id)
    outcomes = selectors.patient_outcomes(patient)
    show_all = request.GET.get("all", "")
    show_all = show_all if show_all in SCORE_TABLES else ""
    tables = {}
    for kind in SCORE_TABLES:
        points = getattr(outcomes, kind)[::-1]
        if kind == show_all:
            page = Paginator(points, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
            tables[kind] = {"rows": page.object_list, "page": page, "total": len(points)}
        else:
            tables[kind] = {"rows": points[: selectors.RECENT], "page": None, "total": len(points)}
    detail = f"outcomes, every {show_all.upper()} score" if show_all else "outcomes"
    audit_view(request, patient=patient, obj=patient, detail=detail)
    return render(
        request,
        "patients/outcomes.html",
        {
            "patient": patient,
            "outcomes": outcomes,
            "tables": tables,
            "show_all": show_all,
            "query_string": f"all={show_all}",
            "recent": selectors.RECENT,
            "chart": charts.outcome_chart(outcomes),
        },
    )


@login_required
@permission_required("patients.view_assessment", raise_exception=True)
def assessment_list(request, patient_id: int):
    """Every assessment of the patient, newest first, a page at a time (the patient page
    shows the latest ones). Audited as a view of the record."""
    patient = selectors.get_patient_for_user(request.user, patient_id)
    return render_history_page(
        request,
        patient,
        selectors.patient_assessments(patient),
        what="assessment",
        template="patients/assessment_list.html",
        markup=lambda rows: sections.assessment_timeline(selectors.timeline_rows(rows)),
    )
