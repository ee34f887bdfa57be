"""Writes for the waitlist: entries, offers of freed slots in waves, claims.

How a freed slot travels (docs/design.md, "The waitlist"):

1. A live visit is cancelled or moved away (clinic/scheduling/services.py calls
   ``waitlist_slot_freed``). Once that transaction has committed, the freed slot
   (practitioner, start, end) is offered to the first wave: up to WAITLIST_WAVE_SIZE
   matching entries, oldest first. Each offer is a ``SlotOffer`` row (open for
   WAITLIST_OFFER_MINUTES) and a ``Reminder`` row of kind ``waitlist_offer`` in the
   outbox, which sends the email with its signed claim link.
2. Every minute (beat, ``waitlist_offers_sweep``) open offers past their expiry become
   "expired", their entries go back to waiting, and the slot's next wave goes out. The
   sweep also offers slots freed in the last FREED_LOOKBACK whose first wave never went
   out (the process stopped right after the commit): the database is the source of truth.
3. The first patient to claim is booked through ``appointment_book``, under the same
   practitioner lock as every booking, so no slot is ever booked twice; the other open
   offers of the slot are withdrawn. Whoever clicks later sees "this time has been
   taken" and stays on the list.

Every wave takes the practitioner's row lock first, as a booking does, so a wave, a claim
and a booking of one practitioner never interleave.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from clinic.models import (
    LIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    ClinicClosure,
    Practitioner,
    Reminder,
    ReminderKind,
    SlotOffer,
    SlotOfferStatus,
    TimeOff,
    WaitlistEntry,
    WaitlistStatus,
    WorkingHours,
    overlapping,
)

# A module import: scheduling's cancel and move call back into this module.
from clinic.reminders import kinds
from clinic.scheduling import services as scheduling
from clinic.scheduling.availability import within_working_hours
from clinic.scheduling.selectors import kind_durations, scheduling_settings
from patients.audit import AuditAction, audit_record
from patients.localtime import clinic_today, clinic_zone, local_datetime

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from patients.models import Patient

log = logging.getLogger(__name__)

# How far back the sweep looks for cancelled visits whose slot was never offered.
FREED_LOOKBACK = dt.timedelta(minutes=15)
# Entries read per query while looking for a wave's matches.
MATCH_CHUNK = 200
# A slot starting sooner than this is not offered: nobody could plan to come.
MIN_NOTICE = dt.timedelta(minutes=15)


def _may_email(patient: Patient) -> bool:
    """May this patient get a waitlist offer by email? An address, a record not archived
    and the consent of the offer's family (appointment emails; clinic/reminders/kinds.py,
    docs/decisions.md "Consent per kind"): what the send path checks again before the
    email leaves."""
    return kinds.reachable(patient, kinds.KINDS[ReminderKind.WAITLIST_OFFER].family)


def visit_minutes(kind: str) -> int:
    """The clinic's usual length for this kind of visit: what a claim books."""
    return kind_durations(scheduling_settings())[kind][0]


# Entries ------------------------------------------------------------------------


def _validate_entry(
    *,
    kind: str,
    earliest_date: dt.date,
    latest_date: dt.date,
    weekdays: list[int],
    window_start: dt.time,
    window_end: dt.time,
) -> None:
    if kind not in AppointmentKind.values:
        raise ValidationError("Choose a kind of visit.")
    if latest_date < earliest_date:
        raise ValidationError("The latest date must be on or after the earliest date.")
    if latest_date < clinic_today():
        raise ValidationError("The latest date is in the past.")
    if not weekdays or any(day not in range(7) for day in weekdays):
        raise ValidationError("Choose at least one weekday.")
    if window_end <= window_start:
        raise ValidationError("The time window must end after it starts.")


@transaction.atomic
def waitlist_entry_create(
    *,
    patient: Patient,
    practitioner: Practitioner | None,
    kind: str,
    earliest_date: dt.date,
    latest_date: dt.date,
    weekdays: list[int],
    window_start: dt.time,
    window_end: dt.time,
    acting_user: User,
    ip: str | None = None,
) -> WaitlistEntry:
    if patient.archived_at is not None:
        raise ValidationError(f"{patient.full_name}'s record is archived.")
    _validate_entry(
        kind=kind,
        earliest_date=earliest_date,
        latest_date=latest_date,
        weekdays=weekdays,
        window_start=window_start,
        window_end=window_end,
    )
    entry = WaitlistEntry.objects.create(
        patient=patient,
        practitioner=practitioner,
        kind=kind,
        earliest_date=earliest_date,
        latest_date=latest_date,
        weekdays=sorted(set(weekdays)),
        window_start=window_start,
        window_end=window_end,
        created_by=acting_user,
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient=patient,
        obj=entry,
        ip=ip,
        detail=f"added to the waitlist: {entry.get_kind_display()}, "
        f"{earliest_date:%Y-%m-%d} to {latest_date:%Y-%m-%d}",
    )
    return entry


