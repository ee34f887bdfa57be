"""The printed home-exercise handout, in the patient's language.

The template (templates/treatments/handout.html) and the phrases built here are written
in English and marked for translation; the other languages come from the catalogues in
locale/ (README, "Languages"). Month and weekday names come from Django's own
translations, so a new language needs a catalogue, not code.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import formats, translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, npgettext, pgettext

from .models import ExercisePrescription, HomeExerciseProgram

LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


def weekday_names(days: list[int], language: str) -> str:
    """Weekday names ("Monday, Wednesday, Friday", or "every day") in ``language``."""
    with translation.override(language):
        if sorted(days) == list(range(7)):
            return _("every day")
        return ", ".join(str(WEEKDAYS[d]) for d in sorted(days) if 0 <= d <= 6)


def format_date(day: dt.date) -> str:
    """A long date in the active language: "March 2, 2026", "2 de marzo de 2026"."""
    # Translators: a date format for Django's date filter (F = month name, j = day,
    # Y = year); a backslash escapes a letter that is to be printed as is.
    return formats.date_format(day, pgettext("long date format", "F j, Y"))


def times_a_day(times: int) -> str:
    if times == 2:
        return _("twice a day")
    return ngettext("once a day", "%(count)d times a day", times) % {"count": times}


def dose(prescription: ExercisePrescription) -> str:
    """Sets, repetitions, hold, times a day and days a week, in the active language."""
    p = prescription
    # Translators: the repetitions in "2 sets of %(reps)s". English says "2 sets of 10";
    # a language may add the word ("2 series de 10 repeticiones").
    reps = npgettext("repetitions", "%(reps)d", "%(reps)d", p.reps) % {"reps": p.reps}
    parts = [
        ngettext("%(sets)d set of %(reps)s", "%(sets)d sets of %(reps)s", p.sets)
        % {"sets": p.sets, "reps": reps}
    ]
    if p.hold_seconds:
        parts.append(_("hold %(seconds)s seconds") % {"seconds": p.hold_seconds})
    parts.append(times_a_day(p.times_per_day))
    if p.days_per_week == 7:
        parts.append(_("every day"))
    else:
        parts.append(
            ngettext("%(days)d day a week", "%(days)d days a week", p.days_per_week)
            % {"days": p.days_per_week}
        )
    return ", ".join(parts)


def context(program: HomeExerciseProgram, language: str) -> dict:
    """Everything the handout template shows; the template renders it in ``language``."""
    spanish = language == "es"
    exercises = []
    with translation.override(language):
        for p in program.prescriptions.all():
            exercise = p.exercise
            name = exercise.name_es if spanish and exercise.name_es else exercise.name
            instructions = (
                exercise.instructions_es
                if spanish and exercise.instructions_es
                else exercise.instructions_en
            )
            exercises.append(
                {
                    "name": name,
                    "dose": dose(p),
                    "steps": [line.strip() for line in instructions.splitlines() if line.strip()],
                    "notes": p.notes,
                }
            )
        start = format_date(program.start_date)
        end = format_date(program.end_date) if program.end_date else ""
    return {
        "language": language,
        "exercises": exercises,
        "start": start,
        "end": end,
        "days": weekday_names(program.reminder_days or [], language),
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
    }
