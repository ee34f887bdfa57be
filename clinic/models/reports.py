"""The caseload reports' daily rollup of visits (clinic/reports/rollup.py keeps it).

A day the clinic has finished (before today) is counted once per practitioner and kept;
the reports add today and later live. docs/decisions.md, caseload reports.
"""

import datetime as dt

from django.conf import settings
from django.db import models

from .practitioners import Practitioner


class ReportDay(models.Model):
    """One practitioner's visits on one finished local day, as the attendance and
    utilisation reports count them (clinic/reports/selectors.py)."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    # Attendance: visits due (timely cancellations left out), no-shows, late cancellations.
    due = models.PositiveIntegerField(default=0)
    no_shows = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    # Utilisation: the length of the visits that held the practitioner's time.
    booked = models.DurationField(default=dt.timedelta)

    class Meta:
        ordering = ["day", "practitioner"]
        indexes = [models.Index(fields=["day", "practitioner"], name="reportday_day_idx")]

    def __str__(self) -> str:
        return f"{self.practitioner_id} on {self.day}"


class ReportCompletionDay(models.Model):
    """One therapist's home programs on one finished day, as the adherence report counts
    them (clinic/reports/selectors.py): programs running that day, and those of them
    with a completion."""

    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    done = models.PositiveIntegerField(default=0)
    # Programs of theirs running that day (its start date to its end date).
    prescribed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "therapist"]
        indexes = [models.Index(fields=["day", "therapist"], name="reportcompletionday_day_idx")]

    def __str__(self) -> str:
        return f"{self.therapist_id} on {self.day}"


class ReportEpisode(models.Model):
    """One episode (a plan of care written from a signed assessment) with its outcome for
    each measure, as the outcomes report counts it (clinic/reports/selectors.py,
    ``outcome_expressions``): worked out once and read after that, again only when the
    plan or an assessment of its patient is saved (clinic/reports/rollup.py)."""

    plan = models.OneToOneField(
        "treatments.TreatmentPlan", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    start_date = models.DateField()
    # The first suspected cause on the baseline assessment and its region. NULL without a
    # cause, as the JSON lookup on the assessment gives it.
    cause = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    region = models.CharField(max_length=16)
    baseline_at = models.DateTimeField()
    # Per measure: the baseline (None if the assessment has none), the last follow-up
    # minus the baseline (None without both), when a follow-up first reached the MCID.
    lefs_baseline = models.SmallIntegerField(null=True, blank=True)
    lefs_change = models.SmallIntegerField(null=True, blank=True)
    lefs_mcid_at = models.DateTimeField(null=True, blank=True)
    nprs_baseline = models.SmallIntegerField(null=True, blank=True)
    nprs_change = models.SmallIntegerField(null=True, blank=True)
    nprs_mcid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start_date", "plan"]
        indexes = [
            # The outcomes report's columns are in the index: PostgreSQL may read a
            # period's episodes from it alone (SQLite ignores ``include``).
            models.Index(
                fields=["start_date", "therapist"],
                include=[
                    "cause",
                    "region",
                    "baseline_at",
                    "lefs_change",
                    "lefs_mcid_at",
                    "nprs_change",
                    "nprs_mcid_at",
                ],
                name="reportepisode_start_idx",
            ),
            models.Index(fields=["therapist", "start_date"], name="reportepisode_therapist_idx"),
        ]

    def __str__(self) -> str:
        return f"plan {self.plan_id} from {self.start_date}"


class ReportRollup(models.Model):
    """What a rollup holds (row 1: ReportDay, row 2: ReportCompletionDay, row 3:
    ReportEpisode; see clinic/reports/rollup.py): every day from ``days_from`` to before
    ``days_until`` (the days rollups), with every change saved before ``seen_at``."""

    days_from = models.DateField(null=True, blank=True)
    days_until = models.DateField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    # The changes the last refresh took in ("v12@<updated_at>": the row and its stamp):
    # the next reads look changes up from a margin before ``seen_at`` and skip these.
    handled = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"visits rolled up {self.days_from} to {self.days_until}, as of {self.seen_at}"