def _withdraw_open_offers(offers: QuerySet[SlotOffer]) -> int:
    """Withdraw these open offers; entries left with no open offer go back to waiting."""
    ids = list(offers.filter(status=SlotOfferStatus.OPEN).values_list("id", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    entry_ids = list(SlotOffer.objects.filter(id__in=ids).values_list("entry_id", flat=True))
    SlotOffer.objects.filter(id__in=ids, status=SlotOfferStatus.OPEN).update(
        status=SlotOfferStatus.WITHDRAWN, updated_at=now
    )
    _back_to_waiting(entry_ids, now=now)
    return len(ids)


def _back_to_waiting(entry_ids: list[int], *, now: dt.datetime) -> None:
    """Offered entries with no open offer left wait again (they stay on the list)."""
    still_open = SlotOffer.objects.filter(entry_id=OuterRef("pk"), status=SlotOfferStatus.OPEN)
    WaitlistEntry.objects.filter(id__in=entry_ids, status=WaitlistStatus.OFFERED).exclude(
        Exists(still_open)
    ).update(status=WaitlistStatus.WAITING, updated_at=now)


@transaction.atomic
def waitlist_entry_withdraw(
    *, entry: WaitlistEntry, acting_user: User, ip: str | None = None
) -> bool:
    """Take the entry off the list (its open offers are withdrawn). False if it was
    already booked or withdrawn."""
    changed = WaitlistEntry.objects.filter(
        id=entry.id, status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]
    ).update(status=WaitlistStatus.WITHDRAWN, updated_at=timezone.now())
    if not changed:
        return False
    SlotOffer.objects.filter(entry_id=entry.id, status=SlotOfferStatus.OPEN).update(
        status=SlotOfferStatus.WITHDRAWN, updated_at=timezone.now()
    )
    entry.status = WaitlistStatus.WITHDRAWN
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=entry.patient,
        obj=entry,
        ip=ip,
        detail="waitlist entry withdrawn",
    )
    return True


@transaction.atomic
def waitlist_entry_book(
    *,
    entry: WaitlistEntry,
    practitioner: Practitioner,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    allow_outside_hours: bool = False,
    acting_user: User,
    ip: str | None = None,
) -> Appointment:
    """Front desk books an entry by hand, through the booking service; the entry is
    booked and its open offers withdrawn. SchedulingError if the time is not free."""
    current = WaitlistEntry.objects.select_for_update().select_related("patient").get(pk=entry.pk)
    if current.status not in (WaitlistStatus.WAITING, WaitlistStatus.OFFERED):
        raise scheduling.SchedulingError(
            f"This waitlist entry is {current.get_status_display().lower()}: nothing to book."
        )
    appointment = scheduling.appointment_book(
        patient=current.patient,
        practitioner=practitioner,
        kind=current.kind,
        starts_at=starts_at,
        ends_at=ends_at,
        allow_outside_hours=allow_outside_hours,
        acting_user=acting_user,
        ip=ip,
    )
    _withdraw_open_offers(SlotOffer.objects.filter(entry_id=current.pk))
    WaitlistEntry.objects.filter(pk=current.pk).update(
        status=WaitlistStatus.BOOKED, booked_appointment=appointment, updated_at=timezone.now()
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=current.patient,
        obj=current,
        ip=ip,
        detail=f"waitlist entry booked by hand (appointment {appointment.pk})",
    )
    return appointment


# Freed slots and waves ------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    practitioner_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def waitlist_slot_freed(*, appointment: Appointment) -> None:
    """A live visit was cancelled or moved away: once the caller's transaction commits,
    offer its slot to the waitlist. Never lets a waitlist problem undo the cancellation:
    the sweep offers any freed slot whose first wave did not go out."""
    slot = Slot(appointment.practitioner_id, appointment.starts_at, appointment.ends_at)

    def offer() -> None:
        try:
            waitlist_offer_wave(slot=slot)
        except Exception:  # noqa: BLE001 - the sweep tries again
            log.exception("Waitlist offers for a freed slot failed; the sweep will retry")

    transaction.on_commit(offer)


