"""When a patient-reported questionnaire is due, read in batches for the dispatch sweep.

Two occasions (docs/clinical.md, "Patient-reported questionnaires"):

- a visit: a booked re-assessment or discharge visit starting within
  QUESTIONNAIRE_DAYS_BEFORE_VISIT days, so the answers are in before the therapist
  writes the assessment; key ``questionnaire:visit:<appointment id>``;
- a plan of care: every QUESTIONNAIRE_EVERY_WEEKS weeks of an active plan, counted from
  its start date; key ``questionnaire:plan:<plan id>:<period>``.

Either is left out when the patient was already asked since it began (the window
before the visit; for the plan, the last QUESTIONNAIRE_EVERY_WEEKS weeks): one email
serves both. Only patients who
may get reminder emails are asked (consent, an address, not archived).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from clinic.models import Appointment, AppointmentKind, AppointmentStatus
from clinic.reminders.selectors import _batches, _reachable_patient
from patients.models import QuestionnaireResponse
from treatments.models import PlanStatus, TreatmentPlan


@dataclass(frozen=True)
class Occasion:
    patient_id: int
    key: str


def visit_key(appointment_id: int) -> str:
    return f"questionnaire:visit:{appointment_id}"


def plan_key(plan_id: int, period: int) -> str:
    return f"questionnaire:plan:{plan_id}:{period}"


def _latest_requests(patient_ids: list[int]) -> dict[int, dt.datetime]:
    """Each patient's latest request (index questionnaire_patient_req_idx): one query."""
    return dict(
        QuestionnaireResponse.objects.filter(patient_id__in=patient_ids)
        .values("patient_id")
        .annotate(latest=Max("requested_at"))
        .values_list("patient_id", "latest")
    )


def visit_occasions(*, now: dt.datetime) -> Iterator[list[Occasion]]:
    """Booked re-assessment and discharge visits starting within the window, one batch
    (two queries) at a time (index appt_status_start_idx)."""
    ahead = dt.timedelta(days=settings.QUESTIONNAIRE_DAYS_BEFORE_VISIT)
    visits = Appointment.objects.filter(
        _reachable_patient("patient__"),
        status=AppointmentStatus.BOOKED,
        kind__in=[AppointmentKind.REASSESSMENT, AppointmentKind.DISCHARGE],
        starts_at__gt=now,
        starts_at__lte=now + ahead,
    ).order_by("id")
    for rows in _batches(visits, fields=("id", "patient_id", "starts_at")):
        latest = _latest_requests([row["patient_id"] for row in rows])
        occasions = [
            Occasion(row["patient_id"], visit_key(row["id"]))
            for row in rows
            if not _asked_since(latest.get(row["patient_id"]), row["starts_at"] - ahead)
        ]
        if occasions:
            yield occasions


def plan_period(*, start: dt.date, today: dt.date, every_weeks: int) -> tuple[int, dt.date]:
    """(period number, first day) of the plan's current period; period 0 is the first
    ``every_weeks`` weeks, which the initial evaluation already measured."""
    days = max(every_weeks, 1) * 7
    period = max((today - start).days, 0) // days
    return period, start + dt.timedelta(days=period * days)


def plan_occasions(*, now: dt.datetime) -> Iterator[list[Occasion]]:
    """Active plans of care at least one period old whose patient has not been asked for
    QUESTIONNAIRE_EVERY_WEEKS weeks, one batch (one query) at a time.

    This runs every minute over every active plan, so the database leaves out the
    patients asked recently (NOT EXISTS on index questionnaire_patient_req_idx): in the
    usual minute, when everyone has been asked, it is one query that returns nothing.
    Not asked for a whole period means not asked since the current one began, so the
    period's key is due. A patient asked late in a period (before a visit, say) waits a
    full period from that request: never two questionnaires closer than the cadence."""
    every = settings.QUESTIONNAIRE_EVERY_WEEKS
    if every < 1:
        return
    today = timezone.localdate(now)
    asked_lately = QuestionnaireResponse.objects.filter(
        patient=OuterRef("patient_id"), requested_at__gt=now - dt.timedelta(weeks=every)
    )
    plans = TreatmentPlan.objects.filter(
        _reachable_patient("patient__"),
        ~Exists(asked_lately),
        status=PlanStatus.ACTIVE,
        start_date__lte=today - dt.timedelta(weeks=every),
    ).order_by("id")
    for rows in _batches(plans, fields=("id", "patient_id", "start_date")):
        occasions = []
        for row in rows:
            period, _began = plan_period(start=row["start_date"], today=today, every_weeks=every)
            occasions.append(Occasion(row["patient_id"], plan_key(row["id"], period)))
        yield occasions


def _asked_since(latest: dt.datetime | None, since: dt.datetime) -> bool:
    return latest is not None and latest >= since


def questionnaire_for_link(*, patient_id: int, response_id: int) -> QuestionnaireResponse | None:
    """The response a questionnaire link names, if it is the patient's: one query."""
    return QuestionnaireResponse.objects.filter(pk=response_id, patient_id=patient_id).first()
