import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from tests.factories import HomeExerciseProgramFactory
from treatments.models import CompletionSource, ExerciseCompletion
from treatments.services import exercise_completion_record

pytestmark = pytest.mark.django_db


def test_marking_a_day_done_twice_keeps_one_row():
    program = HomeExerciseProgramFactory(start_date=dt.date(2026, 11, 1))
    day = dt.date(2026, 11, 3)
    first, created = exercise_completion_record(
        program=program, on_date=day, source=CompletionSource.EMAIL_LINK
    )
    second, created_again = exercise_completion_record(
        program=program, on_date=day, source=CompletionSource.VISIT
    )
    assert (created, created_again) == (True, False)
    assert first.pk == second.pk
    assert ExerciseCompletion.objects.filter(program=program).count() == 1


def test_days_outside_the_program_are_refused():
    program = HomeExerciseProgramFactory(
        start_date=dt.date(2026, 11, 1), end_date=dt.date(2026, 11, 30)
    )
    for day in (dt.date(2026, 10, 31), dt.date(2026, 12, 1)):
        with pytest.raises(ValidationError):
            exercise_completion_record(
                program=program, on_date=day, source=CompletionSource.EMAIL_LINK
            )
    assert not ExerciseCompletion.objects.exists()
