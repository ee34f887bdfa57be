"""The rollups of finished days behind the attendance, utilisation and adherence reports.

A report reads the days before today from a rollup and counts today and later live: its
cost then follows the number of practitioners and days, not the thousands of visits or
completions behind them. Two rollups, each with its ``ReportRollup`` row:

- VISITS (row 1), ``clinic.ReportDay``: per practitioner and local day, visits due,
  no-shows, late cancellations and booked time (attendance, utilisation);
- COMPLETIONS (row 2), ``clinic.ReportCompletionDay``: per prescribing therapist and
  day, programs running and those with a completion (adherence).

The outcomes report has a third (``refresh_episodes``), of episodes rather than days:
EPISODES (row 3), ``clinic.ReportEpisode``, one row per plan of care with its outcome for
each measure. It is described there.

``refresh`` brings a rollup up to date before each read (docs/decisions.md, caseload
reports). It reads its ``ReportRollup`` row (which days are covered, and as of when) and
the days touched by changes since then (``Appointment.updated_at``,
``ExerciseCompletion.created_at``, ``HomeExerciseProgram.updated_at``, all indexed). Only
when a day is to be counted (not covered yet, or changed) does it lock that row, delete
those days' rows and count them again in one ``INSERT ... SELECT``, then widen the
covered days and move the watermark to now.

A finished day is counted once and then only read, unless something on it changes later
(a no-show marked the next morning, a status undone, a completion recorded for a past
day, a program ended): its days are counted again on the next read. ``updated_at`` is
``auto_now`` and every service saves it with the fields it changes; a bulk ``update()``
that bypasses it would not be seen (none touches these fields). The watermark is checked
with a margin (``MARGIN``) so that a change committed just after a refresh read the
changes is still picked up by the next one; the changes a refresh counted are kept
(``ReportRollup.handled``, each row with its stamp), so the reads within the margin
after it count none of them again. Figures are therefore never stale: no
"as of" is needed on the pages.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, IntegerField, Q, Sum, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentStatus,
    ReportCompletionDay,
    ReportDay,
    ReportEpisode,
    ReportRollup,
)
from patients.localtime import clinic_zone, local_occurrence
from patients.models import Assessment
from patients.services import FUTURE_SLACK
from treatments.models import ExerciseCompletion, HomeExerciseProgram, TreatmentPlan

# Statuses of a visit that held the practitioner's time (selectors.BOOKED_STATUSES).
_BOOKED = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
]
MARGIN = dt.timedelta(minutes=5)


def _midnight(day: dt.date) -> dt.datetime:
    return local_occurrence(day, dt.time(0), clinic_zone())


def local_day() -> TruncDate:
    """A visit's day at the clinic (its start's calendar day in the clinic's zone)."""
    return TruncDate("starts_at", tzinfo=clinic_zone())


# The ReportRollup row of each rollup.
VISITS = 1
COMPLETIONS = 2
EPISODES = 3


def day_counts():
    """Visits per practitioner and local day, as ReportDay holds them (the columns in
    the table's order: practitioner, day, due, no-shows, late, booked)."""
    timely_cancel = Q(status=AppointmentStatus.CANCELLED, late_cancellation=False)
    duration = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())
    return (
        Appointment.objects.annotate(local_day=local_day())
        .values("practitioner_id", "local_day")
        .annotate(
            due=Count("id", filter=~timely_cancel),
            no_shows=Count("id", filter=Q(status=AppointmentStatus.NO_SHOW)),
            late=Count("id", filter=Q(status=AppointmentStatus.CANCELLED, late_cancellation=True)),
            booked=Sum(duration, filter=Q(status__in=_BOOKED), default=dt.timedelta()),
        )
        .order_by()
    )


