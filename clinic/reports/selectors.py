"""The report queries: each figure aggregated in the database over a bounded date range.

Definitions (docs/decisions.md, caseload reports):

- **Period and weeks.** A report covers whole days ``start``..``end`` at the clinic, cut
  into weeks of 7 days counted from ``start`` (the last one may be shorter). The default
  is the 12 weeks from the Monday 11 weeks before this week's to today.
- **Outcomes.** An episode is a plan of care: from the signed assessment it was written
  from (the baseline) to the day it ended, or to now while it is active. Its follow-up
  measures are the patient's signed assessments after the baseline and within the
  episode. An episode "has two measures" when the baseline and at least one follow-up
  carry the measure; its change is the last follow-up minus the baseline; it reaches the
  MCID when any follow-up does (LEFS: 9 points or more above the baseline; NPRS: 2 points
  or 30 % below it, docs/clinical.md §2 and §3), and its days to MCID run from the baseline
  to the first follow-up that does. Episodes are counted in the period their plan of care
  started in, grouped by therapist, the first suspected cause on the baseline and its
  region.
- **Attendance.** Visits due: visits that started in the week (up to now), timely
  cancellations left out (those were not visits). No-show rate = no-shows / due;
  late-cancellation rate = visits cancelled within the late-cancellation window
  (``Appointment.late_cancellation``, set by clinic/scheduling/services.py) / due.
- **Utilisation.** Booked minutes (visits booked, checked in, completed or no-show:
  the practitioner's time was held) ÷ working minutes (``working_minutes``: working hours,
  less time off).
- **Home-program adherence.** Prescribed days: every exercise day (the program's
  weekdays) of a home program from its start date to its end date, up to yesterday, a
  patient's day once (the program prescribed last that runs that day); adherence =
  those days with a completion ÷ prescribed days, per prescribing therapist.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentStatus,
    ClinicClosure,
    Practitioner,
    ReportCompletionDay,
    ReportDay,
    ReportEpisode,
    TimeOff,
    WorkingHours,
)
from patients.clinical import LEFS_MCID, NPRS_MCID_PERCENT, NPRS_MCID_POINTS
from patients.localtime import clinic_today, clinic_zone, local_occurrence
from patients.models import Assessment, Patient, RecordStatus, Region, SuspectedCause
from patients.paging import NextPage, next_page
from treatments.models import TreatmentPlan

from . import rollup
from .db import DaysBetween

DEFAULT_WEEKS = 12
# The longest period a report covers: 53 weeks, a year whatever weekday it starts on.
# Longer ones are refused on the form: every figure is one column per week at most.
MAX_DAYS = 53 * 7

LEFS = "lefs"
NPRS = "nprs"
MEASURES = {LEFS: "LEFS (function)", NPRS: "NPRS (pain now)"}

# Visits that held the practitioner's time (utilisation): a no-show's slot was held until
# it was missed; a cancelled visit's slot was freed and may have been booked again.
BOOKED_STATUSES = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
]


# --- Period ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    index: int
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label(self) -> str:
        return f"{self.start.day} {self.start:%b}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def weeks(self) -> list[Week]:
        weeks = []
        day, index = self.start, 0
        while day <= self.end:
            last = min(day + dt.timedelta(days=6), self.end)
            weeks.append(Week(index, day, last))
            day, index = last + dt.timedelta(days=1), index + 1
        return weeks

    def bounds(self) -> list[dt.datetime]:
        """Each week's first moment at the clinic, then the moment after the period."""
        days = [week.start for week in self.weeks] + [self.end + dt.timedelta(days=1)]
        return [_local(day, dt.time(0)) for day in days]

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def _local(day: dt.date, time: dt.time) -> dt.datetime:
    """The first instant of wall-clock ``time`` on ``day`` at the clinic; a time the
    clocks skip (a zone that changes at midnight, a shift starting at 2:30 on the night
    they go forward) is the moment they jump to."""
    return local_occurrence(day, time, clinic_zone())


