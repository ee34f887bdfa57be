"""Acknowledgements of the "Needs attention" list (clinic/attention/)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AttentionReason(models.TextChoices):
    PAIN_HIGH = "pain_high", "High pain reported"
    PAIN_RISE = "pain_rise", "Pain rising"
    LEFS_FALL = "lefs_fall", "LEFS falling"
    NO_EXERCISE = "no_exercise", "No home exercise done"
    MISSED_VISITS = "missed_visits", "Missed visits in a row"
    NO_NEXT_VISIT = "no_next_visit", "No next visit booked"


class AttentionAcknowledgement(models.Model):
    """A therapist saw one reason a patient is on the list, and noted what they did.

    ``trigger_key`` names the data that raised the reason when it was acknowledged (the
    pain report, the assessment, the missed visit...): the reason stays hidden while the
    same data raises it, and comes back when newer data does (clinic/attention/selectors.py).
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="attention_acknowledgements"
    )
    reason = models.CharField(max_length=24, choices=AttentionReason.choices)
    trigger_key = models.CharField(max_length=100)
    # What the list said when it was acknowledged, in words, kept as it was.
    summary = models.CharField(max_length=500)
    note = models.TextField(max_length=500)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Needs-attention list: the latest acknowledgement of each patient and reason.
            models.Index(
                fields=["patient", "reason", "created_at"], name="attention_ack_patient_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} for patient {self.patient_id} acknowledged"
