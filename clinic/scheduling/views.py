"""Scheduling pages: the calendar, booking, the status flow, recurring visits, exports
and the manager's set-up. Thin: permission, form, one service call, redirect."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.models import (
    AppointmentStatus,
    ClinicClosure,
    Practitioner,
    Room,
    TimeOff,
    WorkingHours,
)
from clinic.scheduling.ics import appointment_ics, practitioner_feed_ics
from patients.audit import client_ip
from patients.inputs import parse_date, parse_id, picker_return_path
from patients.localtime import clinic_today, clinic_zone

from . import forms, selectors, services


def _calendar_day(request) -> dt.date:
    """The ``?date=`` the calendar shows; today, with a message, when it is not a date
    in the clinic's range (so the previous/next links cannot overflow either)."""
    form = forms.CalendarDateForm(request.GET)
    if form.is_valid():
        return form.cleaned_data["date"] or clinic_today()
    for error in form.errors.get("date", []):
        messages.error(request, f"{error} Showing today instead.")
    return clinic_today()


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    # Only a path: redirect() would read anything else as a URL pattern's name.
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default


def _day_url(when: dt.datetime) -> str:
    return f"{reverse('scheduling:day')}?date={when.astimezone(clinic_zone()).date():%Y-%m-%d}"


# The calendar ---------------------------------------------------------------------


def _booking_rules(request):
    """The booking rules when the user books (the calendar then links every free slot to
    the booking form); None otherwise, and no query."""
    if request.user.has_perm("clinic.add_appointment"):
        return selectors.scheduling_settings()
    return None


@login_required
@permission_required("clinic.view_appointment", raise_exception=True)
@require_GET
def day(request):
    day = _calendar_day(request)
    return render(
        request,
        "clinic/scheduling/day.html",
        {
            "day": day,
            "grid": selectors.calendar_day(day, _booking_rules(request)),
            "legend": selectors.calendar_legend(),
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "today": clinic_today(),
        },
    )


@login_required
@permission_required("clinic.view_appointment", raise_exception=True)
@require_GET
def week(request, practitioner_id: int):
    practitioner, active = selectors.get_week_practitioners_for_user(request.user, practitioner_id)
    day = _calendar_day(request)
    monday = selectors.week_start(day)
    return render(
        request,
        "clinic/scheduling/week.html",
        {
            "practitioner": practitioner,
            "practitioners": selectors.week_links(active, day),
            "day": day,
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "grid": selectors.calendar_week(practitioner, day, _booking_rules(request)),
            "legend": selectors.calendar_legend(),
            "previous": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
            "today": clinic_today(),
        },
    )


# Booking --------------------------------------------------------------------------


def _patient_picker(form, request) -> None:
    """Where the picker's registry links come back to (the page without ?patient=)."""
    form.fields["patient"].widget.return_path = picker_return_path(request)


def _booking_initial(request) -> dict:
    """Prefill from the calendar's links; values that do not parse are left out."""
    initial = {"kind": request.GET.get("kind") or "follow_up"}
    for key in ("patient", "practitioner", "room", "duration"):
        number = parse_id(request.GET.get(key))
        if number is not None:
            initial[key] = number
    day = parse_date(request.GET.get("date"))
    if day is not None:
        initial["date"] = day
    time = request.GET.get("time", "")
    if len(time) <= 8 and time.replace(":", "").isdigit():
        initial["time"] = time
    return initial