def default_period(today: dt.date | None = None) -> Period:
    today = today or clinic_today()
    monday = today - dt.timedelta(days=today.weekday())
    return Period(monday - dt.timedelta(weeks=DEFAULT_WEEKS - 1), today)


def _week_of(day: Any, period: Period) -> CombinedExpression:
    """The index in ``period.weeks`` of the date ``day`` (an expression), for rows
    already bounded to the period: whole days since its start, over 7 (every week but
    the last has 7 days). A CASE over the weeks' edges took longer to build (about
    1.3 ms a query, a When per week) than the query took to run."""
    return DaysBetween(Value(period.start), day) / 7


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def practitioner_names() -> dict[int, str]:
    return dict(Practitioner.objects.values_list("pk", "display_name"))


def _refresh_rollup(period: Period, now: dt.datetime) -> dt.date:
    """Bring the rollup of finished days up to date for ``period`` and return the first
    day it does not cover (today, or the day after the period): days before it are read
    from ``ReportDay``, the rest live. Four queries."""
    finished = max(period.start, min(period.end + dt.timedelta(days=1), clinic_today(now)))
    rollup.refresh(period.start, finished, now=now)
    return finished


# --- Attendance -------------------------------------------------------------------------


@dataclass
class AttendanceCell:
    due: int = 0
    no_shows: int = 0
    late: int = 0

    @property
    def no_show_rate(self) -> float | None:
        return _rate(self.no_shows, self.due)

    @property
    def late_rate(self) -> float | None:
        return _rate(self.late, self.due)

    def add(self, other: AttendanceCell) -> None:
        self.due += other.due
        self.no_shows += other.no_shows
        self.late += other.late


@dataclass
class AttendanceReport:
    period: Period
    practitioners: list[tuple[int, str]]  # (id, name) of every row
    cells: dict[tuple[int, int], AttendanceCell]  # (practitioner, week) -> figures
    by_practitioner: dict[int, AttendanceCell]
    by_week: dict[int, AttendanceCell]
    total: AttendanceCell


def attendance(period: Period, *, now: dt.datetime) -> AttendanceReport:
    """Visits due, no-shows and late cancellations per practitioner and week.

    Finished days come from the rollup (clinic/reports/rollup.py), today and later from
    the visits themselves. Queries: 1-4. the rollup's refresh; 5. the finished days'
    counts, grouped by practitioner and week; 6. the same from today's visits; 7.
    practitioners' names.
    """
    edges = period.bounds()
    until = min(edges[-1], now)
    finished = _refresh_rollup(period, now)
    counts = (
        ReportDay.objects.filter(day__gte=period.start, day__lt=finished, due__gt=0)
        .annotate(week=_week_of(F("day"), period))
        .values("practitioner_id", "week")
        .annotate(week_due=Sum("due"), week_no_shows=Sum("no_shows"), week_late=Sum("late"))
        .order_by()
    )
    rows = [
        (
            row["practitioner_id"],
            row["week"],
            row["week_due"],
            row["week_no_shows"],
            row["week_late"],
        )
        for row in counts
    ]
    live = (
        Appointment.objects.filter(
            starts_at__gte=max(edges[0], _local(finished, dt.time(0))), starts_at__lt=until
        )
        .exclude(status=AppointmentStatus.CANCELLED, late_cancellation=False)
        .annotate(week=_week_of(rollup.local_day(), period))
        .values("practitioner_id", "week")
        .annotate(
            due=Count("id"),
            no_shows=Count("id", filter=Q(status=AppointmentStatus.NO_SHOW)),
            late=Count("id", filter=Q(status=AppointmentStatus.CANCELLED)),
        )
        .order_by()
    )
    rows += [
        (row["practitioner_id"], row["week"], row["due"], row["no_shows"], row["late"])
        for row in live
    ]
    cells: dict[tuple[int, int], AttendanceCell] = defaultdict(AttendanceCell)
    by_practitioner: dict[int, AttendanceCell] = defaultdict(AttendanceCell)
    by_week: dict[int, AttendanceCell] = defaultdict(AttendanceCell)
    total = AttendanceCell()
    for practitioner_id, week, due, no_shows, late in rows:
        cell = AttendanceCell(due, no_shows, late)
        cells[(practitioner_id, week)].add(cell)
        by_practitioner[practitioner_id].add(cell)
        by_week[week].add(cell)
        total.add(cell)
    names = practitioner_names()
    practitioners = sorted(
        ((pk, names.get(pk, "?")) for pk in by_practitioner), key=lambda item: item[1]
    )
    return AttendanceReport(
        period, practitioners, dict(cells), dict(by_practitioner), dict(by_week), total
    )


