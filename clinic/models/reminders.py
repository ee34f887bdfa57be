"""The reminder outbox (clinic/reminders/services.py explains the delivery guarantees)."""

from django.db import models
from django.utils import timezone

from .scheduling import Appointment


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
