"""The waitlist: patients who want an earlier visit, and the freed slots offered to them
(clinic/waitlist/services.py explains the waves)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .practitioners import Practitioner
from .scheduling import AppointmentKind

WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def all_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4, 5, 6]


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    # An open offer is out for this entry: it is not offered a second slot meanwhile.
    OFFERED = "offered", "Offered a time"
    BOOKED = "booked", "Booked"
    WITHDRAWN = "withdrawn", "Withdrawn"


class WaitlistEntry(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    # Null: any practitioner.
    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=AppointmentKind.choices)
    earliest_date = models.DateField()
    latest_date = models.DateField()
    # Clinic-local weekdays the patient can come, Monday = 0 ... Sunday = 6.
    weekdays = models.JSONField(default=all_weekdays)
    # Clinic-local time window the whole visit must fit in.
    window_start = models.TimeField()
    window_end = models.TimeField()
    status = models.CharField(
        max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    booked_appointment = models.ForeignKey(
        "clinic.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "waitlist entries"
        ordering = ["created_at", "id"]
        indexes = [
            # Matching a freed slot: WHERE status = 'waiting' AND earliest_date <= day AND
            # latest_date >= day ORDER BY created_at, id (oldest first), and the staff
            # page's list of one state, oldest first, a page at a time.
            models.Index(fields=["status", "created_at", "id"], name="waitlist_status_created_idx"),
            # One patient's entries (the waitlist page's ?patient=, linked from the
            # patient page): WHERE patient_id = %s AND status IN (...) ORDER BY created_at.
            models.Index(fields=["patient", "created_at"], name="waitlist_patient_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latest_date__gte=models.F("earliest_date")),
                name="waitlist_dates_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="waitlist_window_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Waitlist {self.pk}: {self.patient} ({self.status})"

    @property
    def weekday_names(self) -> str:
        days = sorted(set(self.weekdays or []))
        if days == all_weekdays():
            return "any day"
        return ", ".join(WEEKDAY_NAMES[day] for day in days if 0 <= day <= 6)


class SlotOfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    EXPIRED = "expired", "Expired"
    # Taken by someone else, the slot was booked otherwise, or the entry was withdrawn.
    WITHDRAWN = "withdrawn", "Withdrawn"


class SlotOffer(models.Model):
    """One freed slot offered to one waitlist entry. The slot itself is
    (practitioner, starts_at, ends_at): every offer of one slot carries the same three."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=SlotOfferStatus.choices, default=SlotOfferStatus.OPEN
    )
    expires_at = models.DateTimeField()
    # Which wave of the slot's offers this one went out in (1, 2, ...).
    wave = models.PositiveSmallIntegerField(default=1)
    appointment = models.ForeignKey(
        "clinic.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep: WHERE status = 'open' AND expires_at <= now.
            models.Index(fields=["status", "expires_at"], name="slotoffer_status_expires_idx"),
            # One slot's offers (next wave, claim, withdraw the others):
            # WHERE practitioner_id = %s AND starts_at = %s [AND status = ...].
            models.Index(fields=["practitioner", "starts_at", "status"], name="slotoffer_slot_idx"),
        ]
        constraints = [
            # An entry is offered one slot once, however many waves or sweeps run.
            models.UniqueConstraint(
                fields=["entry", "practitioner", "starts_at"], name="slotoffer_once_per_entry"
            ),
            # At most one claimed offer per slot: the database's own "first wins".
            models.UniqueConstraint(
                fields=["practitioner", "starts_at"],
                condition=models.Q(status="claimed"),
                name="slotoffer_one_claim_per_slot",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="slotoffer_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk} to entry {self.entry_id} ({self.status})"