# --- Utilisation ------------------------------------------------------------------------


def closed_days(start: dt.date, end: dt.date) -> frozenset[dt.date]:
    """Days from ``start`` to ``end`` (both included) the whole clinic is closed
    (ClinicClosure): nobody works then, so ``working_minutes`` leaves them out of
    everyone's working time. One query."""
    days: set[dt.date] = set()
    for first, last in ClinicClosure.objects.filter(
        starts_on__lte=end, ends_on__gte=start
    ).values_list("starts_on", "ends_on"):
        day = max(first, start)
        while day <= min(last, end):
            days.add(day)
            day += dt.timedelta(days=1)
    return frozenset(days)


def _minutes_overlap(
    start: dt.datetime, end: dt.datetime, off: Iterable[tuple[dt.datetime, dt.datetime]]
) -> int:
    """Minutes of [start, end) not covered by any interval of ``off``."""
    free = [(start, end)]
    for off_start, off_end in off:
        pieces = []
        for a, b in free:
            if off_end <= a or off_start >= b:
                pieces.append((a, b))
                continue
            if off_start > a:
                pieces.append((a, off_start))
            if off_end < b:
                pieces.append((off_end, b))
        free = pieces
    return sum(round((b - a).total_seconds() / 60) for a, b in free)


def working_minutes(start: dt.date, end: dt.date) -> dict[int, dict[dt.date, int]]:
    """Minutes each practitioner is scheduled to work on each day from ``start`` to
    ``end`` (inclusive): their working hours for that weekday, less their time off and
    the clinic's closed days. The one place working time is worked out for the reports.

    Queries: 1. working hours; 2. time off touching the period. Both are bounded by the
    number of practitioners, not by the clinic's history.
    """
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    # Each day's first moment, and the moment after the last day.
    midnights = [_local(day, dt.time(0)) for day in [*days, end + dt.timedelta(days=1)]]
    first, after = midnights[0], midnights[-1]
    hours: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for practitioner_id, weekday, begin, finish in WorkingHours.objects.values_list(
        "practitioner_id", "weekday", "start", "end"
    ):
        hours[practitioner_id][weekday].append((begin, finish))
    off: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for practitioner_id, off_start, off_end in TimeOff.objects.filter(
        ends_at__gt=first, starts_at__lt=after
    ).values_list("practitioner_id", "starts_at", "ends_at"):
        off[practitioner_id].append((off_start, off_end))
    closed = closed_days(start, end)
    zone = clinic_zone()
    # Days whose clock changes (daylight saving) and days touched by a practitioner's time
    # off are worked out on aware datetimes; on every other day the working hours' wall
    # clock length is the time worked, which is most days and far cheaper.
    offsets = [midnight.astimezone(zone).utcoffset() for midnight in midnights]
    clock_changes = {
        day
        for day, (offset, next_offset) in zip(days, pairwise(offsets), strict=True)
        if offset != next_offset
    }
    off_days: dict[int, set[dt.date]] = defaultdict(set)
    for practitioner_id, intervals in off.items():
        for off_start, off_end in intervals:
            day = max(off_start.astimezone(zone).date(), start)
            while day <= min(off_end.astimezone(zone).date(), end):
                off_days[practitioner_id].add(day)
                day += dt.timedelta(days=1)
    result: dict[int, dict[dt.date, int]] = {}
    for practitioner_id, weekdays in hours.items():
        plain = {
            weekday: sum(_wall_minutes(begin, finish) for begin, finish in intervals)
            for weekday, intervals in weekdays.items()
        }
        exact = off_days.get(practitioner_id, set()) | clock_changes
        minutes_by_day: dict[dt.date, int] = {}
        for day in days:
            if day in closed:
                minutes_by_day[day] = 0
            elif day not in exact:
                minutes_by_day[day] = plain.get(day.weekday(), 0)
            else:
                minutes_by_day[day] = sum(
                    _minutes_overlap(
                        _local(day, begin),
                        _local(day, finish),
                        off.get(practitioner_id, []),
                    )
                    for begin, finish in weekdays.get(day.weekday(), [])
                )
        result[practitioner_id] = minutes_by_day
    return result