def _program_days_sql(stretches: list[tuple[dt.date, dt.date]]) -> tuple[str, list]:
    """``INSERT ... SELECT`` of ReportCompletionDay rows for the days of ``stretches``:
    per prescribing therapist and day, the programs running (start date to end date) on
    one of their exercise days (``reminder_days``, as the patient's program page counts
    them: treatments/selectors.py, ``adherence_compute``) and those with a completion
    that day. A patient's day counts once, for the program prescribed last of those
    running that day (the highest id): a program ended today and a new one starting
    today, or one superseded by a program starting on or before its own start, share a
    day; that program's exercise days decide (docs/decisions.md, "Home-exercise
    programs"). The days come from a recursive series (SQLite and PostgreSQL both have
    one; only the date arithmetic differs)."""
    quote = connection.ops.quote_name
    first = min(start for start, _ in stretches)
    last = max(stop for _, stop in stretches) - dt.timedelta(days=1)
    # An exercise day: the day's weekday (Monday 0) is one of the program's.
    if connection.vendor == "postgresql":
        series = "SELECT %s::date UNION ALL SELECT (d + 1)::date FROM days WHERE d < %s::date"
        weekday = "p.reminder_days @> to_jsonb(CAST(EXTRACT(ISODOW FROM days.d) AS integer) - 1)"
    else:
        series = "SELECT date(%s) UNION ALL SELECT date(d, '+1 day') FROM days WHERE d < date(%s)"
        weekday = (
            "EXISTS (SELECT 1 FROM json_each(p.reminder_days) AS w "
            "WHERE w.value = (CAST(strftime('%%w', days.d) AS integer) + 6) %% 7)"
        )
    wanted = " OR ".join("(days.d >= %s AND days.d < %s)" for _ in stretches)
    program = quote(HomeExerciseProgram._meta.db_table)
    completion = quote(ExerciseCompletion._meta.db_table)
    table = quote(ReportCompletionDay._meta.db_table)
    sql = (
        f"WITH RECURSIVE days(d) AS ({series}) "
        f"INSERT INTO {table} (therapist_id, day, done, prescribed) "
        f"SELECT p.prescribed_by_id, days.d, COUNT(c.id), COUNT(*) "
        f"FROM days JOIN {program} p ON p.start_date <= days.d "
        f"AND (p.end_date IS NULL OR p.end_date >= days.d) AND {weekday} "
        f"AND NOT EXISTS (SELECT 1 FROM {program} q WHERE q.patient_id = p.patient_id "
        "AND q.id > p.id AND q.start_date <= days.d "
        "AND (q.end_date IS NULL OR q.end_date >= days.d)) "
        f"LEFT JOIN {completion} c ON c.program_id = p.id AND c.date = days.d "
        f"WHERE {wanted} GROUP BY p.prescribed_by_id, days.d"
    )
    params: list = [first, last]
    for start, stop in stretches:
        params += [start, stop]
    return sql, params


def _key(prefix: str, pk: int, stamp: dt.datetime) -> str:
    """One saved change of one row (``ReportRollup.handled``): the row and its stamp."""
    return f"{prefix}{pk}@{stamp.isoformat()}"


# A change and the days it touches: (key, (first day, after the last)).
_Change = tuple[str, tuple[dt.date, dt.date]]


def _changed_visits(since: dt.datetime, first: dt.date, until: dt.date) -> list[_Change]:
    """Visits saved since ``since``, among ``first`` to before ``until``, with their
    day."""
    rows = (
        Appointment.objects.filter(
            updated_at__gte=since, starts_at__gte=_midnight(first), starts_at__lt=_midnight(until)
        )
        .annotate(changed_day=local_day())
        .values_list("pk", "updated_at", "changed_day")
        .order_by()
    )
    return [(_key("v", pk, stamp), (day, day + dt.timedelta(days=1))) for pk, stamp, day in rows]


def _changed_completions(since: dt.datetime, first: dt.date, until: dt.date) -> list[_Change]:
    """Completions recorded since ``since`` (a patient marking yesterday done), with
    their day; programs prescribed since then, with the days from their start on (a
    start may be back-dated; one today or later touches no finished day); and programs
    changed since then, with the days from the day before the change on (or from the
    start, if later): services only end a program on the patient's today or later
    (treatments/services.py), and the patient's today is within a day of the clinic's.
    One query."""
    recorded = (
        ExerciseCompletion.objects.filter(created_at__gte=since, date__gte=first, date__lt=until)
        .annotate(kind=Value(0, output_field=IntegerField()))
        .values_list("kind", "pk", "created_at", "date", "date", "created_at")
        .order_by()
    )
    changed = (
        HomeExerciseProgram.objects.filter(updated_at__gte=since)
        .annotate(
            changed_day=TruncDate("updated_at", tzinfo=clinic_zone()),
            kind=Value(1, output_field=IntegerField()),
        )
        .values_list("kind", "pk", "updated_at", "changed_day", "start_date", "created_at")
        .order_by()
    )
    changes = []
    for kind, pk, stamp, day, start, created in recorded.union(changed, all=True):
        if kind == 0:
            changes.append((_key("c", pk, stamp), (day, day + dt.timedelta(days=1))))
        else:
            begin = start if created >= since else max(day - dt.timedelta(days=1), start)
            changes.append((_key("h", pk, stamp), (max(first, begin), until)))
    return changes


