"""Scheduling: rooms, the booking rules, recurring series and appointments."""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from .practitioners import Practitioner

ROOM_CAPACITY_MAX = 50


class Room(models.Model):
    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True)
    # How many visits the room holds at once (a treatment room 1, a gym several). Rooms
    # of capacity 1 are held exclusive by PostgreSQL itself (Appointment.room_exclusive);
    # larger ones by the booking service under a lock on this row
    # (docs/decisions.md, "Rooms with capacity").
    capacity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(ROOM_CAPACITY_MAX)],
        help_text="How many visits the room holds at the same time.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="room_capacity_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SchedulingSettings(models.Model):
    """The clinic's booking rules, one row (pk=1), edited by the clinic manager."""

    initial_evaluation_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    follow_up_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    follow_up_long_minutes = models.PositiveSmallIntegerField(
        default=45, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    reassessment_minutes = models.PositiveSmallIntegerField(
        default=45, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    discharge_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    late_cancellation_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(0), MaxValueValidator(168)]
    )
    # Free-slot search and the calendar grid move in steps of this many minutes.
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(5), MaxValueValidator(60)]
    )

    class Meta:
        verbose_name_plural = "scheduling settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="scheduling_settings_single_row"),
        ]

    def __str__(self) -> str:
        return "Scheduling settings"


class AppointmentKind(models.TextChoices):
    INITIAL_EVALUATION = "initial_evaluation", "Initial evaluation"
    FOLLOW_UP = "follow_up", "Follow-up"
    REASSESSMENT = "reassessment", "Re-assessment"
    DISCHARGE = "discharge", "Discharge"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Appointments in these states hold their slot; cancelled and no-show ones free it.
LIVE_APPOINTMENT_STATUSES = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.COMPLETED,
]


# The longest visit the clinic books: the booking service refuses longer ones and, on
# PostgreSQL, a check constraint (appt_at_most_four_hours, migration 0011) holds it in the
# database. Window queries rely on it
# for a lower bound on starts_at (``overlapping``).
MAX_APPOINTMENT_DURATION = dt.timedelta(hours=4)


def overlapping(start: dt.datetime, end: dt.datetime) -> models.Q:
    """Appointments overlapping [start, end).

    ``starts_at < end AND ends_at > start`` alone leaves starts_at unbounded below, so an
    index on (practitioner | room | patient | status, starts_at) would be read from the
    first visit ever booked. A visit lasts at most MAX_APPOINTMENT_DURATION, so one that
    ends after ``start`` starts after ``start - MAX_APPOINTMENT_DURATION``: that bound
    makes each of those indexes read only the window.
    """
    return models.Q(
        starts_at__lt=end,
        starts_at__gt=start - MAX_APPOINTMENT_DURATION,
        ends_at__gt=start,
    )


class AppointmentSeries(models.Model):
    """Recurring visits booked together (for example twice a week for six weeks)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointment_series"
    )
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    treatment_plan = models.ForeignKey(
        "treatments.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "appointment series"

    def __str__(self) -> str:
        return self.description or f"Series {self.pk}"


class Appointment(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    kind = models.CharField(max_length=24, choices=AppointmentKind.choices)
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    series = models.ForeignKey(
        AppointmentSeries,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
    )
    # Set on the new appointment when a visit is moved; the old one is cancelled.
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rescheduled_to"
    )
    cancel_reason = models.CharField(max_length=500, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    late_cancellation = models.BooleanField(default=False)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    # Whether the visit holds its room alone: True when the room held one visit at a time
    # (capacity 1) when the visit was booked or the room's capacity last changed. The
    # PostgreSQL exclusion constraint appt_no_overlap_room applies only to these rows; a
    # shared room's visits (False) are counted by the booking service under the room's
    # row lock instead. Set by the scheduling services, never by hand.
    room_exclusive = models.BooleanField(default=True)
    # The patient confirmed from the reminder's link (clinic/reminders/views.py).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The patient's calendar entry (RFC 5546): one UID for the visit however often it
    # moves (a move books a new row that inherits it), and a SEQUENCE that rises with
    # each change or cancellation, so the calendar replaces its copy. Blank on rows from
    # before: ``calendar_uid`` falls back to the row's id.
    ics_uid = models.CharField(max_length=120, blank=True)
    ics_sequence = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            # Calendar week views and overlap checks per practitioner. It carries what
            # the availability read (clinic/scheduling/selectors.py,
            # _live_appointments_sql) and the week's grid (_calendar_appointments) read
            # of a visit, so a preview's weeks and a week of one practitioner's visits
            # come from the index alone, not from the start index's whole clinic. The
            # therapist's Today reads their day from it too (therapist_day).
            models.Index(
                fields=["practitioner", "starts_at"],
                include=["ends_at", "status", "patient", "room", "id", "kind", "confirmed_at"],
                name="appt_practitioner_start_idx",
            ),
            # Overlap checks per room.
            models.Index(fields=["room", "starts_at"], name="appt_room_start_idx"),
            # Overlap checks per patient and the patient's visit list. Needs attention's
            # next, latest and latest missed visits (clinic/attention/selectors.py,
            # _rules_sql) and availability's patient part (_live_appointments_sql) come
            # from the index alone, in its order (start, then id).
            models.Index(
                fields=["patient", "starts_at", "id"],
                include=["status", "late_cancellation", "ends_at", "practitioner", "room"],
                name="appt_patient_start_idx",
            ),
            # Appointment reminders: booked visits starting in the next 24 h.
            models.Index(fields=["status", "starts_at"], name="appt_status_start_idx"),
            # Caseload reports (clinic/reports/selectors.py, attendance and utilisation):
            # every visit starting in the report's weeks, grouped by practitioner and week.
            # The included columns make it an index-only scan of the period's visits, not
            # a scan of the whole table's history (PostgreSQL; elsewhere a plain index).
            # Availability (scheduling/selectors.py ``_add_appointments``: the live visits
            # of a practitioner, patient or room overlapping a window) reads it too:
            # PostgreSQL prefers it to the per-practitioner and per-patient indexes and
            # filters every visit of the window, and with patient and room included it
            # does so in the index instead of fetching each row (a recurring preview's
            # seven weeks: ~4,700 rows, 1.9 ms -> 0.8 ms at 20,000 patients).
            models.Index(
                fields=["starts_at"],
                include=[
                    "practitioner",
                    "status",
                    "late_cancellation",
                    "ends_at",
                    "patient",
                    "room",
                ],
                name="appt_start_report_idx",
            ),
            # Caseload reports' rollup (clinic/reports/rollup.py): visits changed since
            # the last refresh, to count their days again.
            models.Index(fields=["updated_at"], name="appt_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appt_ends_after_start"
            ),
        ]
        # On PostgreSQL, appt_at_most_four_hours (migration 0011) checks
        # ends_at <= starts_at + MAX_APPOINTMENT_DURATION, what ``overlapping`` relies on.

    def __str__(self) -> str:
        return f"{self.patient} with {self.practitioner} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def calendar_uid(self) -> str:
        return self.ics_uid or f"appointment-{self.pk}@{settings.CLINIC_NAME.replace(' ', '-')}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_APPOINTMENT_STATUSES
