"""The needs-attention rules, computed for one therapist's patients at once.

"Their patients" (the caseload) are the patients, not archived, with an active plan of
care written by the therapist: two queries of plain values give them in name order,
with their latest such plan. For a set of them, each rule reads only the few latest rows
it needs, picked in the database with a window function (ROW_NUMBER per patient), so one
pass of the rules costs the same seven queries whatever the number of patients and the
length of their history:

1. whether a live visit is booked from now on and the latest live visit (each a LIMIT 1
   on an index, per patient);
2. each patient's two latest pain reports (every source: assessments, visits, email
   check-ins);
3. each patient's two latest LEFS totals from each of ``LEFS_SOURCES`` (signed
   assessments with a total, completed patient questionnaires: one query each);
4. each patient's latest past visits (``ATTENTION_MISSED_IN_A_ROW`` of them), timely
   cancellations left out: those were not visits;
5. the active home program with the date of its latest done exercise;
6. the latest acknowledgement of each patient and reason.

Pages show a bounded list (``needs_attention_first``): the rules run for the first
patients by name, enough to fill the list, not for the whole caseload, so Today and the
Needs attention page cost the same for a caseload of 20 or 500 (docs/decisions.md,
"Needs attention"). "Show all" and acknowledging use ``needs_attention``.

Thresholds are clinic settings (clinic/settings.py, docs/clinical.md §2 and §3).

Each reason carries a ``key`` naming the data that raised it (the latest pain report, the
latest LEFS, the latest missed visit...). An acknowledgement stores that key and hides the
reason while the key is the same; newer data gives a new key and the reason is back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import F, Max, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from clinic.models import (
    LIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
    AttentionAcknowledgement,
    AttentionReason,
)
from patients.links import path_maker
from patients.models import (
    Assessment,
    PainReport,
    Patient,
    QuestionnaireInstrument,
    QuestionnaireResponse,
    QuestionnaireStatus,
    RecordStatus,
)
from treatments.models import HomeExerciseProgram, PlanStatus, ProgramStatus, TreatmentPlan

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Flag:
    reason: str
    # Why, in words, with the numbers and dates: worded only for the rows a page shows
    # (formatting dates costs more than the rules for a long list).
    describe: Callable[[], str]
    key: str  # the data that raised it (see the module docstring)

    @property
    def text(self) -> str:
        return self.describe()

    @property
    def label(self) -> str:
        return AttentionReason(self.reason).label


@dataclass
class Row:
    patient_id: int
    name: str
    flags: list[Flag] = field(default_factory=list)
    link: str = ""  # the patient page


@dataclass(frozen=True)
class LefsPoint:
    patient_id: int
    when: dt.datetime
    total: int
    key: str  # "assessment:<id>"; a questionnaire response would be "questionnaire:<id>"


def their_patients(therapist: User) -> QuerySet[Patient]:
    """The therapist's patients: not archived, with an active plan of care they wrote."""
    return Patient.objects.filter(
        archived_at__isnull=True,
        treatment_plans__therapist=therapist,
        treatment_plans__status=PlanStatus.ACTIVE,
    )


def _latest_per_patient(queryset: QuerySet[Any], order: list[Any], limit: int) -> QuerySet[Any]:
    """The ``limit`` first rows of each patient in ``order``, in one query."""
    latest: QuerySet[Any] = queryset.annotate(
        rank=Window(RowNumber(), partition_by=[F("patient_id")], order_by=order)
    ).filter(rank__lte=limit)
    return latest


