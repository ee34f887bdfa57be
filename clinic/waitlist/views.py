"""The waitlist page for staff (/waitlist/) and the page a patient opens from an offer
email (/r/w/<token>/, no login: the signed token is the whole authorisation)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.views.decorators.http import require_http_methods, require_POST

from clinic.reminders import ratelimit
from clinic.reminders.signing import LinkError, LinkInvalid
from clinic.scheduling.services import OutsideWorkingHours, SchedulingError
from patients.audit import client_ip
from patients.inputs import parse_id, picker_return_path
from patients.localtime import clinic_today, clinic_zone, patient_zone

from . import forms, selectors, services
from .signing import read_claim_token

# Staff ---------------------------------------------------------------------------


def _page_number(value) -> int:
    number = parse_id(value)
    return number if number is not None and 1 <= number <= 10_000 else 1


@login_required
@permission_required("clinic.view_waitlistentry", raise_exception=True)
@require_http_methods(["GET"])
def waitlist_list(request):
    """Entries, oldest first, with their latest offers and states; a page at a time."""
    state = request.GET.get("state", "active")
    if state not in selectors.FILTERS:
        state = "active"
    patient_id = parse_id(request.GET.get("patient"))
    page = selectors.entry_page(
        state=state, page=_page_number(request.GET.get("page")), patient_id=patient_id
    )
    return render(
        request,
        "clinic/waitlist/list.html",
        {
            "page": page,
            "state": state,
            "states": list(selectors.FILTERS),
            "patient_id": patient_id,
            "today": clinic_today(),
            "offer_minutes": settings.WAITLIST_OFFER_MINUTES,
            "wave_size": settings.WAITLIST_WAVE_SIZE,
        },
    )


@login_required
@permission_required("clinic.add_waitlistentry", raise_exception=True)
@require_http_methods(["GET", "POST"])
def waitlist_add(request):
    form = forms.WaitlistEntryForm(request.POST or None, initial=forms.entry_initial(request.GET))
    form.fields["patient"].widget.return_path = picker_return_path(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.waitlist_entry_create(
                patient=data["patient"],
                practitioner=data["practitioner"],
                kind=data["kind"],
                earliest_date=data["earliest_date"],
                latest_date=data["latest_date"],
                weekdays=data["weekdays"],
                window_start=data["window_start"],
                window_end=data["window_end"],
                acting_user=request.user,
                ip=client_ip(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{entry.patient.full_name} is on the waitlist.")
            return redirect(f"{reverse('waitlist:list')}?patient={entry.patient_id}")
    return render(request, "clinic/waitlist/add.html", {"form": form})


@login_required
@permission_required("clinic.change_waitlistentry", raise_exception=True)
@require_POST
def waitlist_withdraw(request, entry_id: int):
    entry = selectors.get_entry_for_user(request.user, entry_id)
    if services.waitlist_entry_withdraw(
        entry=entry, acting_user=request.user, ip=client_ip(request)
    ):
        messages.success(request, f"{entry.patient.full_name} is off the waitlist.")
    else:
        messages.warning(request, "This entry is already booked or withdrawn; nothing changed.")
    return redirect("waitlist:list")


@login_required
@permission_required("clinic.change_waitlistentry", raise_exception=True)
@permission_required("clinic.add_appointment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def waitlist_book(request, entry_id: int):
    """Book an entry by hand through the booking service (its rules and lock)."""
    entry = selectors.get_entry_for_user(request.user, entry_id)
    form = forms.WaitlistBookForm(request.POST or None, initial=forms.book_initial(entry))
    if request.method == "POST" and form.is_valid() and form.cleaned_data["starts_at"]:
        data = form.cleaned_data
        starts_at = data["starts_at"]
        try:
            appointment = services.waitlist_entry_book(
                entry=entry,
                practitioner=data["practitioner"],
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=services.visit_minutes(entry.kind)),
                allow_outside_hours=data["override_hours"],
                acting_user=request.user,
                ip=client_ip(request),
            )
        except OutsideWorkingHours as error:
            form.add_error(None, error.message)
        except SchedulingError as error:
            form.add_error(None, error.message)
        else:
            local = appointment.starts_at.astimezone(clinic_zone())
            messages.success(
                request,
                f"Booked {entry.patient.full_name} with "
                f"{appointment.practitioner.display_name} on {local:%a %d %b at %H:%M}.",
            )
            return redirect("waitlist:list")
    return render(
        request,
        "clinic/waitlist/book.html",
        {"entry": entry, "form": form, "minutes": services.visit_minutes(entry.kind)},
        status=400 if form.is_bound and form.errors else 200,
    )


# The patient's claim link ----------------------------------------------------------


def _private(response):
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_http_methods(["GET", "POST"])
def offer_claim(request, token: str):
    """GET shows the time and a "Book this time" button (mail scanners open links; only
    a person's POST books). POST claims: the first claim books, later ones see "this time
    has been taken" and stay on the list."""
    if ratelimit.over_limit(token=token, ip=client_ip(request)):
        response = render(request, "clinic/reminders/link_rate_limited.html", status=429)
        response["Retry-After"] = str(settings.REMINDER_LINK_RATE_WINDOW_SECONDS)
        return _private(response)
    try:
        grant = read_claim_token(token)
        offer = selectors.offer_for_link(grant.offer_id)
        if offer is None or offer.entry.patient_id != grant.patient_id:
            raise LinkInvalid
    except LinkError as error:
        return _private(
            render(
                request, "clinic/reminders/link_error.html", {"error": error}, status=error.status
            )
        )
    patient = offer.entry.patient
    with translation.override(patient.preferred_language):
        if patient.archived_at is not None or not grant.sent_to(patient.email):
            return _private(render(request, "clinic/reminders/link_outdated.html", status=410))
        outcome = None
        if request.method == "POST":
            outcome = services.slot_offer_claim(offer=offer, ip=client_ip(request)).outcome
            offer = selectors.offer_for_link(offer.pk) or offer
        else:
            outcome = _state_of(offer)
        starts = offer.starts_at.astimezone(patient_zone(patient))
        context = {
            "patient": patient,
            "offer": offer,
            "outcome": outcome,
            "therapist": offer.practitioner.display_name,
            "offer_weekday": formats.date_format(starts, "l"),
            "offer_date": formats.date_format(starts, "DATE_FORMAT"),
            "offer_time": formats.time_format(starts, "H:i"),
            "offer_zone": patient.timezone,
        }
        status = 409 if outcome == services.ClaimOutcome.TAKEN and request.method == "POST" else 200
        return _private(render(request, "clinic/waitlist/claim.html", context, status=status))


def _state_of(offer) -> str | None:
    """What a GET shows: None (the offer is open: the button), or why not."""
    from clinic.models import SlotOfferStatus

    if offer.status == SlotOfferStatus.CLAIMED:
        return services.ClaimOutcome.ALREADY_YOURS
    if offer.status == SlotOfferStatus.EXPIRED or (
        offer.status == SlotOfferStatus.OPEN and offer.expires_at <= timezone.now()
    ):
        return services.ClaimOutcome.EXPIRED
    if offer.status == SlotOfferStatus.WITHDRAWN:
        return services.ClaimOutcome.TAKEN
    return None
