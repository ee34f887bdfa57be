import datetime as dt
import re
from dataclasses import dataclass

from clinic.models import ReminderStatus
from clinic.reminders import services
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


@dataclass(frozen=True)
class SendResult:
    outcome: str  # "sent", "skipped", "expired", "failed", "retry", "not_claimed"
    retry_in: int | None = None
    detail: str = ""


def reminder_claim(*, reminder_id: int, now: dt.datetime) -> bool:
    """The batch claim for one row; True only for the one caller that changed it."""
    return bool(services.reminders_claim(ids=[reminder_id], now=now))


def reminder_send(*, reminder_id: int, now: dt.datetime | None = None) -> SendResult:
    """One row through the send task's batch path, and what became of it."""
    outcomes: dict[int, services.Outcome] = {}
    result = services.reminders_send_batch(ids=[reminder_id], now=now, outcomes=outcomes)
    if not result.claimed:
        return SendResult("not_claimed")
    outcome = outcomes[reminder_id]
    name = "retry" if outcome.status == ReminderStatus.PENDING else outcome.status
    return SendResult(name, retry_in=outcome.retry_in, detail=outcome.error)