def _slot_is_free(slot: Slot) -> bool:
    """The clinic is open that day, no live visit and no time off overlaps the slot, and
    it lies in working hours. A visit cancelled off a closed day (a closure's worklist)
    frees nothing to offer."""
    tz = clinic_zone()
    day = slot.starts_at.astimezone(tz).date()
    if ClinicClosure.objects.filter(starts_on__lte=day, ends_on__gte=day).exists():
        return False
    busy = Appointment.objects.filter(
        overlapping(slot.starts_at, slot.ends_at),
        practitioner_id=slot.practitioner_id,
        status__in=LIVE_APPOINTMENT_STATUSES,
    ).exists()
    if busy:
        return False
    away = TimeOff.objects.filter(
        practitioner_id=slot.practitioner_id,
        starts_at__lt=slot.ends_at,
        ends_at__gt=slot.starts_at,
    ).exists()
    if away:
        return False
    weekday = slot.starts_at.astimezone(tz).weekday()
    blocks = list(
        WorkingHours.objects.filter(
            practitioner_id=slot.practitioner_id, weekday=weekday
        ).values_list("start", "end")
    )
    return within_working_hours({weekday: blocks}, slot.starts_at, slot.ends_at, tz)


def entry_matches(
    entry: WaitlistEntry,
    slot: Slot,
    *,
    minutes: dict[str, int],
    tz: dt.tzinfo,
) -> bool:
    """Does the slot suit the entry? The rules a database filter cannot say well: the
    weekday, the visit (at the usual length of the entry's kind) fitting in both the slot
    and the patient's time window, and the patient being reachable by email."""
    if entry.practitioner_id is not None and entry.practitioner_id != slot.practitioner_id:
        return False
    length = dt.timedelta(minutes=minutes[entry.kind])
    if slot.starts_at + length > slot.ends_at:
        return False
    start = slot.starts_at.astimezone(tz)
    end = (slot.starts_at + length).astimezone(tz)
    day = start.date()
    if not (entry.earliest_date <= day <= entry.latest_date):
        return False
    if day.weekday() not in (entry.weekdays or []):
        return False
    if end.date() != day:
        return False
    if start.time() < entry.window_start or end.time() > entry.window_end:
        return False
    return _may_email(entry.patient)


def matching_entries(slot: Slot, *, limit: int) -> list[WaitlistEntry]:
    """Up to ``limit`` waiting entries the slot suits, oldest first, one per patient:
    not already offered this slot, and whose patient has no live visit that day.

    The database narrows by state, practitioner and date range (index
    waitlist_status_created_idx, read in created_at order, MATCH_CHUNK at a time);
    ``entry_matches`` decides the rest."""
    tz = clinic_zone()
    day = slot.starts_at.astimezone(tz).date()
    day_start = local_datetime(day, dt.time(0, 0), tz)
    day_end = local_datetime(day + dt.timedelta(days=1), dt.time(0, 0), tz)
    rules = scheduling_settings()
    minutes = {kind: lengths[0] for kind, lengths in kind_durations(rules).items()}
    offered = SlotOffer.objects.filter(
        entry_id=OuterRef("pk"),
        practitioner_id=slot.practitioner_id,
        starts_at=slot.starts_at,
    )
    busy_that_day = Appointment.objects.filter(
        patient_id=OuterRef("patient_id"),
        status__in=LIVE_APPOINTMENT_STATUSES,
        starts_at__gte=day_start,
        starts_at__lt=day_end,
    )
    candidates = (
        WaitlistEntry.objects.filter(
            Q(practitioner__isnull=True) | Q(practitioner_id=slot.practitioner_id),
            status=WaitlistStatus.WAITING,
            earliest_date__lte=day,
            latest_date__gte=day,
        )
        .exclude(Exists(offered))
        .exclude(Exists(busy_that_day))
        .select_related("patient")
        .order_by("created_at", "id")
    )
    found: list[WaitlistEntry] = []
    patients: set[int] = set()
    last: tuple[dt.datetime, int] | None = None
    while len(found) < limit:
        page = candidates
        if last is not None:
            page = page.filter(Q(created_at__gt=last[0]) | Q(created_at=last[0], id__gt=last[1]))
        chunk = list(page[:MATCH_CHUNK])
        for entry in chunk:
            if entry.patient_id in patients:
                continue
            if entry_matches(entry, slot, minutes=minutes, tz=tz):
                found.append(entry)
                patients.add(entry.patient_id)
                if len(found) == limit:
                    break
        if len(chunk) < MATCH_CHUNK:
            break
        last = (chunk[-1].created_at, chunk[-1].id)
    return found


def offer_key(offer_id: int) -> str:
    return f"waitlist_offer:{offer_id}"


