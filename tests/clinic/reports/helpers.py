"""Hand-built data for the report tests: a fixed 12-week period in the past."""

import datetime as dt

from django.utils import timezone

from clinic.reports.selectors import Period
from patients.localtime import local_datetime
from patients.models import RecordStatus
from tests.factories import AssessmentFactory, PatientFactory, TreatmentPlanFactory

START = dt.date(2026, 1, 5)  # a Monday
END = dt.date(2026, 3, 29)  # a Sunday: 12 weeks
PERIOD = Period(START, END)
PARAMS = {"date_from": START.isoformat(), "date_to": END.isoformat()}


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return local_datetime(day, dt.time(hour))


def signed(patient, therapist, when, **values):
    return AssessmentFactory(
        patient=patient,
        therapist=therapist,
        assessed_at=when,
        status=RecordStatus.SIGNED,
        signed_at=when,
        signed_by=therapist,
        **values,
    )


def episode(
    therapist,
    *,
    start=START + dt.timedelta(days=7),
    baseline=None,
    follow_ups=(),
    patient=None,
    ended_after_days=None,
    **baseline_values,
):
    """A plan of care from a signed baseline assessment on ``start``; ``follow_ups`` are
    (days after the baseline, {field: value}) signed assessments of the same patient."""
    patient = patient or PatientFactory()
    first = signed(patient, therapist, at(start), **(baseline or {}), **baseline_values)
    ended_at = None
    if ended_after_days is not None:
        ended_at = at(start + dt.timedelta(days=ended_after_days), 18)
    plan = TreatmentPlanFactory(
        assessment=first,
        start_date=start,
        status="completed" if ended_at else "active",
        ended_at=ended_at,
    )
    for days, values in follow_ups:
        signed(patient, therapist, at(start + dt.timedelta(days=days)), **values)
    return plan


def now():
    return timezone.now()
