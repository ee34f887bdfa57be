"""Writes for plans of care, visit notes and home-exercise programs."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import CompletionSource, ExerciseCompletion, HomeExerciseProgram


def exercise_completion_record(
    *, program: HomeExerciseProgram, on_date: dt.date, source: str
) -> tuple[ExerciseCompletion, bool]:
    """Mark the program's exercises done on ``on_date``; at most one row per program and day.

    Returns (completion, created). Clicking "done" twice, or two requests at once, leave
    one row: the unique constraint decides, and the loser reads the winner's row.
    """
    if source not in CompletionSource.values:
        raise ValidationError({"source": f"Unknown source {source!r}."})
    if on_date < program.start_date or (program.end_date and on_date > program.end_date):
        raise ValidationError("That day is outside the program's dates.")
    try:
        with transaction.atomic():
            completion = ExerciseCompletion.objects.create(
                program=program, date=on_date, source=source
            )
        return completion, True
    except IntegrityError:
        return ExerciseCompletion.objects.get(program=program, date=on_date), False