def _wall_minutes(begin: dt.time, finish: dt.time) -> int:
    return (finish.hour * 60 + finish.minute) - (begin.hour * 60 + begin.minute)


@dataclass
class UtilisationCell:
    booked: int = 0  # minutes
    working: int = 0  # minutes

    @property
    def rate(self) -> float | None:
        return _rate(self.booked, self.working)

    def add(self, other: UtilisationCell) -> None:
        self.booked += other.booked
        self.working += other.working


@dataclass
class UtilisationReport:
    period: Period
    practitioners: list[tuple[int, str]]
    cells: dict[tuple[int, int], UtilisationCell]
    by_practitioner: dict[int, UtilisationCell]
    by_week: dict[int, UtilisationCell]
    total: UtilisationCell


def utilisation(period: Period, *, now: dt.datetime | None = None) -> UtilisationReport:
    """Booked minutes ÷ working minutes per practitioner and week.

    Finished days' booked minutes come from the rollup (clinic/reports/rollup.py), today
    and later from the visits. Queries: 1-4. the rollup's refresh; 5. the finished days'
    booked minutes, grouped by practitioner and week; 6. the same from today on; 7-9.
    working minutes (``working_minutes``); 10. practitioners' names.
    """
    now = now or timezone.now()
    edges = period.bounds()
    finished = _refresh_rollup(period, now)
    booked_rows = (
        ReportDay.objects.filter(day__gte=period.start, day__lt=finished, booked__gt=dt.timedelta())
        .annotate(week=_week_of(F("day"), period))
        .values("practitioner_id", "week")
        .annotate(week_booked=Sum("booked"))
        .order_by()
    )
    duration = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())
    live = (
        Appointment.objects.filter(
            starts_at__gte=max(edges[0], _local(finished, dt.time(0))),
            starts_at__lt=edges[-1],
            status__in=BOOKED_STATUSES,
        )
        .annotate(week=_week_of(rollup.local_day(), period))
        .values("practitioner_id", "week")
        .annotate(week_booked=Sum(duration))
        .order_by()
    )
    cells: dict[tuple[int, int], UtilisationCell] = defaultdict(UtilisationCell)
    booked_by_cell: dict[tuple[int, int], dt.timedelta] = defaultdict(dt.timedelta)
    for row in [*booked_rows, *live]:
        booked_by_cell[(row["practitioner_id"], row["week"])] += (
            row["week_booked"] or dt.timedelta()
        )
    for key, booked in booked_by_cell.items():
        cells[key].booked = round(booked.total_seconds() / 60)
    weeks = period.weeks
    week_of = {week.start + dt.timedelta(days=n): week.index for week in weeks for n in range(7)}
    for practitioner_id, days in working_minutes(period.start, period.end).items():
        week_minutes = [0] * len(weeks)
        for day, minutes in days.items():
            week_minutes[week_of[day]] += minutes
        for week in weeks:
            minutes = week_minutes[week.index]
            if minutes or (practitioner_id, week.index) in cells:
                cells[(practitioner_id, week.index)].working = minutes
    by_practitioner: dict[int, UtilisationCell] = defaultdict(UtilisationCell)
    by_week: dict[int, UtilisationCell] = defaultdict(UtilisationCell)
    total = UtilisationCell()
    for (practitioner_id, week_index), cell in cells.items():
        by_practitioner[practitioner_id].add(cell)
        by_week[week_index].add(cell)
        total.add(cell)
    names = practitioner_names()
    practitioners = sorted(
        ((pk, names.get(pk, "?")) for pk in by_practitioner), key=lambda item: item[1]
    )
    return UtilisationReport(
        period, practitioners, dict(cells), dict(by_practitioner), dict(by_week), total
    )


