"""The staff Reminders page, and the pages a patient opens from a reminder email.

Patient pages need no login: the signed token in the URL is the whole authorisation.
Each shows only what its purpose grants (clinic/reminders/signing.py). A bad token gets
a clear page and touches no data: 400 tampered, 403 wrong purpose, 410 expired, 410
outdated (the patient's address changed, the program was replaced or ended, or the
patient is archived), 429 too many requests (clinic/reminders/ratelimit.py).
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from clinic.models import AppointmentStatus, ReminderKind, ReminderReason, ReminderStatus
from clinic.scheduling.services import SchedulingError
from patients.audit import client_ip
from patients.links import path_maker, when
from patients.localtime import patient_today, patient_zone

from . import kinds, ratelimit, selectors, services
from .forms import AppointmentCancelForm, PainCheckinForm
from .signing import LinkError, LinkInvalid, Purpose, read_token

# Staff ---------------------------------------------------------------------------


@login_required
@permission_required("clinic.view_reminder", raise_exception=True)
def reminder_list(request):
    """Counts by state and reason, and one state's reminders a page at a time (failed
    first), for front desk and managers; the same number of queries however many rows.

    Therapists do not get this page: delivery and consent are front-desk work, and a
    therapist follows adherence on the patient's program instead."""
    status, reason, after = selectors.parse_list_query(request.GET)
    page = selectors.reminder_page(status=status, reason=reason, after=after)
    can_retry = request.user.has_perm("clinic.change_reminder")
    scheduled = (
        selectors.scheduled_appointments(now=timezone.now())
        if status == ReminderStatus.PENDING and reason is None and after is None
        else []
    )
    opted_out = selectors.opted_out_patients() if after is None else []
    # Each list's rows made once here as finished markup, not by includes, tags and
    # filters per row (patients/links.py; docs/decisions.md, "Pages at a clinic group's
    # size").
    csrf = get_token(request) if can_retry else ""
    rows_html = _reminder_rows_html(page.rows, can_retry=can_retry, csrf=csrf)
    context = {
        "can_retry": can_retry,
        "counts": selectors.reminder_counts(),
        "page": page,
        "rows_html": rows_html,
        "scheduled_html": _scheduled_rows_html(scheduled),
        "status_label": ReminderStatus(status).label,
        "reason_label": ReminderReason(reason).label if reason else "",
        "scheduled": scheduled,
        "opted_out": opted_out,
        "opted_out_html": _opted_out_rows_html(opted_out),
    }
    return render(request, "clinic/reminders/reminder_list.html", context)


# The markup of clinic/reminders/_kind.html and _status.html, for the staff list's rows.
_STATUS_BADGES: dict[str, str] = {
    ReminderStatus.SENT: '<span class="badge text-bg-success">Sent</span>',
    ReminderStatus.FAILED: '<span class="badge text-bg-danger">Failed</span>',
    ReminderStatus.SKIPPED: '<span class="badge text-bg-secondary">Skipped</span>',
    ReminderStatus.EXPIRED: '<span class="badge text-bg-secondary">Expired</span>',
    ReminderStatus.UNCONFIRMED: (
        '<span class="badge text-bg-light border" title="Sending was interrupted; it most '
        'likely arrived">Sent, not confirmed</span>'
    ),
    ReminderStatus.SENDING: '<span class="badge text-bg-info">Sending</span>',
}
_WAITING = '<span class="badge text-bg-warning">Waiting for the mail server</span>'
_PENDING = '<span class="badge text-bg-warning">Pending</span>'


def _status_badge(reminder) -> str:
    badge = _STATUS_BADGES.get(reminder.status)
    if badge is not None:
        return badge
    return _WAITING if reminder.reason == ReminderReason.MAIL_SERVER else _PENDING


