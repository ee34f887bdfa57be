"""Days the whole clinic is closed (public holidays, a training day): nothing is booked."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone


class ClinicClosure(models.Model):
    """The clinic is closed from ``starts_on`` to ``ends_on``, both included, as local
    dates in the clinic's time zone (patients/localtime.py)."""

    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_on", "id"]
        indexes = [
            # Closures touching a window (calendar, free slots, booking): ends_on >= the
            # window's first day, starts_on <= its last; past closures are not read.
            models.Index(fields=["ends_on", "starts_on"], name="closure_ends_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="closure_ends_on_or_after_start",
            ),
        ]

    def __str__(self) -> str:
        if self.starts_on == self.ends_on:
            return f"{closed_day_label(self.starts_on)}: {self.reason}"
        return (
            f"{closed_day_label(self.starts_on)} – {closed_day_label(self.ends_on)}: {self.reason}"
        )

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


def closed_day_label(day: dt.date) -> str:
    """ "24 Dec 2026": how messages name a closed day."""
    return f"{day.day} {day:%b %Y}"


def closed_message(day: dt.date, reason: str) -> str:
    """What a form says when a time falls on a closed day."""
    return f"The clinic is closed on {closed_day_label(day)}: {reason}."