def _day(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return f"{value.day} {value:%b %Y}"


def lefs_from_assessments(patient_ids: list[int]) -> Iterable[LefsPoint]:
    """The two latest signed assessments with a LEFS total of each patient."""
    rows = _latest_per_patient(
        Assessment.objects.filter(
            patient_id__in=patient_ids, status=RecordStatus.SIGNED, lefs_total__isnull=False
        ),
        [F("assessed_at").desc(), F("id").desc()],
        2,
    ).values_list("patient_id", "id", "assessed_at", "lefs_total")
    for patient_id, pk, when, total in rows:
        yield LefsPoint(patient_id, when, total, f"assessment:{pk}")


def lefs_from_questionnaires(patient_ids: list[int]) -> Iterable[LefsPoint]:
    """The two latest completed patient-reported LEFS of each patient (index
    questionnaire_patient_done_idx); a completed LEFS always has its total."""
    rows = _latest_per_patient(
        QuestionnaireResponse.objects.filter(
            patient_id__in=patient_ids,
            instrument=QuestionnaireInstrument.LEFS,
            status=QuestionnaireStatus.COMPLETED,
        ),
        [F("completed_at").desc(), F("id").desc()],
        2,
    ).values_list("patient_id", "id", "completed_at", "total")
    for patient_id, pk, when, total in rows:
        yield LefsPoint(patient_id, when, total, f"questionnaire:{pk}")


# Where LEFS totals come from; each returns at most the two latest per patient, in one
# query. A pain score from a patient questionnaire (NPRS) is a pain report, read in 2.
LEFS_SOURCES: list[Callable[[list[int]], Iterable[LefsPoint]]] = [
    lefs_from_assessments,
    lefs_from_questionnaires,
]


def needs_attention(therapist: User, *, patient_id: int | None = None) -> list[Row]:
    """The therapist's patients that need attention, each with every reason that applies
    and has not been acknowledged for the same data; ordered by name. Every patient of
    the caseload is checked: for "show all", and for one patient (``patient_id``)."""
    caseload = _caseload(therapist, patient_id=patient_id)
    return _evaluate(caseload, list(caseload)) if caseload else []


def needs_attention_first(therapist: User, limit: int) -> tuple[list[Row], bool]:
    """The first ``limit`` rows of ``needs_attention`` (by name) and whether more
    patients need attention: what Today and the list page show.

    The rules are checked for the caseload's first ``CHUNK_FACTOR * (limit + 1)``
    patients by name, and for the rest only when those give fewer than ``limit + 1``
    rows; so the cost follows the rows shown, not the caseload: 8 queries in one pass
    (the two caseload queries and one pass of 6), 14 at most (docs/decisions.md,
    "Needs attention").
    """
    caseload = _caseload(therapist)
    ids = list(caseload)
    want = limit + 1
    first = ids[: CHUNK_FACTOR * want]
    rows = _evaluate(caseload, first) if first else []
    rest = ids[len(first) :]
    if len(rows) < want and rest:
        rows += _evaluate(caseload, rest)
    return rows[:limit], len(rows) > limit


# How many patients one pass of the rules checks, per row wanted. In a seeded clinic
# group three patients in five of a caseload need attention (bench/pages.py); twice
# the rows wanted almost always fills the page in one pass.
CHUNK_FACTOR = 2


@dataclass(frozen=True)
class _Person:
    id: int
    first_name: str
    last_name: str
    plan_id: int


def _caseload(therapist: User, *, patient_id: int | None = None) -> dict[int, _Person]:
    """The therapist's patients by name (dicts keep the order), with their latest active
    plan of the therapist's: two queries, plain values."""
    # The active plans first (plan_therapist_active_idx), then the patients by primary
    # key: joined, the planner hashed the plans against a scan of every patient of the
    # clinic.
    plans = TreatmentPlan.objects.filter(therapist=therapist, status=PlanStatus.ACTIVE)
    if patient_id is not None:
        plans = plans.filter(patient_id=patient_id)
    latest_plan: dict[int, int] = {}
    for pid, plan_id in plans.order_by().values_list("patient_id", "id"):
        latest_plan[pid] = max(plan_id, latest_plan.get(pid, 0))
    if not latest_plan:
        return {}  # one query in all for a therapist without patients
    people = (
        Patient.objects.filter(archived_at__isnull=True, pk__in=list(latest_plan))
        .order_by("last_name", "first_name", "id")
        .values_list("id", "first_name", "last_name")
    )
    return {pk: _Person(pk, first, last, latest_plan[pk]) for pk, first, last in people}


def _evaluate(caseload: dict[int, _Person], ids: list[int]) -> list[Row]:
    """The rules for the patients ``ids`` (in the caseload's order): six queries
    whatever their number and history, each reading the few latest rows per patient."""
    now = timezone.now()
    today = timezone.localdate()
    # 1. Whether a live visit is booked from now on, and the latest live visit: each a
    #    correlated LIMIT 1 on appt_patient_start_idx (patient, starts_at), per patient:
    #    an EXISTS here was planned as a hash of every future visit in the clinic.
    upcoming = Appointment.objects.filter(
        patient=OuterRef("pk"),
        status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
        starts_at__gte=now,
    ).order_by("starts_at")
    last_live = Appointment.objects.filter(
        patient=OuterRef("pk"), status__in=LIVE_APPOINTMENT_STATUSES, starts_at__lt=now
    ).order_by("-starts_at", "-id")
    visits_of = {
        row["id"]: row
        for row in Patient.objects.filter(pk__in=ids)
        .annotate(
            next_visit_id=Subquery(upcoming.values("id")[:1]),
            last_live_id=Subquery(last_live.values("id")[:1]),
            last_live_at=Subquery(last_live.values("starts_at")[:1]),
        )
        .values("id", "next_visit_id", "last_live_id", "last_live_at")
    }

    # 2. Pain reports.
    pain: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for report in _latest_per_patient(
        PainReport.objects.filter(patient_id__in=ids),
        [F("reported_at").desc(), F("id").desc()],
        2,
    ).values("patient_id", "id", "score", "reported_at"):
        pain[report["patient_id"]].append(report)

    # 3. LEFS totals from every source, newest first.
    lefs: dict[int, list[LefsPoint]] = defaultdict(list)
    for source in LEFS_SOURCES:
        for point in source(ids):
            lefs[point.patient_id].append(point)

    # 4. Past visits (a timely cancellation is not a visit).
    in_a_row = settings.ATTENTION_MISSED_IN_A_ROW
    visits: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for visit in _latest_per_patient(
        Appointment.objects.filter(patient_id__in=ids, starts_at__lt=now).exclude(
            status=AppointmentStatus.CANCELLED, late_cancellation=False
        ),
        [F("starts_at").desc(), F("id").desc()],
        in_a_row,
    ).values("patient_id", "id", "status", "starts_at"):
        visits[visit["patient_id"]].append(visit)

    # 5. Active home programs.
    programs = {
        program["patient_id"]: program
        for program in HomeExerciseProgram.objects.filter(
            patient_id__in=ids, status=ProgramStatus.ACTIVE
        )
        .annotate(last_done=Max("completions__date"))
        .values("patient_id", "id", "start_date", "last_done")
    }

    # 6. Acknowledgements.
    acknowledged = {
        (ack["patient_id"], ack["reason"], ack["trigger_key"])
        for ack in AttentionAcknowledgement.objects.filter(patient_id__in=ids)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("patient_id"), F("reason")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
        .values("patient_id", "reason", "trigger_key")
    }

    rows = []
    patient_link = path_maker("patients:detail", 1)  # once, not per row (links.py)
    for pk in ids:
        person, seen = caseload[pk], visits_of[pk]
        flags = [
            *_pain_flags(pain[pk]),
            *_lefs_flags(lefs[pk]),
            *_program_flags(programs.get(pk), today),
            *_missed_flags(visits[pk], in_a_row),
            *_next_visit_flags(
                {
                    "has_next": seen["next_visit_id"] is not None,
                    "plan_id": person.plan_id,
                    "last_live_id": seen["last_live_id"],
                    "last_live_at": seen["last_live_at"],
                }
            ),
        ]
        flags = [f for f in flags if (pk, f.reason, f.key) not in acknowledged]
        if flags:
            name = f"{person.first_name} {person.last_name}"
            rows.append(Row(patient_id=pk, name=name, flags=flags, link=patient_link(pk)))
    return rows


def _pain_flags(reports: list[dict[str, Any]]) -> list[Flag]:
    if not reports:
        return []
    reports = sorted(reports, key=lambda r: (r["reported_at"], r["id"]), reverse=True)
    latest = reports[0]
    key = f"pain:{latest['id']}"
    flags = []
    if latest["score"] >= settings.ATTENTION_PAIN_SCORE:
        flags.append(
            Flag(
                AttentionReason.PAIN_HIGH,
                lambda: (
                    f"Pain {latest['score']}/10 reported on {_day(latest['reported_at'])} "
                    f"(flagged from {settings.ATTENTION_PAIN_SCORE}/10)."
                ),
                key,
            )
        )
    if len(reports) > 1:
        previous = reports[1]
        rise = latest["score"] - previous["score"]
        if rise >= settings.ATTENTION_PAIN_RISE:
            flags.append(
                Flag(
                    AttentionReason.PAIN_RISE,
                    lambda: (
                        f"Pain rose {rise} points, from {previous['score']}/10 on "
                        f"{_day(previous['reported_at'])} to {latest['score']}/10 on "
                        f"{_day(latest['reported_at'])}."
                    ),
                    key,
                )
            )
    return flags


def _lefs_flags(points: list[LefsPoint]) -> list[Flag]:
    if len(points) < 2:
        return []
    newer, older = sorted(points, key=lambda p: (p.when, p.key), reverse=True)[:2]
    fall = older.total - newer.total
    if fall < settings.ATTENTION_LEFS_FALL:
        return []
    return [
        Flag(
            AttentionReason.LEFS_FALL,
            lambda: (
                f"LEFS fell {fall} points, from {older.total}/80 on {_day(older.when)} to "
                f"{newer.total}/80 on {_day(newer.when)}."
            ),
            f"lefs:{newer.key}",
        )
    ]


def _program_flags(program: dict[str, Any] | None, today: dt.date) -> list[Flag]:
    days = settings.ATTENTION_NO_EXERCISE_DAYS
    if program is None or (today - program["start_date"]).days < days:
        return []
    last_done = program["last_done"]
    since = last_done or program["start_date"]
    idle = (today - since).days
    if idle < days:
        return []
    started = program["start_date"]

    def text() -> str:
        if last_done:
            return f"No exercise marked done for {idle} days (last done on {_day(last_done)})."
        return (
            f"No exercise marked done since the program started on {_day(started)} ({idle} days)."
        )

    return [Flag(AttentionReason.NO_EXERCISE, text, f"program:{program['id']}:{last_done}")]


def _missed_flags(visits: list[dict[str, Any]], in_a_row: int) -> list[Flag]:
    if len(visits) < in_a_row or in_a_row < 1:
        return []
    visits = sorted(visits, key=lambda v: (v["starts_at"], v["id"]), reverse=True)
    # Left out above: timely cancellations; so a cancelled visit here was late.
    if any(
        v["status"] not in (AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED) for v in visits
    ):
        return []

    def text() -> str:
        words = ", ".join(
            ("no-show" if v["status"] == AppointmentStatus.NO_SHOW else "late cancellation")
            + f" on {_day(v['starts_at'])}"
            for v in reversed(visits)
        )
        return f"Missed the last {in_a_row} visits in a row: {words}."

    return [Flag(AttentionReason.MISSED_VISITS, text, f"missed:{visits[0]['id']}")]


def _next_visit_flags(person: dict[str, Any]) -> list[Flag]:
    if person["has_next"]:
        return []
    last = person["last_live_at"]

    def text() -> str:
        since = f"last visit on {_day(last)}" if last else "no visit yet"
        return f"Active plan of care and no next visit booked ({since})."

    key = f"plan:{person['plan_id']}:after:{person['last_live_id']}"
    return [Flag(AttentionReason.NO_NEXT_VISIT, text, key)]
