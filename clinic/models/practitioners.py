"""Practitioners and when they work: the people appointments are booked with."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


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
        # The caseload reports (clinic/reports/) are about practitioners' work: counts and
        # rates for the clinic manager, and the therapist's own patients on drill-down.
        permissions = [("view_caseload_reports", "Can view caseload reports")]

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
        indexes = [
            # Time off touching a window (calendar, free slots, booking): practitioner and
            # ends_at > window start; past time off, which ends before it, is not read.
            # Time off has no longest length, so starts_at cannot bound these queries.
            models.Index(fields=["practitioner", "ends_at"], name="timeoff_practitioner_end_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="timeoff_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} off {self.starts_at:%Y-%m-%d}"