def _plan(
    source: int,
    first: dt.date,
    until: dt.date,
    state: ReportRollup,
    *,
    now: dt.datetime | None = None,
) -> tuple[dt.date, dt.date, list[tuple[dt.date, dt.date]], list[str]]:
    """The days the rollup will cover once ``first`` to before ``until`` is read (one
    unbroken stretch), the stretches of days (first, after last) to count for it (days
    not covered yet, and the days touched by changes since ``state.seen_at`` that the
    last count did not take in) and the changes looked at. One query (the changes, by
    their indexed timestamps), or none for an empty rollup unless ``now`` is given."""
    old_from, old_until = state.days_from, state.days_until
    changed = _changed_visits if source == VISITS else _changed_completions
    if old_from is None or old_until is None or old_from >= old_until:
        # Nothing rolled up yet: count the stretch asked for. Given ``now`` (the count
        # is about to run), its changes within the margin are looked up only to be kept
        # as handled: the count takes them in, so the reads within the margin after it
        # need not count their days again.
        if now is None:
            return first, until, [(first, until)], []
        recent = changed(now - MARGIN, first, until)
        return first, until, [(first, until)], [key for key, _ in recent]
    new_from, new_until = min(first, old_from), max(until, old_until)
    stretches = [(new_from, old_from), (old_until, new_until)]
    since = (state.seen_at or timezone.now()) - MARGIN
    changes = changed(since, old_from, old_until)
    handled = set(state.handled)
    stretches += [days for key, days in changes if key not in handled]
    stretches = sorted({(start, stop) for start, stop in stretches if start < stop})
    return new_from, new_until, stretches, [key for key, _ in changes]


def refresh(first: dt.date, until: dt.date, *, now: dt.datetime, source: int = VISITS) -> None:
    """Make the rollup of ``source`` (VISITS: ReportDay; COMPLETIONS:
    ReportCompletionDay) hold every finished day from ``first`` to before ``until`` (at
    most today), current as of ``now``.

    Two queries when nothing is to be counted (the state, the changes). Otherwise five
    more, in a transaction: the state again, locked, and the same check (two readers
    never count a day twice), delete, insert, update."""
    state, _ = ReportRollup.objects.get_or_create(pk=source)
    if not _plan(source, first, until, state)[2]:
        return
    with transaction.atomic():
        state = ReportRollup.objects.select_for_update().get(pk=state.pk)
        new_from, new_until, stretches, seen = _plan(source, first, until, state, now=now)
        if not stretches:
            return
        days, rows = Q(), Q()
        for start, stop in stretches:
            days |= Q(day__gte=start, day__lt=stop)
            rows |= Q(starts_at__gte=_midnight(start), starts_at__lt=_midnight(stop))
        if source == VISITS:
            ReportDay.objects.filter(days).delete()
            select, params = day_counts().filter(rows).query.sql_with_params()
            columns = ", ".join(
                connection.ops.quote_name(name)
                for name in ("practitioner_id", "day", "due", "no_shows", "late", "booked")
            )
            sql = f"INSERT INTO {connection.ops.quote_name(ReportDay._meta.db_table)} "
            sql += f"({columns}) {select}"
        else:
            ReportCompletionDay.objects.filter(days).delete()
            sql, params = _program_days_sql(stretches)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        ReportRollup.objects.filter(pk=state.pk).update(
            days_from=new_from, days_until=new_until, seen_at=now, handled=seen
        )


# --- Finished episodes (the outcomes report) ----------------------------------------------

_MEASURES = ("lefs", "nprs")
_EPISODE_COLUMNS = (
    "plan_id",
    "therapist_id",
    "patient_id",
    "start_date",
    "cause",
    "region",
    "baseline_at",
    *(f"{measure}_{name}" for measure in _MEASURES for name in ("baseline", "change", "mcid_at")),
)


def _changed_plans(since: dt.datetime, now: dt.datetime) -> list[tuple[int, str | None]]:
    """Plans saved since ``since`` (ended, reopened, edited), and every plan of a patient
    with an assessment saved since then (signed, amended, a late one written for a past
    day: it may be a baseline or a follow-up of any of them): each with the key of the
    change, or None for an assessment dated after ``now`` (to be worked out again once
    it is taken). One query, on the indexed ``updated_at`` of both tables, then the
    patient's plans by plan_patient_start_idx."""
    saved = (
        TreatmentPlan.objects.filter(updated_at__gte=since)
        .annotate(source=Value(0, output_field=IntegerField()))
        .values_list("source", "pk", "pk", "updated_at", "updated_at")
        .order_by()
    )
    theirs = (
        Assessment.objects.filter(updated_at__gte=since, patient__treatment_plans__isnull=False)
        .annotate(source=Value(1, output_field=IntegerField()))
        .values_list("source", "patient__treatment_plans__id", "pk", "updated_at", "assessed_at")
        .order_by()
    )
    return [
        (plan, None if source == 1 and taken > now else _key("pa"[source], pk, stamp))
        for source, plan, pk, stamp, taken in saved.union(theirs, all=True)
    ]


