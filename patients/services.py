"""Writes for the patient registry and the clinical record."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import PainReport, PainSource, Patient


@transaction.atomic
def pain_report_create(
    *,
    patient: Patient,
    score: int,
    source: str,
    reported_at: dt.datetime | None = None,
) -> PainReport:
    """Record a 0-10 pain score from a visit, an assessment or an email check-in."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValidationError({"score": "Pain must be a whole number from 0 to 10."})
    if source not in PainSource.values:
        raise ValidationError({"source": f"Unknown source {source!r}."})
    return PainReport.objects.create(
        patient=patient, score=score, source=source, reported_at=reported_at or timezone.now()
    )