@transaction.atomic
def waitlist_offer_wave(*, slot: Slot, now: dt.datetime | None = None) -> list[SlotOffer]:
    """Send the slot's next wave, if it is due: the slot is free and in the future, no
    offer of it is open or claimed, and entries match. Returns the offers created.

    Safe to run twice or concurrently: the practitioner's row lock serialises waves
    (and bookings), and an entry is offered one slot once (slotoffer_once_per_entry)."""
    now = now or timezone.now()
    if slot.starts_at - now < MIN_NOTICE:
        return []
    practitioner = Practitioner.objects.select_for_update().filter(pk=slot.practitioner_id).first()
    if practitioner is None or not practitioner.active:
        return []
    offers = SlotOffer.objects.filter(
        practitioner_id=slot.practitioner_id, starts_at=slot.starts_at
    )
    _expire(offers.filter(status=SlotOfferStatus.OPEN, expires_at__lte=now), now=now)
    states = list(offers.values_list("status", "wave"))
    if any(status in (SlotOfferStatus.OPEN, SlotOfferStatus.CLAIMED) for status, _ in states):
        return []
    if not _slot_is_free(slot):
        return []
    entries = matching_entries(slot, limit=settings.WAITLIST_WAVE_SIZE)
    if not entries:
        return []
    wave = max((number for _, number in states), default=0) + 1
    expires_at = min(now + dt.timedelta(minutes=settings.WAITLIST_OFFER_MINUTES), slot.starts_at)
    created = SlotOffer.objects.bulk_create(
        [
            SlotOffer(
                entry=entry,
                practitioner_id=slot.practitioner_id,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                expires_at=expires_at,
                wave=wave,
                created_at=now,
            )
            for entry in entries
        ]
    )
    WaitlistEntry.objects.filter(
        id__in=[entry.id for entry in entries], status=WaitlistStatus.WAITING
    ).update(status=WaitlistStatus.OFFERED, updated_at=now)
    for offer, entry in zip(created, entries, strict=True):
        offer.entry = entry
    Reminder.objects.bulk_create(
        [
            Reminder(
                kind=ReminderKind.WAITLIST_OFFER,
                patient_id=offer.entry.patient_id,
                offer_id=offer.id,
                due_at=now,
                key=offer_key(offer.id),
                enqueued_at=now,
                created_at=now,
            )
            for offer in created
        ]
    )
    keys = [offer_key(offer.id) for offer in created]
    ids = list(Reminder.objects.filter(key__in=keys).values_list("id", flat=True))
    transaction.on_commit(lambda: _enqueue(ids))
    log.info("Waitlist: wave %s of slot %s offered to %d entries", wave, slot, len(created))
    return created


def _enqueue(ids: list[int]) -> None:
    # Late import: the reminder services import this module's helpers for the send path.
    from clinic.reminders.services import reminders_enqueue

    reminders_enqueue(ids=ids)


def _expire(offers: QuerySet[SlotOffer], *, now: dt.datetime) -> list[int]:
    """Open offers past their expiry become expired; their entries wait again."""
    rows = list(offers.values_list("id", "entry_id"))
    if not rows:
        return []
    ids = [offer_id for offer_id, _ in rows]
    SlotOffer.objects.filter(id__in=ids, status=SlotOfferStatus.OPEN).update(
        status=SlotOfferStatus.EXPIRED, updated_at=now
    )
    _back_to_waiting([entry_id for _, entry_id in rows], now=now)
    return ids


@dataclass
class SweepResult:
    expired: int = 0
    waves: int = 0
    offers: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"expired": self.expired, "waves": self.waves, "offers": self.offers}