# --- Home-program adherence -------------------------------------------------------------


@dataclass
class AdherenceCell:
    prescribed: int = 0  # days
    done: int = 0  # days with a completion

    @property
    def rate(self) -> float | None:
        return _rate(self.done, self.prescribed)

    def add(self, other: AdherenceCell) -> None:
        self.prescribed += other.prescribed
        self.done += other.done


@dataclass
class AdherenceReport:
    period: Period
    last_day: dt.date  # yesterday, or the period's end if earlier
    therapists: list[tuple[int, str]]
    cells: dict[tuple[int, int], AdherenceCell]
    by_therapist: dict[int, AdherenceCell]
    by_week: dict[int, AdherenceCell]
    total: AdherenceCell


def therapist_names(user_ids: Iterable[int]) -> dict[int, str]:
    """Therapists by user id, as the calendar names them (their practitioner's name)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(pk__in=list(user_ids))
    return {
        pk: practitioner or " ".join(part for part in (first, last) if part) or username
        for pk, practitioner, first, last, username in users.values_list(
            "pk", "practitioner__display_name", "first_name", "last_name", "username"
        )
    }


def adherence(period: Period, *, today: dt.date, now: dt.datetime | None = None) -> AdherenceReport:
    """Prescribed days and days with a completion, per prescribing therapist and week.

    Only days that are over count (up to yesterday): today's exercises may still be done.
    Queries: 1-2 (or more, when days are to be counted). the rollup's refresh; 3.
    prescribed days and completions from the rollup, grouped by therapist and week; 4.
    therapists' names.
    """
    now = now or timezone.now()
    last = min(period.end, today - dt.timedelta(days=1))
    weeks = [week for week in period.weeks if week.start <= last]
    cells: dict[tuple[int, int], AdherenceCell] = defaultdict(AdherenceCell)
    if weeks:
        # Prescribed days and completions come from the rollup of finished days
        # (clinic/reports/rollup.py): only days up to yesterday count, so all of them
        # are finished. A completion outside its program's dates is not a prescribed
        # day's: left out there, so a share never exceeds 100 %.
        rollup.refresh(
            period.start, last + dt.timedelta(days=1), now=now, source=rollup.COMPLETIONS
        )
        done = (
            ReportCompletionDay.objects.filter(day__gte=period.start, day__lte=last)
            .annotate(week=_week_of(F("day"), period))
            .values("therapist_id", "week")
            .annotate(days=Sum("done"), program_days=Sum("prescribed"))
            .order_by()
        )
        for row in done:
            cell = cells[(row["therapist_id"], row["week"])]
            cell.done, cell.prescribed = row["days"], row["program_days"]
    by_therapist: dict[int, AdherenceCell] = defaultdict(AdherenceCell)
    by_week: dict[int, AdherenceCell] = defaultdict(AdherenceCell)
    total = AdherenceCell()
    for (therapist_id, week_index), cell in cells.items():
        by_therapist[therapist_id].add(cell)
        by_week[week_index].add(cell)
        total.add(cell)
    names = therapist_names(by_therapist)
    therapists = sorted(((pk, names.get(pk, "?")) for pk in by_therapist), key=lambda item: item[1])
    return AdherenceReport(
        period, last, therapists, dict(cells), dict(by_therapist), dict(by_week), total
    )


# --- Outcomes ---------------------------------------------------------------------------


def outcome_expressions(measure: str, *, now: dt.datetime) -> dict[str, Any]:
    """The outcome of a plan of care for ``measure``, as expressions on TreatmentPlan:

    - ``baseline``: the measure on the plan's assessment (None if it has none);
    - ``change``: the last follow-up's measure minus the baseline (None without both);
    - ``mcid_at``: when a follow-up first reached the MCID (None if none did, or without
      a baseline).

    The follow-ups are correlated subqueries, each a LIMIT 1 on the patient's assessments
    (index assessment_patient_date_idx), so only the plans asked for are read. ``now``
    ends an active plan's episode; an ended plan's outcome does not depend on it.
    """
    column = "lefs_total" if measure == LEFS else "pain_now"
    baseline = F(f"assessment__{column}")
    follow_ups = Assessment.objects.filter(
        patient_id=OuterRef("patient_id"),
        status=RecordStatus.SIGNED,
        assessed_at__gt=OuterRef("assessment__assessed_at"),
        assessed_at__lte=Coalesce(OuterRef("ended_at"), Value(now)),
        **{f"{column}__isnull": False},
    )
    if measure == LEFS:
        reached = Q(lefs_total__gte=OuterRef("assessment__lefs_total") + LEFS_MCID)
    else:
        # docs/clinical.md §2 (patients.clinical.nprs_change): a drop of 2 points, or of
        # 30 % of a first score above 0 (100 x now <= 70 x first, and lower than it).
        follow_ups = follow_ups.annotate(pain_x100=F("pain_now") * 100)
        reached = Q(pain_now__lte=OuterRef("assessment__pain_now") - NPRS_MCID_POINTS) | Q(
            pain_now__lt=OuterRef("assessment__pain_now"),
            pain_x100__lte=OuterRef("assessment__pain_now") * (100 - NPRS_MCID_PERCENT),
        )
    last_value = Subquery(
        follow_ups.order_by("-assessed_at", "-id").values(column)[:1],
        output_field=IntegerField(),
    )
    mcid_at = Subquery(
        follow_ups.filter(reached).order_by("assessed_at", "id").values("assessed_at")[:1]
    )
    return {
        "baseline": baseline,
        "change": ExpressionWrapper(last_value - baseline, output_field=IntegerField()),
        "mcid_at": mcid_at,
    }


def measured_plans() -> QuerySet[Any]:
    """Plans of care that are episodes: written from a signed assessment (the baseline),
    annotated with when it was taken, its first suspected cause and its region."""
    return (
        TreatmentPlan.objects.filter(assessment__status=RecordStatus.SIGNED)
        .annotate(
            baseline_at=F("assessment__assessed_at"),
            cause=KeyTextTransform("0", "assessment__suspected_causes"),
            region=F("assessment__region"),
        )
        .order_by()
    )


def _episodes(period: Period, measure: str) -> QuerySet[Any]:
    """Plans of care started in the period with their outcome for ``measure``
    (``outcome_expressions``), as the rollup holds them (clinic/reports/rollup.py,
    ``refresh_episodes``; index reportepisode_start_idx)."""
    return (
        ReportEpisode.objects.filter(start_date__gte=period.start, start_date__lte=period.end)
        .annotate(
            baseline=F(f"{measure}_baseline"),
            change=F(f"{measure}_change"),
            mcid_at=F(f"{measure}_mcid_at"),
        )
        .order_by()
    )


@dataclass
class OutcomeRow:
    therapist_id: int | None
    therapist: str
    cause: str  # label, "" on total rows
    region: str
    episodes: int
    measured: int
    reached: int
    median_change: float | None
    median_days: float | None
    hidden: bool = False  # medians left out: too few episodes (hide_small_medians)

    @property
    def share(self) -> float | None:
        return _rate(self.reached, self.measured)


@dataclass
class OutcomesReport:
    period: Period
    measure: str
    by_therapist: list[OutcomeRow]
    detail: list[OutcomeRow]
    total: OutcomeRow
    groups: dict[int, list[OutcomeRow]] = field(default_factory=dict)

    @property
    def measure_label(self) -> str:
        return MEASURES[self.measure]

    @property
    def sections(self) -> list[tuple[OutcomeRow, list[OutcomeRow]]]:
        """Each therapist's row with their rows per cause and region."""
        return [(row, self.groups.get(row.therapist_id or 0, [])) for row in self.by_therapist]