def _episodes_sql(plans: list[int] | None, now: dt.datetime) -> tuple[str, list]:
    """``INSERT ... SELECT`` of the ReportEpisode rows of ``plans`` (all plans when None)
    written from a signed assessment, with the outcome for each measure as the report
    defines it (selectors.outcome_expressions) as of ``now``."""
    from .selectors import measured_plans, outcome_expressions

    annotations = {}
    for measure in _MEASURES:
        for name, expression in outcome_expressions(measure, now=now).items():
            annotations[f"{measure}_{name}"] = expression
    episodes = measured_plans()
    if plans is not None:
        episodes = episodes.filter(pk__in=plans)
    # In start date order: a period's episodes then sit on few pages of the table.
    select = (
        episodes.annotate(plan_id=F("id"), **annotations)
        .order_by("start_date", "id")
        .values_list(*_EPISODE_COLUMNS)
    )
    sql, params = select.query.sql_with_params()
    columns = ", ".join(connection.ops.quote_name(name) for name in _EPISODE_COLUMNS)
    table = connection.ops.quote_name(ReportEpisode._meta.db_table)
    return f"INSERT INTO {table} ({columns}) {sql}", list(params)


# An assessment may be dated up to FUTURE_SLACK ahead (patients/services.py): an active
# plan worked out before that moment left it out, as not yet taken. Looking its change
# up for that much longer works the plan out again once it has been taken.
EPISODE_MARGIN = MARGIN + FUTURE_SLACK


def refresh_episodes(*, now: dt.datetime) -> None:
    """Make ReportEpisode hold every plan of care written from a signed assessment, with
    its outcome as of ``now`` (docs/decisions.md, caseload reports).

    A plan's outcome depends only on the plan and its patient's signed assessments (for
    an active plan, those taken by now), so it is worked out once and kept. It is worked
    out again when the plan is saved (ended, reopened) or any assessment of its patient
    is saved (signed, amended, written late for a past day): ``updated_at`` on both,
    ``auto_now``, saved by every service; a bulk ``update()`` would not be seen. The
    watermark is read with ``EPISODE_MARGIN``: a change committed just after a refresh
    read the changes, and an assessment dated a few minutes ahead, are picked up by a
    later one. A change a refresh took in (its key in ``ReportRollup.handled``: the row
    and its stamp) is not worked out again by the reads after it, so they cost what any
    read costs; one it could not see yet (committed late) has a key it does not hold.

    Two queries when nothing is to be worked out (the state, the changes); otherwise, in
    a transaction: the state again, locked, the changes again, delete, insert, update.
    The first read works out every plan, and looks the changes up only to keep their
    keys: the reads within the margin after it then work none of them out again."""
    state, _ = ReportRollup.objects.get_or_create(pk=EPISODES)
    if state.seen_at is not None and not _to_work_out(state, now)[0]:
        return
    with transaction.atomic():
        state = ReportRollup.objects.select_for_update().get(pk=state.pk)
        plans: list[int] | None = None
        if state.seen_at is None:
            seen = _to_work_out(state, now)[1]
        else:
            plans, seen = _to_work_out(state, now)
            if not plans:
                return
        stale = ReportEpisode.objects.all()
        if plans is not None:
            stale = stale.filter(plan_id__in=plans)
        stale.delete()
        sql, params = _episodes_sql(plans, now)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        ReportRollup.objects.filter(pk=state.pk).update(seen_at=now, handled=seen)


def _to_work_out(state: ReportRollup, now: dt.datetime) -> tuple[list[int], list[str]]:
    """The plans with a change since ``state.seen_at`` that the last refresh did not take
    in, and the keys of the changes looked at (``ReportRollup.handled``)."""
    changes = _changed_plans((state.seen_at or now) - EPISODE_MARGIN, now)
    handled = set(state.handled)
    plans = sorted({plan for plan, key in changes if key is None or key not in handled})
    return plans, sorted({key for _, key in changes if key is not None})