def waitlist_offers_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Every minute (beat): expire unclaimed offers and send each such slot's next wave;
    offer recently freed slots that never had a first wave. Safe to run concurrently."""
    now = now or timezone.now()
    result = SweepResult()
    due = SlotOffer.objects.filter(status=SlotOfferStatus.OPEN, expires_at__lte=now)
    slots = {
        Slot(p, s, e) for p, s, e in due.values_list("practitioner_id", "starts_at", "ends_at")
    }
    with transaction.atomic():
        result.expired = len(_expire(due, now=now))
    ever_offered = SlotOffer.objects.filter(
        practitioner_id=OuterRef("practitioner_id"), starts_at=OuterRef("starts_at")
    )
    # Index appt_status_start_idx: cancelled visits still ahead.
    freed = (
        Appointment.objects.filter(
            status=AppointmentStatus.CANCELLED,
            starts_at__gt=now,
            cancelled_at__gte=now - FREED_LOOKBACK,
        )
        .exclude(Exists(ever_offered))
        .values_list("practitioner_id", "starts_at", "ends_at")
    )
    slots |= {Slot(p, s, e) for p, s, e in freed}
    for slot in sorted(slots, key=lambda s: (s.starts_at, s.practitioner_id)):
        try:
            created = waitlist_offer_wave(slot=slot, now=now)
        except Exception:  # noqa: BLE001 - one slot must not stop the others
            log.exception("Waitlist wave for %s failed", slot)
            continue
        if created:
            result.waves += 1
            result.offers += len(created)
    if result.expired or result.waves:
        log.info("Waitlist sweep: %s", result.as_dict())
    return result


# Claims -------------------------------------------------------------------------


class ClaimOutcome:
    BOOKED = "booked"  # this claim booked the slot
    ALREADY_YOURS = "already_yours"  # this offer was claimed before (a second click)
    TAKEN = "taken"  # someone else has the slot, or it is no longer free
    EXPIRED = "expired"  # the offer's time ran out


@dataclass(frozen=True)
class ClaimResult:
    outcome: str
    appointment: Appointment | None = None


@transaction.atomic
def slot_offer_claim(
    *, offer: SlotOffer, ip: str | None = None, now: dt.datetime | None = None
) -> ClaimResult:
    """The patient's "Book this time": the first claim of a slot books it, through
    ``appointment_book`` and its practitioner lock; any later one is refused.

    Order of locks: the practitioner (as every booking), then the offer. Two claims of
    one slot wait on the practitioner's row; the second then finds the slot booked."""
    now = now or timezone.now()
    Practitioner.objects.select_for_update().get(pk=offer.practitioner_id)
    current = (
        SlotOffer.objects.select_for_update(of=("self",))
        .select_related("entry", "entry__patient", "entry__created_by", "practitioner")
        .get(pk=offer.pk)
    )
    if current.status == SlotOfferStatus.CLAIMED:
        return ClaimResult(ClaimOutcome.ALREADY_YOURS, current.appointment)
    if current.status != SlotOfferStatus.OPEN:
        return ClaimResult(
            ClaimOutcome.EXPIRED
            if current.status == SlotOfferStatus.EXPIRED
            else ClaimOutcome.TAKEN
        )
    if current.expires_at <= now:
        _expire(SlotOffer.objects.filter(pk=current.pk), now=now)
        return ClaimResult(ClaimOutcome.EXPIRED)
    entry = current.entry
    slot_offers = SlotOffer.objects.filter(
        practitioner_id=current.practitioner_id, starts_at=current.starts_at
    )
    try:
        appointment = scheduling.appointment_book(
            patient=entry.patient,
            practitioner=current.practitioner,
            kind=entry.kind,
            starts_at=current.starts_at,
            ends_at=current.starts_at + dt.timedelta(minutes=visit_minutes(entry.kind)),
            # Staff put the patient on the list; the patient's own click books.
            acting_user=entry.created_by,
            ip=ip,
            audit=False,
        )
    except scheduling.SchedulingError as error:
        # Someone else has the time (a desk booking, a move), or the patient has another
        # visit: this offer closes, the patient stays on the list.
        log.info("Waitlist claim of offer %s refused: %s", current.pk, error.message)
        slot = Slot(current.practitioner_id, current.starts_at, current.ends_at)
        _withdraw_open_offers(
            slot_offers if not _slot_is_free(slot) else SlotOffer.objects.filter(pk=current.pk)
        )
        return ClaimResult(ClaimOutcome.TAKEN)
    SlotOffer.objects.filter(pk=current.pk).update(
        status=SlotOfferStatus.CLAIMED, appointment=appointment, updated_at=now
    )
    _withdraw_open_offers(slot_offers.exclude(pk=current.pk))
    # The entry is done: any other offer it holds closes too.
    _withdraw_open_offers(SlotOffer.objects.filter(entry_id=entry.pk).exclude(pk=current.pk))
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        status=WaitlistStatus.BOOKED, booked_appointment=appointment, updated_at=now
    )
    audit_record(
        acting_user=None,
        action=AuditAction.CREATE,
        patient=entry.patient,
        obj=appointment,
        ip=ip,
        detail=f"appointment booked by the patient from waitlist offer {current.pk} "
        f"(email link): {appointment.get_kind_display()} with "
        f"{current.practitioner.display_name} on "
        f"{appointment.starts_at.astimezone(clinic_zone()):%Y-%m-%d %H:%M}",
    )
    return ClaimResult(ClaimOutcome.BOOKED, appointment)
