"""The reminder outbox (clinic/reminders/services.py explains the delivery guarantees)."""

from django.db import models
from django.utils import timezone

from .scheduling import Appointment


class ReminderKind(models.TextChoices):
    EXERCISE = "exercise", "Home exercise"
    APPOINTMENT = "appointment", "Appointment"
    CONFIRMATION = "confirmation", "Booking confirmation"
    CHANGE = "change", "Appointment moved"
    CANCELLATION = "cancellation", "Appointment cancelled"
    # Several visits of a recurring series in one email (booked together, or cancelled
    # together): the row's appointment is the first of them (clinic/reminders/kinds.py).
    SERIES_BOOKED = "series_booked", "Recurring visits booked"
    SERIES_CANCELLED = "series_cancelled", "Recurring visits cancelled"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
    # A patient-reported questionnaire (patients.QuestionnaireResponse) to answer by link.
    QUESTIONNAIRE = "questionnaire", "Questionnaire"


# The kinds that are about appointments (the row's ``appointment`` is set: the visit, or
# the first visit of a series' email), all under Patient.appointment_emails_opt_in;
# exercise reminders are under reminders_opt_in.
APPOINTMENT_EMAIL_KINDS = [
    ReminderKind.APPOINTMENT,
    ReminderKind.CONFIRMATION,
    ReminderKind.CHANGE,
    ReminderKind.CANCELLATION,
    ReminderKind.SERIES_BOOKED,
    ReminderKind.SERIES_CANCELLED,
]


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    # No longer useful (an exercise reminder past its grace, a visit already started)
    # before the mail server took it: not the patient's failure, and nothing to retry.
    EXPIRED = "expired", "Expired"
    # The worker stopped while handing the email to the mail server: it may well have
    # arrived. Never re-sent automatically (at most once; clinic/reminders/services.py).
    UNCONFIRMED = "unconfirmed", "Not confirmed"


class ReminderReason(models.TextChoices):
    """Why a row is in its state, for the staff page's counts and "retry all for this
    reason". Blank: nothing to explain (pending for the first time, sending, sent)."""

    NONE = "", "—"
    # pending (waiting to be retried) or, for rows from before reasons, failed:
    MAIL_SERVER = "mail_server", "Mail server unavailable"
    # failed: the mail server refused for good (5xx)
    ADDRESS_REFUSED = "address_refused", "Address refused"
    MESSAGE_REFUSED = "message_refused", "Message refused"
    MESSAGE_ERROR = "message_error", "Email could not be prepared"
    # unconfirmed
    WORKER_STOPPED = "worker_stopped", "Sending interrupted"
    # expired
    TOO_LATE = "too_late", "Past the day's reminder time"
    APPOINTMENT_STARTED = "appointment_started", "Appointment already started"
    # skipped
    OPTED_OUT = "opted_out", "Patient turned reminders off"
    ARCHIVED = "archived", "Patient archived"
    NO_EMAIL = "no_email", "No email address"
    PROGRAM_INACTIVE = "program_inactive", "Program ended or reminders off"
    APPOINTMENT_CHANGED = "appointment_changed", "Appointment cancelled or moved"
    OFFER_CLOSED = "offer_closed", "Waitlist offer taken, withdrawn or expired"
    QUESTIONNAIRE_CLOSED = "questionnaire_closed", "Questionnaire answered or expired"


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
    offer = models.ForeignKey(
        "clinic.SlotOffer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reminders",
    )
    questionnaire = models.ForeignKey(
        "patients.QuestionnaireResponse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reminders",
    )
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    reason = models.CharField(
        max_length=32, choices=ReminderReason.choices, blank=True, default=ReminderReason.NONE
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # e.g. "exercise:<program id>:<local date>", "appointment:<id>:<starts_at iso>",
    # "confirmation:<appointment id>", "change:<appointment id>:<ics sequence>",
    # "cancellation:<appointment id>", "series_booked:<series id>",
    # "series_cancelled:<series id>:<when>" (clinic/reminders/outbox.py):
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
            # The staff page's list of one state, newest first, a page at a time:
            # WHERE status = %s [AND (updated_at, id) < cursor] ORDER BY updated_at DESC,
            # id DESC LIMIT 51 (selectors.reminder_page), and the bounded count of a state.
            models.Index(fields=["status", "updated_at", "id"], name="reminder_status_upd_idx"),
            # The same for one state and reason (WHERE status = %s AND reason = %s ...),
            # the bounded counts by state and reason (selectors.reminder_counts) and
            # "retry all failed for this reason" (services.reminders_retry_failed).
            models.Index(
                fields=["status", "reason", "updated_at", "id"], name="reminder_status_reason_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="exercise", program__isnull=False, appointment__isnull=True)
                    | models.Q(
                        kind__in=[
                            "appointment",
                            "confirmation",
                            "change",
                            "cancellation",
                            "series_booked",
                            "series_cancelled",
                        ],
                        appointment__isnull=False,
                        program__isnull=True,
                    )
                    | models.Q(
                        kind="waitlist_offer",
                        offer__isnull=False,
                        appointment__isnull=True,
                        program__isnull=True,
                    )
                    | models.Q(
                        kind="questionnaire",
                        questionnaire__isnull=False,
                        program__isnull=True,
                        appointment__isnull=True,
                    )
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