@login_required
@permission_required("clinic.add_appointment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def book(request):
    rules = selectors.scheduling_settings()
    form = forms.BookingForm(request.POST or None, initial=_booking_initial(request), rules=rules)
    _patient_picker(form, request)
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.appointment_book(
                **form.booking_kwargs(), acting_user=request.user, ip=client_ip(request)
            )
        except services.OutsideWorkingHours as error:
            form.add_error(None, error.message)
            form.offer_override()
        except services.SchedulingError as error:
            form.add_error(None, error.message)
        else:
            local = appointment.starts_at.astimezone(clinic_zone())
            messages.success(
                request,
                f"Booked {appointment.patient.full_name} with "
                f"{appointment.practitioner.display_name} on {local:%a %d %b at %H:%M}.",
            )
            return redirect(_day_url(appointment.starts_at))
    return render(
        request,
        "clinic/scheduling/book.html",
        {"form": form, "durations": selectors.kind_durations(rules)},
    )


@login_required
@permission_required("clinic.view_appointment", raise_exception=True)
@require_GET
def free_slots(request):
    rules = selectors.scheduling_settings()
    form = forms.FreeSlotForm(
        request.GET if "kind" in request.GET else None,
        initial={"kind": "follow_up", "count": 5},
        rules=rules,
    )
    slots = slot_rows = None
    patient_id = parse_id(request.GET.get("patient"))
    patient = (
        selectors.bookable_patients().filter(pk=patient_id).first()
        if patient_id is not None
        else None
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        slots = selectors.free_slots(
            patient=patient,
            practitioner=data["practitioner"],
            duration=dt.timedelta(minutes=data["minutes"]),
            after=data["after"],
            count=data["count"],
            step_minutes=rules.slot_step_minutes,
        )
        slot_rows = selectors.free_slot_rows(
            slots, kind=data["kind"], minutes=data["minutes"], patient=patient
        )
    return render(
        request,
        "clinic/scheduling/free_slots.html",
        {"form": form, "slots": slots, "slot_rows": slot_rows, "patient": patient},
    )


# One appointment ------------------------------------------------------------------


@login_required
@permission_required("clinic.view_appointment", raise_exception=True)
@require_GET
def appointment_detail(request, appointment_id: int):
    appointment = selectors.get_appointment_for_user(request.user, appointment_id)
    return render(
        request,
        "clinic/scheduling/appointment_detail.html",
        {
            "appointment": appointment,
            "cancel_form": forms.CancelForm(),
            "rescheduled_to": getattr(appointment, "rescheduled_to", None),
            "actions": selectors.visit_actions(appointment),
        },
    )


def _transition_view(service, success: str):
    @login_required
    @permission_required("clinic.change_appointment", raise_exception=True)
    @require_POST
    def view(request, appointment_id: int):
        appointment = selectors.get_appointment_for_user(request.user, appointment_id)
        try:
            service(appointment=appointment, acting_user=request.user, ip=client_ip(request))
        except services.SchedulingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, success.format(name=appointment.patient.full_name))
        return redirect(
            _next_url(request, reverse("scheduling:appointment", args=[appointment.pk]))
        )

    return view


check_in = _transition_view(services.appointment_check_in, "{name} is checked in.")
complete = _transition_view(services.appointment_complete, "Visit with {name} completed.")
no_show = _transition_view(services.appointment_mark_no_show, "{name} marked as a no-show.")


@login_required
@permission_required("clinic.change_appointment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def undo_status(request, appointment_id: int):
    appointment = selectors.get_appointment_for_user(request.user, appointment_id)
    form = forms.UndoStatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        before = appointment.get_status_display().lower()
        try:
            done = services.appointment_undo_status(
                appointment=appointment,
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
                ip=client_ip(request),
            )
        except services.SchedulingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"“{before}” undone: the visit is {done.get_status_display().lower()}."
            )
            return redirect("scheduling:appointment", appointment_id=appointment.pk)
    return render(
        request,
        "clinic/scheduling/undo.html",
        {
            "appointment": appointment,
            "form": form,
            "can_undo": selectors.can_undo_status(appointment),
        },
    )


@login_required
@permission_required("clinic.change_appointment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def cancel(request, appointment_id: int):
    appointment = selectors.get_appointment_for_user(request.user, appointment_id)
    form = forms.CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if form.cleaned_data.get("scope") == "following" and appointment.series_id:
                cancelled = services.series_cancel_following(
                    appointment=appointment,
                    reason=reason,
                    acting_user=request.user,
                    ip=client_ip(request),
                )
                messages.success(request, f"{len(cancelled)} visits cancelled.")
            else:
                done = services.appointment_cancel(
                    appointment=appointment,
                    reason=reason,
                    acting_user=request.user,
                    ip=client_ip(request),
                )
                note = " It is a late cancellation." if done.late_cancellation else ""
                messages.success(request, f"Visit cancelled.{note}")
        except services.SchedulingError as error:
            form.add_error(None, error.message)
        else:
            # Back where the desk came from (a closure's worklist), else the day.
            return redirect(_next_url(request, _day_url(appointment.starts_at)))
    return render(
        request,
        "clinic/scheduling/cancel.html",
        {"appointment": appointment, "form": form, "next_url": _next_url(request, "")},
    )


@login_required
@permission_required("clinic.change_appointment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def reschedule(request, appointment_id: int):
    appointment = selectors.get_appointment_for_user(request.user, appointment_id)
    local = appointment.starts_at.astimezone(clinic_zone())
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    rules = selectors.scheduling_settings()
    form = forms.RescheduleForm(
        request.POST or None,
        initial={
            "practitioner": appointment.practitioner_id,
            "room": appointment.room_id,
            "date": local.date(),
            "time": local.time(),
            "duration": minutes,
        },
        rules=rules,
        kind=appointment.kind,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.appointment_reschedule(
                appointment=appointment,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                practitioner=data["practitioner"],
                room=data["room"],
                allow_outside_hours=data["override_hours"],
                acting_user=request.user,
                ip=client_ip(request),
            )
        except services.OutsideWorkingHours as error:
            form.add_error(None, error.message)
            form.offer_override()
        except services.SchedulingError as error:
            form.add_error(None, error.message)
        else:
            when = new.starts_at.astimezone(clinic_zone())
            messages.success(request, f"Visit moved to {when:%a %d %b at %H:%M}.")
            # Back where the desk came from (a closure's worklist), else the new day.
            return redirect(_next_url(request, _day_url(new.starts_at)))
    choices = (
        selectors.reschedule_choices(appointment, rules)
        if appointment.status == AppointmentStatus.BOOKED
        else []
    )
    return render(
        request,
        "clinic/scheduling/reschedule.html",
        {
            "appointment": appointment,
            "form": form,
            "choices": choices,
            "minutes": minutes,
            "next_url": _next_url(request, ""),
        },
    )


@login_required
@permission_required("clinic.view_appointment", raise_exception=True)
@require_GET
def appointment_ics_download(request, appointment_id: int):
    appointment = selectors.get_appointment_for_user(request.user, appointment_id)
    response = HttpResponse(
        appointment_ics(appointment), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    return response


# Recurring visits -----------------------------------------------------------------


def _recurring_initial(request) -> dict:
    initial = {"kind": "follow_up", "weeks": 6, "first_date": clinic_today()}
    patient_id = parse_id(request.GET.get("patient"))
    if patient_id is not None:
        initial["patient"] = patient_id
    plan_id = parse_id(request.GET.get("plan"))
    if plan_id is not None and patient_id is not None:
        from treatments.models import TreatmentPlan

        plan = TreatmentPlan.objects.filter(pk=plan_id, patient_id=patient_id).first()
        if plan is not None:
            initial.update(
                plan=plan.pk,
                weeks=plan.weeks,
                weekdays=selectors.plan_weekdays(plan.visits_per_week),
                first_date=max(plan.start_date, clinic_today()),
            )
            practitioner = Practitioner.objects.filter(user_id=plan.therapist_id).first()
            if practitioner is not None:
                initial["practitioner"] = practitioner.pk
    return initial


@login_required
@permission_required("clinic.add_appointment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def recurring(request):
    rules = selectors.scheduling_settings()
    form = forms.RecurringForm(
        request.POST or None, initial=_recurring_initial(request), rules=rules
    )
    _patient_picker(form, request)
    preview = None
    plan_visits: dict[str, int] | None = None
    confirm_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duration = dt.timedelta(minutes=data["minutes"])
        plan = form.treatment_plan
        if plan is not None:
            plan_visits = {
                "total": plan.visits_per_week * plan.weeks,
                "booked": selectors.plan_visits_booked(plan),
            }
            plan_visits["left"] = max(0, plan_visits["total"] - plan_visits["booked"])
        preview = selectors.series_preview(
            patient=data["patient"],
            practitioner=data["practitioner"],
            room=data["room"],
            duration=duration,
            starts=data["starts"],
            allow_outside_hours=data["override_hours"],
            step_minutes=rules.slot_step_minutes,
            visits_left=plan_visits["left"] if plan_visits else None,
        )
        if request.POST.get("action") == "book":
            choices = [o.starts_at for o in preview] + [
                o.suggestion for o in preview if o.suggestion
            ]
            confirm = forms.ConfirmSeriesForm(request.POST, choices=choices)
            if confirm.is_valid():
                try:
                    series = services.series_book(
                        patient=data["patient"],
                        practitioner=data["practitioner"],
                        kind=data["kind"],
                        starts=confirm.cleaned_data["occurrence"],
                        duration=duration,
                        room=data["room"],
                        treatment_plan=form.treatment_plan,
                        allow_outside_hours=data["override_hours"],
                        acting_user=request.user,
                        ip=client_ip(request),
                    )
                except services.SchedulingError as error:
                    confirm_errors.append(error.message)
                else:
                    count = series.appointments.count()
                    messages.success(
                        request, f"{count} visits booked for {data['patient'].full_name}."
                    )
                    first = min(confirm.cleaned_data["occurrence"])
                    return redirect(
                        reverse("scheduling:week", args=[data["practitioner"].pk])
                        + f"?date={first.astimezone(clinic_zone()).date():%Y-%m-%d}"
                    )
            else:
                confirm_errors.extend(e for errs in confirm.errors.values() for e in errs)
    return render(
        request,
        "clinic/scheduling/recurring.html",
        {
            "form": form,
            "preview": preview,
            "preview_rows": selectors.preview_rows(preview) if preview else [],
            "plan_visits": plan_visits,
            "confirm_errors": confirm_errors,
        },
    )


# A series as a whole -------------------------------------------------------------


@login_required
@permission_required("clinic.view_appointment", raise_exception=True)
@require_GET
def series(request, series_id: int):
    series = selectors.get_series_for_user(request.user, series_id)
    visits = selectors.series_visits(series)
    return render(
        request,
        "clinic/scheduling/series.html",
        {
            "series": series,
            "visits": visits,
            "remaining": selectors.remaining_visits(visits),
            "cancel_form": forms.SeriesCancelForm(),
        },
    )


@login_required
@permission_required("clinic.change_appointment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def series_cancel(request, series_id: int):
    series = selectors.get_series_for_user(request.user, series_id)
    remaining = selectors.remaining_visits(selectors.series_visits(series))
    form = forms.SeriesCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = services.series_cancel_remaining(
                series=series,
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
                ip=client_ip(request),
            )
        except services.SchedulingError as error:
            form.add_error(None, error.message)
        else:
            late = sum(v.late_cancellation for v in cancelled)
            note = f" {late} of them late." if late else ""
            messages.success(request, f"{len(cancelled)} remaining visits cancelled.{note}")
            return redirect("scheduling:series", series_id=series.pk)
    return render(
        request,
        "clinic/scheduling/series_cancel.html",
        {"series": series, "remaining": remaining, "form": form},
    )


def _move_initial(series, remaining) -> dict:
    initial: dict = {"practitioner": series.practitioner_id, "first_date": clinic_today()}
    if remaining:
        tz = clinic_zone()
        first = remaining[0].starts_at.astimezone(tz)
        initial.update(
            first_date=first.date(),
            time=first.time(),
            weekdays=sorted({v.starts_at.astimezone(tz).weekday() for v in remaining}),
        )
    return initial


@login_required
@permission_required("clinic.change_appointment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def series_move(request, series_id: int):
    series = selectors.get_series_for_user(request.user, series_id)
    remaining = selectors.remaining_visits(selectors.series_visits(series))
    rules = selectors.scheduling_settings()
    form = forms.SeriesMoveForm(request.POST or None, initial=_move_initial(series, remaining))
    preview = None
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            preview = selectors.series_move_preview(
                series,
                remaining,
                practitioner=data["practitioner"],
                weekdays=data["weekdays"],
                time=data["time"],
                first_date=data["first_date"],
                step_minutes=rules.slot_step_minutes,
            )
        except ValueError as error:  # a time the clocks skip that day
            form.add_error("time", str(error))
        if preview is not None and request.POST.get("action") == "move":
            moves = {}
            for visit, occurrence in preview:
                posted = request.POST.get(f"move-{visit.pk}")
                if not posted:
                    continue
                instant = forms.parse_instant(posted)
                if instant is None or instant != occurrence.booked_start:
                    errors.append(
                        "The times changed since the preview: check the new preview below "
                        "and move again."
                    )
                    break
                moves[visit.pk] = instant
            else:
                try:
                    moved = services.series_move_remaining(
                        series=series,
                        moves=moves,
                        practitioner=data["practitioner"],
                        acting_user=request.user,
                        ip=client_ip(request),
                    )
                except services.SchedulingError as error:
                    errors.append(error.message)
                else:
                    messages.success(request, f"{len(moved)} visits moved.")
                    return redirect("scheduling:series", series_id=series.pk)
    return render(
        request,
        "clinic/scheduling/series_move.html",
        {
            "series": series,
            "remaining": remaining,
            "form": form,
            "preview": preview,
            "errors": errors,
        },
    )


# The private iCalendar feed -------------------------------------------------------


@require_GET
def practitioner_feed(request, token: str):
    """No login (calendar apps cannot sign in): the secret token is the key."""
    if len(token) < 20:
        raise Http404
    practitioner = Practitioner.objects.filter(feed_token=token, active=True).first()
    if practitioner is None:
        raise Http404
    body = practitioner_feed_ics(
        practitioner, selectors.practitioner_feed_appointments(practitioner)
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _feed_url(request, practitioner: Practitioner) -> str | None:
    if not practitioner.feed_token:
        return None
    return request.build_absolute_uri(reverse("scheduling:feed", args=[practitioner.feed_token]))


@login_required
@require_http_methods(["GET", "POST"])
def my_feed(request):
    """A therapist's own feed address: see, renew or turn off."""
    practitioner = Practitioner.objects.filter(user=request.user).first()
    if practitioner is None:
        raise PermissionDenied
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.practitioner_feed_revoke(practitioner=practitioner, acting_user=request.user)
            messages.success(request, "Calendar feed turned off; the old address no longer works.")
        else:
            services.practitioner_feed_regenerate(
                practitioner=practitioner, acting_user=request.user
            )
            messages.success(request, "New feed address created; the old one no longer works.")
        return redirect("scheduling:my_feed")
    return render(
        request,
        "clinic/scheduling/my_feed.html",
        {"practitioner": practitioner, "feed_url": _feed_url(request, practitioner)},
    )


# Manager set-up -------------------------------------------------------------------


@login_required
@permission_required("clinic.change_practitioner", raise_exception=True)
@require_GET
def practitioner_list(request):
    practitioners = Practitioner.objects.select_related("user").order_by("-active", "display_name")
    return render(
        request, "clinic/scheduling/practitioner_list.html", {"practitioners": practitioners}
    )


@login_required
@permission_required("clinic.add_practitioner", raise_exception=True)
@require_http_methods(["GET", "POST"])
def practitioner_create(request):
    form = forms.PractitionerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        practitioner = services.practitioner_create(acting_user=request.user, **form.cleaned_data)
        messages.success(request, f"{practitioner.display_name} can now be booked.")
        return redirect("scheduling:practitioner", practitioner.pk)
    return render(
        request,
        "clinic/scheduling/simple_form.html",
        {"form": form, "title": "Add a practitioner", "back": reverse("scheduling:practitioners")},
    )


@login_required
@permission_required("clinic.change_practitioner", raise_exception=True)
@require_http_methods(["GET", "POST"])
def practitioner_edit(request, practitioner_id: int):
    practitioner = selectors.get_practitioner_for_user(request.user, practitioner_id)
    form = forms.PractitionerForm(
        request.POST if request.POST.get("action") == "details" else None,
        initial={"display_name": practitioner.display_name, "active": practitioner.active},
    )
    hours_form = forms.WorkingHoursForm(
        request.POST if request.POST.get("action") == "hours" else None
    )
    off_form = forms.TimeOffForm(request.POST if request.POST.get("action") == "time_off" else None)
    action = request.POST.get("action")
    if request.method == "POST":
        done = None
        try:
            if action == "details" and form.is_valid():
                services.practitioner_update(
                    practitioner=practitioner, acting_user=request.user, **form.cleaned_data
                )
                done = "Details saved."
            elif action == "hours" and form_perm(request, "clinic.add_workinghours"):
                if hours_form.is_valid():
                    services.working_hours_add(
                        practitioner=practitioner,
                        acting_user=request.user,
                        **hours_form.cleaned_data,
                    )
                    done = "Working hours added."
            elif action == "delete_hours" and form_perm(request, "clinic.delete_workinghours"):
                hours = get_object_or_404(
                    WorkingHours, pk=_int(request.POST.get("id")), practitioner=practitioner
                )
                services.working_hours_delete(hours=hours, acting_user=request.user)
                done = "Working hours removed."
            elif action == "time_off" and form_perm(request, "clinic.add_timeoff"):
                if off_form.is_valid():
                    data = off_form.cleaned_data
                    off = services.time_off_add(
                        practitioner=practitioner,
                        starts_at=data["starts_at"],
                        ends_at=data["ends_at"],
                        reason=data["reason"],
                        acting_user=request.user,
                    )
                    done = "Time off added."
                    clashes = selectors.stranded_visits(
                        off.starts_at, off.ends_at, practitioner_id=practitioner.pk
                    ).count()
                    if clashes:
                        messages.success(request, done)
                        messages.warning(
                            request,
                            f"{clashes} visit(s) fall in this time off: move or cancel each "
                            "one below (the front desk can do it too).",
                        )
                        return redirect("scheduling:time_off_visits", time_off_id=off.pk)
            elif action == "delete_time_off" and form_perm(request, "clinic.delete_timeoff"):
                off = get_object_or_404(
                    TimeOff, pk=_int(request.POST.get("id")), practitioner=practitioner
                )
                services.time_off_delete(time_off=off, acting_user=request.user)
                done = "Time off removed."
            elif action == "feed_renew":
                services.practitioner_feed_regenerate(
                    practitioner=practitioner, acting_user=request.user
                )
                done = "New feed address created; the old one no longer works."
            elif action == "feed_revoke":
                services.practitioner_feed_revoke(
                    practitioner=practitioner, acting_user=request.user
                )
                done = "Calendar feed turned off."
        except services.SchedulingError as error:
            target = hours_form if action == "hours" else off_form
            target.add_error(None, error.message)
        if done:
            messages.success(request, done)
            return redirect("scheduling:practitioner", practitioner.pk)
    return render(
        request,
        "clinic/scheduling/practitioner_edit.html",
        {
            "practitioner": practitioner,
            "form": form,
            "hours_form": hours_form,
            "off_form": off_form,
            "feed_url": _feed_url(request, practitioner),
            **selectors.practitioner_setup(practitioner),
        },
    )


def form_perm(request, perm: str) -> bool:
    if not request.user.has_perm(perm):
        raise PermissionDenied
    return True


def _int(value) -> int:
    number = parse_id(value)
    if number is None:
        raise Http404
    return number


@login_required
@permission_required("clinic.change_room", raise_exception=True)
@require_GET
def room_list(request):
    return render(
        request,
        "clinic/scheduling/room_list.html",
        {"rooms": Room.objects.order_by("-active", "name")},
    )


@login_required
@permission_required("clinic.add_room", raise_exception=True)
@require_http_methods(["GET", "POST"])
def room_create(request):
    form = forms.RoomForm(request.POST or None, initial={"active": True, "capacity": 1})
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(
                name=form.cleaned_data["name"],
                capacity=form.cleaned_data["capacity"],
                acting_user=request.user,
                ip=client_ip(request),
            )
        except services.SchedulingError as error:
            form.add_error("capacity", error.message)
        else:
            messages.success(request, f"{room.name} added.")
            return redirect("scheduling:rooms")
    return render(
        request,
        "clinic/scheduling/simple_form.html",
        {"form": form, "title": "Add a room", "back": reverse("scheduling:rooms")},
    )


@login_required
@permission_required("clinic.change_room", raise_exception=True)
@require_http_methods(["GET", "POST"])
def room_edit(request, room_id: int):
    room = get_object_or_404(Room, pk=room_id)
    form = forms.RoomForm(
        request.POST or None,
        room=room,
        initial={"name": room.name, "active": room.active, "capacity": room.capacity},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.room_update(
                room=room, acting_user=request.user, ip=client_ip(request), **form.cleaned_data
            )
        except services.SchedulingError as error:
            form.add_error("capacity", error.message)
        else:
            messages.success(request, f"{room.name} saved.")
            return redirect("scheduling:rooms")
    return render(
        request,
        "clinic/scheduling/simple_form.html",
        {"form": form, "title": f"Edit {room.name}", "back": reverse("scheduling:rooms")},
    )


@login_required
@permission_required("clinic.change_schedulingsettings", raise_exception=True)
@require_http_methods(["GET", "POST"])
def settings_edit(request):
    current = selectors.scheduling_settings()
    form = forms.SchedulingSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.scheduling_settings_update(acting_user=request.user, **form.cleaned_data)
        messages.success(request, "Scheduling settings saved.")
        return redirect("scheduling:settings")
    return render(
        request,
        "clinic/scheduling/simple_form.html",
        {"form": form, "title": "Scheduling settings", "back": reverse("scheduling:practitioners")},
    )


# Clinic closures and the stranded-visit worklists ---------------------------------

CLOSURE_PAGE_SIZE = 20
WORKLIST_PAGE_SIZE = 25


@login_required
@permission_required("clinic.view_clinicclosure", raise_exception=True)
@require_GET
def closure_list(request):
    past = request.GET.get("past") == "1"
    page = Paginator(selectors.closures(past=past), CLOSURE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    closures = list(page.object_list)
    windows = {c.pk: (*selectors.closure_window(c), None) for c in closures}
    counts = selectors.stranded_counts(windows)
    return render(
        request,
        "clinic/scheduling/closure_list.html",
        {
            "page": page,
            "rows": [(c, counts.get(c.pk, 0)) for c in closures],
            "past": past,
            "query_string": "past=1" if past else "",
        },
    )


def _after_closure_saved(request, closure: ClinicClosure, done: str):
    """To the closure's worklist when it strands visits, otherwise back to the list."""
    start, end = selectors.closure_window(closure)
    stranded = selectors.stranded_visits(start, end).count()
    messages.success(request, done)
    if stranded:
        messages.warning(
            request,
            f"{stranded} visit(s) are booked on these closed days: move or cancel each one "
            "below (the front desk can do it too).",
        )
        return redirect("scheduling:closure_visits", closure_id=closure.pk)
    return redirect("scheduling:closures")


@login_required
@permission_required("clinic.add_clinicclosure", raise_exception=True)
@require_http_methods(["GET", "POST"])
def closure_create(request):
    form = forms.ClosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            closure = services.closure_create(
                **form.cleaned_data, acting_user=request.user, ip=client_ip(request)
            )
        except services.SchedulingError as error:
            form.add_error(None, error.message)
        else:
            return _after_closure_saved(request, closure, f"Closure added: {closure}.")
    return render(
        request,
        "clinic/scheduling/closure_form.html",
        {"form": form, "title": "Close the clinic", "closure": None},
    )


@login_required
@permission_required("clinic.change_clinicclosure", raise_exception=True)
@require_http_methods(["GET", "POST"])
def closure_edit(request, closure_id: int):
    closure = selectors.get_closure_for_user(request.user, closure_id)
    if request.method == "POST" and request.POST.get("action") == "delete":
        if not request.user.has_perm("clinic.delete_clinicclosure"):
            raise PermissionDenied
        services.closure_delete(closure=closure, acting_user=request.user, ip=client_ip(request))
        messages.success(request, f"Closure removed: {closure}. These days can be booked again.")
        return redirect("scheduling:closures")
    form = forms.ClosureForm(
        request.POST or None,
        initial={
            "starts_on": closure.starts_on,
            "ends_on": closure.ends_on,
            "reason": closure.reason,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.closure_update(
                closure=closure,
                **form.cleaned_data,
                acting_user=request.user,
                ip=client_ip(request),
            )
        except services.SchedulingError as error:
            form.add_error(None, error.message)
        else:
            return _after_closure_saved(request, closure, f"Closure saved: {closure}.")
    return render(
        request,
        "clinic/scheduling/closure_form.html",
        {"form": form, "title": f"Closure: {closure.reason}", "closure": closure},
    )


def _worklist(request, *, title: str, start, end, practitioner_id=None, back: str, back_label: str):
    page = Paginator(
        selectors.stranded_visits(start, end, practitioner_id=practitioner_id),
        WORKLIST_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "clinic/scheduling/stranded_visits.html",
        {
            "title": title,
            "page": page,
            "visits": list(page.object_list),
            "back": back,
            "back_label": back_label,
            "here": request.get_full_path(),
            "booked": AppointmentStatus.BOOKED,
        },
    )


@login_required
@permission_required("clinic.view_clinicclosure", raise_exception=True)
@require_GET
def closure_visits(request, closure_id: int):
    """The visits a closure strands, for the front desk to move or cancel one by one;
    each leaves the list once it is no longer booked or checked in on a closed day."""
    closure = selectors.get_closure_for_user(request.user, closure_id)
    start, end = selectors.closure_window(closure)
    return _worklist(
        request,
        title=f"Visits on closed days: {closure}",
        start=start,
        end=end,
        back=reverse("scheduling:closures"),
        back_label="All closures",
    )


@login_required
@permission_required("clinic.view_timeoff", raise_exception=True)
@require_GET
def time_off_list(request):
    page = Paginator(selectors.upcoming_time_off(), CLOSURE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    offs = list(page.object_list)
    counts = selectors.stranded_counts(
        {off.pk: (off.starts_at, off.ends_at, off.practitioner_id) for off in offs}
    )
    return render(
        request,
        "clinic/scheduling/time_off_list.html",
        {"page": page, "rows": [(off, counts.get(off.pk, 0)) for off in offs]},
    )


@login_required
@permission_required("clinic.view_timeoff", raise_exception=True)
@require_GET
def time_off_visits(request, time_off_id: int):
    """The same worklist for one practitioner's time off."""
    off = selectors.get_time_off_for_user(request.user, time_off_id)
    tz = clinic_zone()
    when = (
        f"{off.starts_at.astimezone(tz):%a %d %b %Y %H:%M} – "
        f"{off.ends_at.astimezone(tz):%a %d %b %Y %H:%M}"
    )
    return _worklist(
        request,
        title=f"Visits in {off.practitioner.display_name}'s time off: {when}"
        + (f" ({off.reason})" if off.reason else ""),
        start=off.starts_at,
        end=off.ends_at,
        practitioner_id=off.practitioner_id,
        back=reverse("scheduling:time_off_list"),
        back_label="All time off",
    )
