"""Clinic operations: staff, scheduling, the reminder outbox and the audit log."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from patients.audit import AuditAction


class Practitioner(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="practitioner"
    )
    display_name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    # Secret in the URL of the practitioner's private iCalendar feed (no login: calendar
    # apps cannot sign in). Empty = no feed; regenerating it revokes the old address.
    feed_token = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class WorkingHours(models.Model):
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(6)],
        help_text="Monday = 0 ... Sunday = 6",
    )
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["practitioner", "weekday", "start"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="hours_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="hours_weekday_0_6"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} {self.weekday} {self.start}-{self.end}"


class TimeOff(models.Model):
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="time_off"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="timeoff_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} off {self.starts_at:%Y-%m-%d}"


class Room(models.Model):
    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            # Calendar day/week views and overlap checks per practitioner.
            models.Index(fields=["practitioner", "starts_at"], name="appt_practitioner_start_idx"),
            # Overlap checks per room.
            models.Index(fields=["room", "starts_at"], name="appt_room_start_idx"),
            # Overlap checks per patient and the patient's visit list.
            models.Index(fields=["patient", "starts_at"], name="appt_patient_start_idx"),
            # Appointment reminders: booked visits starting in the next 24 h.
            models.Index(fields=["status", "starts_at"], name="appt_status_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appt_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} with {self.practitioner} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_APPOINTMENT_STATUSES


class ReminderKind(models.TextChoices):
    EXERCISE = "exercise", "Home exercise"
    APPOINTMENT = "appointment", "Appointment"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Reminder(models.Model):
    """The outbox: one row per reminder occurrence; the database is the source of truth."""

    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="reminders"
    )
    program = models.ForeignKey(
        "treatments.HomeExerciseProgram",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reminders",
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # e.g. "exercise:<program id>:<local date>" or "appointment:<id>:<starts_at iso>":
    # one occurrence can never be inserted, and so never sent, twice.
    key = models.CharField(max_length=200, unique=True)
    # When a send task last claimed the row (pending -> sending); a "sending" row whose
    # claim is older than the task's hard time limit belongs to a worker that died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Not before: set by a retry's backoff; the send task refuses to claim earlier.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a send task for the row was last handed to the broker (or is expected to be
    # delivered, for a retry with a countdown). Null: it never reached the broker.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        indexes = [
            # Dispatch: pending rows that are due; the staff page by status.
            models.Index(fields=["status", "due_at"], name="reminder_status_due_idx"),
            # Delivery history on the patient page.
            models.Index(fields=["patient", "due_at"], name="reminder_patient_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="exercise", program__isnull=False, appointment__isnull=True)
                    | models.Q(kind="appointment", appointment__isnull=False, program__isnull=True)
                ),
                name="reminder_kind_matches_target",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="reminder_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reminder {self.key} ({self.status})"


class AuditEvent(models.Model):
    """Who did what to which patient's record, when and from where (45 CFR 164.312(b))."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The username as typed, kept for failed logins (no user) and after renames.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # What anyone allowed to read the log may see: never clinical values or free text.
    detail = models.CharField(max_length=500, blank=True)
    # Clinical values and free text (override reasons, amended fields): shown on the log
    # and in its export only to users holding CLINICAL_DETAIL_PERMISSION (clinic/audit).
    clinical_detail = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # Audit log page, newest first, optionally by date range.
            models.Index(fields=["at"], name="audit_at_idx"),
            # Filter by patient.
            models.Index(fields=["patient", "at"], name="audit_patient_at_idx"),
            # Filter by user.
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
        ]
        permissions = [("export_auditevent", "Can export the audit log")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action}"
