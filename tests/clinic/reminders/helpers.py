import datetime as dt
import re

from tests.factories import (
    ExercisePrescriptionFactory,
    HomeExerciseProgramFactory,
    PatientFactory,
)

ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]


def program_due(*, tz="America/New_York", at=dt.time(18, 0), start=dt.date(2026, 1, 1), **kw):
    """An active program with reminders on, for an opted-in patient with an email."""
    patient_fields = {k: kw.pop(k) for k in list(kw) if k.startswith("patient_")}
    patient = PatientFactory(
        timezone=tz, **{k.removeprefix("patient_"): v for k, v in patient_fields.items()}
    )
    program = HomeExerciseProgramFactory(
        patient=patient, reminder_time=at, start_date=start, reminder_days=ALL_DAYS, **kw
    )
    ExercisePrescriptionFactory(program=program, sets=3, reps=12)
    return program


def words_read(*parts: str) -> str:
    """What the patient reads in an email, lowercased, without the links: a signed
    link's token is random letters, and a short word ("wu", "pain") can turn up inside
    one by chance."""
    return re.sub(r"https?://\S+", " ", " ".join(parts)).lower()