CAUSE_LABELS = dict(SuspectedCause.choices)
REGION_LABELS = dict(Region.choices)
NO_CAUSE = "None recorded"

# The three levels of the outcomes table, from one pass over the episodes (a CTE the
# database computes once): therapist x cause x region, therapist, and the whole clinic.
# On SQLite, which lacks GROUPING SETS, with UNION ALL; on PostgreSQL with ROLLUP.
_LEVELS = (
    ("0", "therapist_id, cause, region", "GROUP BY therapist_id, cause, region"),
    ("1", "therapist_id, NULL, NULL", "GROUP BY therapist_id"),
    ("2", "NULL, NULL, NULL", ""),
)


def _outcomes_sql(inner: str, vendor: str) -> str:
    if vendor == "postgresql":
        median = "percentile_cont(0.5) WITHIN GROUP (ORDER BY {})"
        # date_part: a double, the same value EXTRACT gives as a numeric, whose
        # arithmetic cost a tenth of the query on a clinic group's 12 weeks.
        days = "date_part('epoch', mcid_at - baseline_at) / 86400.0"
    else:  # SQLite, with the median of clinic/reports/db.py
        median = "reports_median({})"
        days = "julianday(mcid_at) - julianday(baseline_at)"
    figures = (
        f"COUNT(*), COUNT(change), COUNT(mcid_at), {median.format('change')}, {median.format(days)}"
    )
    if vendor == "postgresql":
        # The same three levels from one sort of the episodes: ROLLUP groups by therapist,
        # cause and region, then therapist, then nothing; GROUPING says which (0, 3, 7).
        level = "CASE GROUPING(therapist_id, cause, region) WHEN 0 THEN 0 WHEN 3 THEN 1 ELSE 2 END"
        return (
            f"SELECT {level}, therapist_id, cause, region, {figures} FROM ({inner}) episode "
            "GROUP BY ROLLUP (therapist_id, (cause, region))"
        )
    selects = [
        f"SELECT {level}, {keys}, {figures} FROM episode {group}" for level, keys, group in _LEVELS
    ]
    return f"WITH episode AS ({inner}) " + " UNION ALL ".join(selects)


