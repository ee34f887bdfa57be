"""Demo schedule for a first run: working hours, rooms and realistic visits.

Idempotent (a second run adds nothing) and deterministic (a fixed random seed: the same
day gives the same calendar). Visits span the past eight weeks (mostly completed, some
cancelled, some no-shows) and the coming two (booked), for existing current patients.
The usual US holidays of this year and the next are clinic closures, and no demo visit
falls on one.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    ClinicClosure,
    Practitioner,
    Room,
    WorkingHours,
)
from patients.localtime import clinic_today, clinic_zone, local_datetime

ROOMS = ["Treatment room 1", "Treatment room 2", "Gym"]
HOURS = (dt.time(8, 0), dt.time(17, 0))
SLOTS = [dt.time(h, 0) for h in (8, 9, 10, 11, 13, 14, 15, 16)]
CANCEL_REASONS = ["Patient unwell", "Work conflict", "Transport problem", "Family matter"]
PAST_DAYS, FUTURE_DAYS = 56, 14


def holidays(year: int) -> list[tuple[dt.date, str]]:
    """The days a US clinic usually closes: Thanksgiving (fourth Thursday of November),
    Christmas Eve and Day, New Year's Eve and Day."""
    first = dt.date(year, 11, 1)
    thanksgiving = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
    return [
        (dt.date(year, 1, 1), "New Year's Day"),
        (thanksgiving, "Thanksgiving"),
        (dt.date(year, 12, 24), "Christmas Eve"),
        (dt.date(year, 12, 25), "Christmas Day"),
        (dt.date(year, 12, 31), "New Year's Eve"),
    ]


def seed_closures(today: dt.date, created_by=None) -> int:
    """This year's and next year's holidays as closures; ones already there are kept."""
    added = 0
    for year in (today.year, today.year + 1):
        for day, reason in holidays(year):
            _, new = ClinicClosure.objects.get_or_create(
                starts_on=day,
                ends_on=day,
                defaults={"reason": reason, "created_by": created_by},
            )
            added += new
    return added


@transaction.atomic
def seed_schedule(staff: dict) -> dict:
    """``staff``: the demo accounts by username (see seed_demo). Returns what it created."""
    from patients.models import Patient

    practitioners = list(
        Practitioner.objects.filter(user__in=list(staff.values()), active=True).order_by("pk")
    )
    rooms = [Room.objects.get_or_create(name=name)[0] for name in ROOMS]
    created = {"hours": 0, "appointments": 0}
    created["closures"] = seed_closures(clinic_today(), staff.get("demo-manager"))
    for practitioner in practitioners:
        if not WorkingHours.objects.filter(practitioner=practitioner).exists():
            WorkingHours.objects.bulk_create(
                WorkingHours(practitioner=practitioner, weekday=d, start=HOURS[0], end=HOURS[1])
                for d in range(5)
            )
            created["hours"] += 5
    patients = list(Patient.objects.filter(archived_at__isnull=True).order_by("pk"))
    if not practitioners or not patients:
        return created
    if Appointment.objects.filter(practitioner__in=practitioners).exists():
        return created
    booker = staff.get("demo-frontdesk") or practitioners[0].user
    visits = _visits(practitioners, patients, rooms, booker)
    Appointment.objects.bulk_create(visits)
    created["appointments"] = len(visits)
    return created


def _visits(practitioners, patients, rooms, booker) -> list[Appointment]:
    rng = random.Random(2026)
    tz = clinic_zone()
    now = timezone.now()
    today = clinic_today(now)
    seen: set[int] = set()
    visits = []
    closed = set(
        ClinicClosure.objects.filter(
            ends_on__gte=today - dt.timedelta(days=PAST_DAYS),
            starts_on__lte=today + dt.timedelta(days=FUTURE_DAYS),
        ).values_list("starts_on", "ends_on")
    )
    for offset in range(-PAST_DAYS, FUTURE_DAYS + 1):
        day = today + dt.timedelta(days=offset)
        if day.weekday() >= 5 or any(first <= day <= last for first, last in closed):
            continue
        booked_today: set[int] = set()  # one visit a day per patient: no patient overlap
        for index, practitioner in enumerate(practitioners):
            room = rooms[index % 2]  # each practitioner keeps a room: no room overlap
            for slot in rng.sample(SLOTS, k=rng.randint(4, 6)):
                candidates = [p for p in patients if p.pk not in booked_today]
                if not candidates:
                    break
                patient = rng.choice(candidates)
                booked_today.add(patient.pk)
                if patient.pk not in seen:
                    kind, minutes = AppointmentKind.INITIAL_EVALUATION, 60
                    seen.add(patient.pk)
                elif rng.random() < 0.1:
                    kind, minutes = AppointmentKind.REASSESSMENT, 45
                else:
                    kind, minutes = AppointmentKind.FOLLOW_UP, rng.choice([30, 45])
                starts_at = local_datetime(day, slot, tz)
                visits.append(
                    _visit(
                        rng,
                        now=now,
                        patient=patient,
                        practitioner=practitioner,
                        room=room,
                        kind=kind,
                        starts_at=starts_at,
                        ends_at=starts_at + dt.timedelta(minutes=minutes),
                        booker=booker,
                    )
                )
    return visits


def _visit(rng, *, now, starts_at, ends_at, booker, **fields) -> Appointment:
    visit = Appointment(
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=booker,
        created_at=min(now, starts_at - dt.timedelta(days=rng.randint(2, 14))),
        **fields,
    )
    roll = rng.random()
    if roll < 0.07:
        visit.status = AppointmentStatus.CANCELLED
        visit.cancel_reason = rng.choice(CANCEL_REASONS)
        visit.cancelled_at = min(now, starts_at - dt.timedelta(hours=rng.choice([3, 12, 48, 96])))
        visit.late_cancellation = starts_at - visit.cancelled_at < dt.timedelta(hours=24)
    elif ends_at <= now:
        visit.status = AppointmentStatus.NO_SHOW if roll < 0.13 else AppointmentStatus.COMPLETED
        if visit.status == AppointmentStatus.COMPLETED:
            visit.checked_in_at = starts_at - dt.timedelta(minutes=rng.randint(2, 10))
    elif starts_at <= now:
        visit.status = AppointmentStatus.CHECKED_IN
        visit.checked_in_at = starts_at - dt.timedelta(minutes=5)
    return visit