def _reminder_rows_html(rows, *, can_retry: bool, csrf: str) -> SafeString:
    """The staff list's reminders, one ``<tr>`` each, every value escaped once."""
    patient_link = path_maker("patients:detail", 1)
    retry_link = path_maker("reminders:retry", 1)
    csrf_input = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf)}">'
    out = []
    for reminder in rows:
        name = escape(reminder.patient.full_name)
        kind = (
            "Exercise reminder"
            if reminder.kind == ReminderKind.EXERCISE
            else escape(reminder.get_kind_display())
        )
        attempts = (
            f' <span class="small text-muted">{reminder.attempts} attempts</span>'
            if reminder.attempts > 1
            else ""
        )
        note = ""
        if reminder.reason:
            note = escape(reminder.get_reason_display())
            if reminder.status == ReminderStatus.PENDING and reminder.next_attempt_at:
                note += f"; next try {when(reminder.next_attempt_at, 'H:i')}"
            note += ": "
        note += escape(Truncator(reminder.last_error).chars(300))
        retry = ""
        if reminder.status == ReminderStatus.FAILED and can_retry:
            retry = (
                f'<form method="post" action="{retry_link(reminder.pk)}">{csrf_input}'
                '<button type="submit" class="btn btn-sm btn-outline-primary">Retry'
                f'<span class="visually-hidden"> reminder for {name}</span></button></form>'
            )
        sent = when(reminder.sent_at, "D j M, H:i") if reminder.sent_at else "—"
        out.append(
            f'<tr data-reminder="{reminder.pk}">'
            f'<td><a href="{patient_link(reminder.patient_id)}">{name}</a></td>'
            f"<td>{kind}</td>"
            f'<td><time datetime="{timezone.localtime(reminder.due_at).isoformat()}">'
            f"{when(reminder.due_at, 'D j M, H:i')}</time></td>"
            f"<td>{_status_badge(reminder)}{attempts}</td>"
            f"<td>{sent}</td>"
            f'<td class="small text-break">{note}</td>'
            f'<td class="text-end">{retry}</td></tr>\n'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def _scheduled_rows_html(scheduled) -> SafeString:
    """Booked visits whose reminder is not made yet, as rows of the pending list."""
    patient_link = path_maker("patients:detail", 1)
    out = []
    for appointment in scheduled:
        due = appointment.reminder_due_at
        out.append(
            f'<tr data-appointment="{appointment.pk}">'
            f'<td><a href="{patient_link(appointment.patient_id)}">'
            f"{escape(appointment.patient.full_name)}</a></td>"
            "<td>Appointment</td>"
            f'<td><time datetime="{timezone.localtime(due).isoformat()}">'
            f"{when(due, 'D j M, H:i')}</time></td>"
            '<td><span class="badge text-bg-light border">Scheduled</span></td>'
            "<td>—</td>"
            f'<td class="small text-muted">Visit {when(appointment.starts_at, "D j M, H:i")}'
            "</td><td></td></tr>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def _opted_out_rows_html(patients) -> SafeString:
    patient_link = path_maker("patients:detail", 1)
    out = []
    for patient in patients:
        out.append(
            f'<tr><td><a href="{patient_link(patient.pk)}">{escape(patient.full_name)}</a>'
            f"</td><td>{escape(patient.email) or '—'}</td>"
            f"<td>{'On' if patient.reminders_opt_in else 'Off'}</td>"
            f"<td>{'On' if patient.appointment_emails_opt_in else 'Off'}</td>"
            f"<td>{when(patient.updated_at, 'j M Y')}</td></tr>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@login_required
@permission_required("clinic.change_reminder", raise_exception=True)
@require_POST
def reminder_retry(request, reminder_id: int):
    reminder = selectors.get_reminder_for_user(request.user, reminder_id)
    if services.reminder_retry(reminder=reminder, acting_user=request.user, ip=client_ip(request)):
        messages.success(request, f"Reminder for {reminder.patient.full_name} queued again.")
    else:
        messages.warning(request, "Only a failed reminder can be retried; nothing changed.")
    return redirect("reminders:list")


@login_required
@permission_required("clinic.change_reminder", raise_exception=True)
@require_POST
def reminder_retry_failed(request):
    """ "Retry all failed for this reason": one POST puts them all back in the queue."""
    reason = request.POST.get("reason", "")
    if reason not in ReminderReason.values:
        messages.warning(request, "Choose a reason from the list; nothing changed.")
        return redirect("reminders:list")
    count = services.reminders_retry_failed(
        reason=reason, acting_user=request.user, ip=client_ip(request)
    )
    label = ReminderReason(reason).label or "no reason given"
    if count:
        messages.success(request, f"{count} failed reminder(s) queued again ({label}).")
    else:
        messages.warning(request, f"No failed reminders with this reason ({label}).")
    return redirect(f"{reverse('reminders:list')}?status=failed")


# Patient links -------------------------------------------------------------------


def _private(response):
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def link_view(purpose: Purpose):
    """Rate-limit, read and check the token for ``purpose``; pass the patient to the view.

    A token is honoured only while it is still the patient's: sent to the address on file,
    for a patient who is not archived (docs/decisions.md, "Patient links are bound to
    their address and program"). Otherwise the outdated page, and nothing is recorded.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, token: str, *args, **kwargs):
            if ratelimit.over_limit(token=token, ip=client_ip(request)):
                response = render(request, "clinic/reminders/link_rate_limited.html", status=429)
                response["Retry-After"] = str(settings.REMINDER_LINK_RATE_WINDOW_SECONDS)
                return _private(response)
            try:
                grant = read_token(token, purpose)
                patient = selectors.patient_for_link(grant.patient_id)
                if patient is None:
                    raise LinkInvalid
            except LinkError as error:
                return _private(
                    render(
                        request,
                        "clinic/reminders/link_error.html",
                        {"error": error},
                        status=error.status,
                    )
                )
            # The page, its words (locale/) and its dates are in the patient's language.
            with translation.override(patient.preferred_language):
                if patient.archived_at is not None or not grant.sent_to(patient.email):
                    response = _outdated(request, purpose)
                else:
                    response = view(request, *args, patient=patient, grant=grant, **kwargs)
            return _private(response)

        return wrapped

    return decorator


def _outdated(request, purpose: Purpose):
    """The page for a link that is no longer the patient's. It names no one and shows no
    state. An unsubscribe from an old address is answered "this address gets no
    reminders", which is true (reminders go to the current address only) and changes
    nothing (docs/decisions.md, "Unsubscribe links from an old address")."""
    if purpose in (Purpose.UNSUBSCRIBE, Purpose.UNSUBSCRIBE_APPOINTMENTS):
        return _page(request, "link_unsubscribe_outdated.html", {})
    return _page(request, "link_outdated.html", {}, status=410)


def _current_program(*, patient, grant):
    """The program the link was sent for, if it is still active and not past its end."""
    program = selectors.program_for_link(patient_id=patient.id, program_id=grant.program_id)
    if program is not None and program.end_date and program.end_date < patient_today(patient):
        return None
    return program


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, f"clinic/reminders/{template}", context, status=status)


def _local_today_label(patient) -> tuple:
    today = patient_today(patient)
    return today, formats.date_format(today, "DATE_FORMAT")


@link_view(Purpose.EXERCISES)
@require_http_methods(["GET"])
def link_exercises(request, *, patient, grant):
    program = _current_program(patient=patient, grant=grant)
    if program is None:
        return _outdated(request, Purpose.EXERCISES)
    spanish = patient.preferred_language == "es"
    items = []
    for prescription in program.prescriptions.all():
        exercise = prescription.exercise
        items.append(
            {
                "name": (exercise.name_es if spanish else "") or exercise.name,
                "instructions": (exercise.instructions_es if spanish else "")
                or exercise.instructions_en,
                "sets": prescription.sets,
                "reps": prescription.reps,
                "hold_seconds": prescription.hold_seconds,
                "times_per_day": prescription.times_per_day,
                "notes": prescription.notes,
            }
        )
    return _page(
        request,
        "link_exercises.html",
        {"patient": patient, "program": program, "items": items},
    )


@link_view(Purpose.DONE)
@require_http_methods(["GET", "POST"])
def link_done(request, *, patient, grant):
    """GET asks (mail scanners open links; only a person's POST records anything).
    It records on the program the link was sent for, never on a newer one."""
    program = _current_program(patient=patient, grant=grant)
    if program is None:
        return _outdated(request, Purpose.DONE)
    today, today_label = _local_today_label(patient)
    in_program = program.start_date <= today and (
        program.end_date is None or today <= program.end_date
    )
    if request.method == "POST" and in_program:
        services.exercises_done_record(program=program, ip=client_ip(request))
        return redirect(request.path)
    done = in_program and selectors.completion_exists(program=program, on_date=today)
    return _page(
        request,
        "link_done.html",
        {
            "patient": patient,
            "program": program,
            "in_program": in_program,
            "done": done,
            "today_label": today_label,
        },
    )


@link_view(Purpose.PAIN)
@require_http_methods(["GET", "POST"])
def link_pain(request, *, patient, grant):
    # A pain link sent with an exercise reminder lives as long as that program.
    if grant.program_id is not None and _current_program(patient=patient, grant=grant) is None:
        return _outdated(request, Purpose.PAIN)
    form = PainCheckinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.pain_checkin_record(
            patient=patient, score=form.cleaned_data["score"], ip=client_ip(request)
        )
        return redirect(f"{request.path}?thanks=1")
    thanks = request.method == "GET" and request.GET.get("thanks") == "1"
    return _page(
        request,
        "link_pain.html",
        {"patient": patient, "form": form, "thanks": thanks},
        status=400 if form.is_bound and form.errors else 200,
    )


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs with no cookie; the token is the key
@link_view(Purpose.UNSUBSCRIBE)
@require_http_methods(["GET", "POST"])
def link_unsubscribe(request, *, patient, grant):
    """Exercise reminders only: appointment emails have their own link and consent."""
    if request.method == "POST":
        services.reminders_unsubscribe(patient=patient, ip=client_ip(request))
    return _page(
        request,
        "link_unsubscribe.html",
        {"patient": patient, "subscribed": patient.reminders_opt_in},
    )


@csrf_exempt  # RFC 8058 one-click, as above
@link_view(Purpose.UNSUBSCRIBE_APPOINTMENTS)
@require_http_methods(["GET", "POST"])
def link_unsubscribe_appointments(request, *, patient, grant):
    """Appointment emails only (confirmations, changes, cancellations, reminders, offers);
    exercise reminders keep their own consent."""
    if request.method == "POST":
        services.appointment_emails_unsubscribe(patient=patient, ip=client_ip(request))
    return _page(
        request,
        "link_unsubscribe_appointments.html",
        {"patient": patient, "subscribed": patient.appointment_emails_opt_in},
    )


# Confirm or cancel an appointment (the appointment reminder's links) ----------------


def _appointment_for(request, *, patient, grant):
    """The visit the link was sent for and what the page says about it: when, with whom,
    where, in the patient's time zone (the language is already the patient's)."""
    appointment = selectors.appointment_for_link(
        patient_id=patient.id, appointment_id=grant.appointment_id
    )
    if appointment is None:
        return None, {}
    appointment.patient = patient  # the audit event names the patient
    starts = appointment.starts_at.astimezone(patient_zone(patient))
    context = {
        "patient": patient,
        "appointment": appointment,
        "when": f"{formats.date_format(starts, 'l')}, {formats.date_format(starts, 'DATE_FORMAT')}",
        "time": formats.time_format(starts, "H:i"),
        "zone": patient.timezone,
        "therapist": appointment.practitioner.display_name,
        "address": settings.CLINIC_ADDRESS,
    }
    return appointment, context


def _gone(request, context: dict):
    """Cancelled, moved or over: nothing to confirm or cancel; the phone is the way."""
    return _page(request, "link_appointment_gone.html", context, status=410)


def _upcoming(appointment) -> bool:
    return appointment.status == AppointmentStatus.BOOKED and appointment.starts_at > timezone.now()


@link_view(Purpose.CONFIRM)
@require_http_methods(["GET", "POST"])
def link_confirm(request, *, patient, grant):
    """GET shows the visit and a button (mail scanners open links); POST confirms."""
    appointment, context = _appointment_for(request, patient=patient, grant=grant)
    if appointment is None:
        return _outdated(request, Purpose.CONFIRM)
    if not _upcoming(appointment):
        return _gone(request, context)
    if request.method == "POST":
        services.appointment_confirm_from_link(appointment=appointment, ip=client_ip(request))
        return redirect(request.path)
    return _page(request, "link_confirm.html", context)


@link_view(Purpose.CANCEL)
@require_http_methods(["GET", "POST"])
def link_cancel(request, *, patient, grant):
    """GET shows the visit and asks for a reason; POST cancels (through the front desk's
    service). Inside the late-cancellation window the page gives the clinic's phone."""
    appointment, context = _appointment_for(request, patient=patient, grant=grant)
    if appointment is None:
        return _outdated(request, Purpose.CANCEL)
    if appointment.status == AppointmentStatus.CANCELLED and request.GET.get("done") == "1":
        return _page(request, "link_cancel.html", {**context, "cancelled": True})
    if not _upcoming(appointment):
        return _gone(request, context)
    too_late = {**context, "too_late": True}
    if kinds.cancel_deadline(appointment) <= timezone.now():
        return _page(request, "link_cancel.html", too_late)
    form = AppointmentCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel_from_link(
                appointment=appointment,
                reason=form.cleaned_data["reason"],
                ip=client_ip(request),
            )
        except services.CancelTooLate:
            return _page(request, "link_cancel.html", too_late)
        except SchedulingError:
            # Cancelled or moved by the clinic a moment ago.
            return _gone(request, context)
        return redirect(f"{request.path}?done=1")
    deadline = kinds.cancel_deadline(appointment).astimezone(patient_zone(patient))
    context["deadline"] = (
        f"{formats.date_format(deadline, 'l')} {formats.time_format(deadline, 'H:i')}"
    )
    return _page(
        request,
        "link_cancel.html",
        {**context, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