def outcomes(period: Period, measure: str, *, now: dt.datetime) -> OutcomesReport:
    """Outcome figures per therapist, suspected cause (the first on the baseline) and
    region, per therapist, and for the clinic.

    The episodes come from their rollup (clinic/reports/rollup.py), brought up to date
    first. Queries: 1-2 (or more, when episodes are to be worked out). the rollup's
    refresh; 3. the figures at all three levels, one pass over the episodes; 4. the
    therapists' names.
    """
    rollup.refresh_episodes(now=now)
    inner = _episodes(period, measure).values_list(
        "therapist_id", "cause", "region", "change", "mcid_at", "baseline_at"
    )
    inner_sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_outcomes_sql(inner_sql, connection.vendor), params)
        rows = cursor.fetchall()
    names = therapist_names({row[1] for row in rows if row[1] is not None})

    def outcome_row(values: tuple[Any, ...]) -> OutcomeRow:
        level, therapist_id, cause, region, episodes, measured, reached, change, days = values
        return OutcomeRow(
            therapist_id=therapist_id,
            therapist=names.get(therapist_id, "?") if therapist_id else "All therapists",
            cause=(CAUSE_LABELS.get(cause, cause) if cause else NO_CAUSE) if level == 0 else "",
            region=REGION_LABELS.get(region, region or "") if level == 0 else "",
            episodes=episodes,
            measured=measured,
            reached=reached,
            median_change=None if change is None else float(change),
            median_days=None if days is None else float(days),
        )

    levels: dict[int, list[OutcomeRow]] = defaultdict(list)
    for values in rows:
        levels[int(values[0])].append(outcome_row(values))
    detail = sorted(levels[0], key=lambda r: (r.therapist, r.cause, r.region))
    by_therapist = sorted(levels[1], key=lambda r: r.therapist)
    total = levels[2][0] if levels[2] else outcome_row((2, None, None, None, 0, 0, 0, None, None))
    groups: dict[int, list[OutcomeRow]] = defaultdict(list)
    for item in detail:
        if item.therapist_id is not None:
            groups[item.therapist_id].append(item)
    return OutcomesReport(period, measure, by_therapist, detail, total, groups=dict(groups))


# A median of fewer episodes than this is close to one patient's own score (a median of
# one is that patient's change): shown to clinicians only (docs/decisions.md).
MEDIAN_MIN_EPISODES = 5


def hide_small_medians(report: OutcomesReport) -> OutcomesReport:
    """The report without the medians of groups under MEDIAN_MIN_EPISODES measured
    episodes, for readers who may not see patients' scores (the clinic manager)."""
    for row in [*report.detail, *report.by_therapist, report.total]:
        if row.measured < MEDIAN_MIN_EPISODES:
            row.median_change = row.median_days = None
            row.hidden = True
    return report


@dataclass(frozen=True)
class PatientOutcome:
    patient_id: int
    name: str
    plan_id: int
    start_date: dt.date
    baseline: int | None
    change: int | None
    reached: bool
    days_to_mcid: float | None


# The drill-down's page: a caseload's episodes in a quarter run to a few hundred.
EPISODES_PER_PAGE = 50


def therapist_episodes(
    therapist_id: int, period: Period, measure: str, *, now: dt.datetime, page: Any = None
) -> NextPage:
    """One therapist's own episodes in the period, with the patient's name, a page of
    ``EPISODES_PER_PAGE`` by patient name: the clinical drill-down behind their outcomes
    row, from the rollup of episodes (as ``outcomes``). ``page`` is the page number asked
    for (1 when missing or not a number). Queries: 1-2 (or more), the rollup's refresh;
    then one for the page (a row more than it shows says whether there is a next one)."""
    rollup.refresh_episodes(now=now)
    # The names by primary key, one row each: a join would have the planner hash the
    # whole patient table for a caseload's worth of rows. Unordered: the model's name
    # order put a sort of that one row in each look-up.
    patient = Patient.objects.filter(pk=OuterRef("patient_id")).order_by()
    rows = (
        _episodes(period, measure)
        .filter(therapist_id=therapist_id)
        .annotate(
            first_name=Subquery(patient.values("first_name")[:1]),
            last_name=Subquery(patient.values("last_name")[:1]),
        )
        .order_by("last_name", "first_name", "start_date", "plan_id")
        .values_list(
            "patient_id",
            "first_name",
            "last_name",
            "plan_id",
            "start_date",
            "baseline",
            "change",
            "mcid_at",
            "baseline_at",
        )
    )
    found = next_page(rows, page, EPISODES_PER_PAGE)
    result = []
    for (
        patient_id,
        first,
        last,
        plan_id,
        start,
        baseline,
        change,
        mcid_at,
        baseline_at,
    ) in found.object_list:
        result.append(
            PatientOutcome(
                patient_id=patient_id,
                name=f"{first} {last}",
                plan_id=plan_id,
                start_date=start,
                baseline=baseline,
                change=change,
                reached=mcid_at is not None,
                days_to_mcid=(mcid_at - baseline_at).total_seconds() / 86400
                if mcid_at is not None
                else None,
            )
        )
    return NextPage(object_list=result, number=found.number, has_next=found.has_next)
