"""The needs-attention rules, computed for one therapist's patients at once.

"Their patients" (the caseload) are the patients, not archived, with an active plan of
care written by the therapist, in name order. A slice of
them (``_caseload_sql``) and the rules for it cost one query together, whatever the
number of patients and the length of their history (``_rules_sql``): a UNION ALL of one
part per rule, each reading only the few latest rows it needs, picked in the database
(on PostgreSQL a LIMIT per patient on an index, elsewhere a window function: ROW_NUMBER
per patient), prepared once per database connection on PostgreSQL (patients/sql.py),
read as plain tuples with moments as seconds since the epoch (worded only for the rows a
page shows):

1. the next live visit booked from now on (read with the caseload) and, only for a
   patient without one, the latest past live visit (each a LIMIT 1 on an index) and the
   latest such plan;
2. each patient's two latest pain reports (every source: assessments, visits, email
   check-ins);
3. each patient's two latest LEFS totals from signed assessments with a total and from
   completed patient questionnaires;
4. each patient's latest past visits (``ATTENTION_MISSED_IN_A_ROW`` of them), timely
   cancellations left out: those were not visits;
5. the active home program with the date of its latest done exercise;
6. the latest acknowledgement of each patient and reason.

Pages show a bounded list (``needs_attention_first``): the rules run for the first
patients by name (after a given one, for the page's next pages), enough to fill the
list, not for the whole caseload, so Today and the Needs attention page cost the same
for a caseload of 20 or 500 (docs/decisions.md, "Needs attention"). Acknowledging uses
``needs_attention`` for its one patient.

Thresholds are clinic settings (clinic/settings.py, docs/clinical.md §2 and §3).

Each reason carries a ``key`` naming the data that raised it (the latest pain report, the
latest LEFS, the latest missed visit...). An acknowledgement stores that key and hides the
reason while the key is the same; newer data gives a new key and the reason is back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinic.models import (
    LIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
    AttentionAcknowledgement,
    AttentionReason,
)
from patients import sql as prepared
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
from patients.selectors import epoch_sql
from treatments.models import (
    ExerciseCompletion,
    HomeExerciseProgram,
    PlanStatus,
    ProgramStatus,
    TreatmentPlan,
)

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


class LefsPoint(NamedTuple):
    """A LEFS total (a tuple: a page's first pass reads about a hundred)."""

    when: float  # seconds since the epoch
    key: str  # "assessment:<id>" or "questionnaire:<id>"
    total: int


def _day(moment: float, zone: dt.tzinfo) -> str:
    """A moment (seconds since the epoch) as "3 Nov 2026" in ``zone``."""
    return _date_words(dt.datetime.fromtimestamp(moment, zone))


def _date_words(day: dt.date) -> str:
    """A date as "3 Nov 2026"."""
    return f"{day.day} {_month(day.year, day.month)}"


@cache
def _month(year: int, month: int) -> str:
    """ "Nov 2026", formatted once: strftime cost more than the rest of a row's words."""
    return f"{dt.date(year, month, 1):%b %Y}"


def needs_attention(therapist: User, *, patient_id: int | None = None) -> list[Row]:
    """The therapist's patients that need attention, each with every reason that applies
    and has not been acknowledged for the same data; ordered by name. Every patient of
    the caseload is checked, or the one patient ``patient_id``."""
    return _evaluate(therapist, patient_id=patient_id)[0]


def needs_attention_first(
    therapist: User, limit: int, *, after: int | None = None
) -> tuple[list[Row], bool]:
    """The first ``limit`` rows of ``needs_attention`` (by name), or the first after the
    patient ``after`` in the caseload's name order (the list's next pages), and whether
    more patients need attention: what Today and the list page show.

    The rules are checked for the caseload's first ``_first_pass(limit + 1)`` patients
    by name, and for the rest only when those give fewer than ``limit + 1`` rows; so the
    cost follows the rows shown, not the caseload: one query in one pass, two at most
    (docs/decisions.md, "Needs attention").
    """
    want = limit + 1
    first = _first_pass(want)
    rows, checked = _evaluate(therapist, limit=first, enough=want, after=after)
    if len(rows) < want and checked == first:
        rows += _evaluate(therapist, offset=first, enough=want - len(rows), after=after)[0]
    return rows[:limit], len(rows) > limit


def _first_pass(want: int) -> int:
    """How many patients the first pass checks to find ``want`` rows: twice as many,
    and at least ``CHUNK_SLACK`` more. In a seeded clinic group three patients in five
    of a caseload need attention (bench/pages.py). At that share, 12 patients checked
    for Today's 6 rows gave fewer than 6 about one time in six (a second pass, the rest
    of the caseload, one query and about 10 ms more at 20,000 patients); 20 give fewer
    about one time in 600. For the page's 26 rows, 52 give fewer about one time in 20.
    Each patient more costs about 20 microseconds of the query."""
    return max(CHUNK_FACTOR * want, want + CHUNK_SLACK)


CHUNK_FACTOR = 2
CHUNK_SLACK = 14


def _caseload_sql(*, one: bool, limit: int | None, offset: int, after: bool = False) -> str:
    """The CTE ``chunk``: the therapist's patients (not archived, an active plan they
    wrote) by name, from ``offset``, at most ``limit`` of them, each with its place in
    the caseload (``pos``) and its next live visit. With ``after``, only those after a
    given patient (a parameter) by (last name, first name, id): the list's next page.

    The active plans are read first (plan_therapist_active_idx) and the patients by
    primary key: joined or with IN, the planner hashed the plans against a scan of every
    patient of the clinic; PostgreSQL reads ``= ANY(ARRAY(...))`` from the primary key."""
    q = connection.ops.quote_name
    plan = q(TreatmentPlan._meta.db_table)
    patient = q(Patient._meta.db_table)
    plans = f"SELECT patient_id FROM {plan} WHERE therapist_id = %s AND status = %s"
    if one:
        plans += " AND patient_id = %s"
    window = f" LIMIT {int(limit)}" if limit is not None else (" LIMIT -1" if offset else "")
    if offset and connection.vendor == "postgresql":
        window = window.replace("LIMIT -1", "LIMIT ALL")
    if offset:
        window += f" OFFSET {int(offset)}"
    following = (
        " AND (p.last_name, p.first_name, p.id) > (SELECT k.last_name, k.first_name, k.id "
        f"FROM {patient} AS k WHERE k.id = %s)"
        if after
        else ""
    )
    # The next live visit: a correlated LIMIT 1 on appt_patient_start_idx (patient,
    # starts_at), run only for the patients the LIMIT keeps; an EXISTS was planned as a
    # hash of every future visit in the clinic.
    next_visit = (
        f"(SELECT a.id FROM {q(Appointment._meta.db_table)} AS a WHERE a.patient_id = p.id "
        "AND a.starts_at >= %s AND a.status IN (%s, %s) ORDER BY a.starts_at LIMIT 1)"
    )
    return (
        "WITH chunk (pid, pos, first_name, last_name, next_id) AS ("
        "SELECT p.id, ROW_NUMBER() OVER (ORDER BY p.last_name, p.first_name, p.id), "
        f"p.first_name, p.last_name, {next_visit} "
        f"FROM {patient} AS p WHERE p.archived_at IS NULL AND p.id {_members(plans)}"
        f"{following} ORDER BY p.last_name, p.first_name, p.id{window}) "
    )


def _date(epoch: float) -> dt.date:
    """A date column read as seconds since the epoch (``epoch_sql``)."""
    return _EPOCH_DAY + dt.timedelta(days=round(epoch / 86400))


_EPOCH_DAY = dt.date(1970, 1, 1)


def _members(subquery: str) -> str:
    """SQL for "is one of the ids ``subquery`` gives". PostgreSQL reads ``=
    ANY(ARRAY(...))`` as an index condition; with IN it may hash a whole table."""
    if connection.vendor == "postgresql":
        return f"= ANY(ARRAY({subquery}))"
    return f"IN ({subquery})"


# A literal in the SQL (the rules' part 5): a word of letters only.
_ACTIVE_PROGRAM = ProgramStatus.ACTIVE.value
assert _ACTIVE_PROGRAM.isalpha()


def _rules_sql() -> str:
    """The rules for the patients of ``chunk`` (``_caseload_sql``) in one query: a UNION
    ALL of one part per rule, every part with the same columns (kind, patient, rank, id,
    number, moment, second moment, word, second word), each part reading only the few
    latest rows it needs (``latest``). The first part
    also gives each patient's place, name and plan."""
    q = connection.ops.quote_name
    appointment = q(Appointment._meta.db_table)
    pain = q(PainReport._meta.db_table)
    assessment = q(Assessment._meta.db_table)
    questionnaire = q(QuestionnaireResponse._meta.db_table)
    program = q(HomeExerciseProgram._meta.db_table)
    completion = q(ExerciseCompletion._meta.db_table)
    ack = q(AttentionAcknowledgement._meta.db_table)
    treatment_plan = q(TreatmentPlan._meta.db_table)
    chunk = "SELECT pid FROM chunk"
    live = ", ".join(["%s"] * len(LIVE_APPOINTMENT_STATUSES))

    def latest(kind: str, table: str, columns: str, where: str, order: str, limit: str) -> str:
        if connection.vendor == "postgresql":
            # Per patient, a LIMIT on its (patient, moment) index: only the rows
            # wanted. Ranked over the chunk, every row of its patients was read and
            # sorted, and in a small clinic the planner hashed a scan of the table.
            # No rank: the rows are put in order in Python (the sort key), which saves a
            # window node per patient and rule.
            return (
                f"SELECT '{kind}', pid, 0, id, num, at, NULL, word, NULL, NULL FROM chunk "
                f"CROSS JOIN LATERAL (SELECT id, {columns} FROM {table} "
                f"WHERE patient_id = pid AND {where} ORDER BY {order} LIMIT {limit}) AS ranked"
            )
        return (
            f"SELECT '{kind}', patient_id, rk, id, num, at, NULL, word, NULL, NULL FROM ("
            f"SELECT patient_id, id, {columns}, ROW_NUMBER() OVER "
            f"(PARTITION BY patient_id ORDER BY {order}) AS rk FROM {table} "
            f"WHERE patient_id IN ({chunk}) AND {where}) AS ranked WHERE rk <= {limit}"
        )

    # The latest past live visit (its id, then its moment) and the latest active plan
    # of care the therapist wrote, which only the "no next visit" reason words: read
    # only for a patient with no next visit (a quarter of a seeded caseload).
    last_live = (
        "CASE WHEN next_id IS NULL THEN (SELECT {column} FROM "
        f"{appointment} WHERE patient_id = pid AND starts_at < %s AND status IN ({live}) "
        "ORDER BY starts_at DESC, id DESC LIMIT 1) END"
    )
    latest_plan = (
        f"CASE WHEN next_id IS NULL THEN (SELECT MAX(tp.id) FROM {treatment_plan} AS tp "
        "WHERE tp.therapist_id = %s AND tp.status = %s AND tp.patient_id = pid) END"
    )
    parts = [
        # 1. The next live visit (the chunk's) and, without one, the latest past live
        #    visit and the plan.
        "SELECT 'v', pid, pos, next_id, "
        f"{last_live.format(column='id')}, {last_live.format(column=epoch_sql('starts_at'))}, "
        f"CAST(NULL AS double precision), first_name, last_name, {latest_plan} FROM chunk",
        # 2. The two latest pain reports (every source).
        latest(
            "p",
            pain,
            f"score AS num, {epoch_sql('reported_at')} AS at, CAST(NULL AS text) AS word",
            "1 = 1",
            "reported_at DESC, id DESC",
            "2",
        ),
        # 3. The two latest LEFS totals from signed assessments and from completed
        #    patient questionnaires (questionnaire_patient_done_idx).
        latest(
            "a",
            assessment,
            f"lefs_total AS num, {epoch_sql('assessed_at')} AS at, CAST(NULL AS text) AS word",
            "status = %s AND lefs_total IS NOT NULL",
            "assessed_at DESC, id DESC",
            "2",
        ),
        latest(
            "q",
            questionnaire,
            f"total AS num, {epoch_sql('completed_at')} AS at, CAST(NULL AS text) AS word",
            "instrument = %s AND status = %s",
            "completed_at DESC, id DESC",
            "2",
        ),
        # 4. The latest past visits; a timely cancellation was not a visit.
        latest(
            "m",
            appointment,
            f"CAST(NULL AS integer) AS num, {epoch_sql('starts_at')} AS at, status AS word",
            "starts_at < %s AND NOT (status = %s AND late_cancellation = %s)",
            "starts_at DESC, id DESC",
            "%s",
        ),
        # 5. Active home programs, with the date of the latest done exercise. The one
        #    active program per patient read by its unique index; with IN the planner
        #    hashed every active program of the clinic. The status is written in, not a
        #    parameter: the index is partial (program_one_active_per_patient), and the
        #    one plan a prepared statement keeps (clinic/settings.py) cannot use it for
        #    a parameter's value.
        f"SELECT 'h', patient_id, 0, id, NULL, {epoch_sql('start_date')}, "
        f"(SELECT {epoch_sql('MAX(date)')} FROM {completion} WHERE program_id = hp.id), "
        f"NULL, NULL, NULL FROM {program} AS hp WHERE patient_id {_members(chunk)} "
        f"AND status = '{_ACTIVE_PROGRAM}'",
        # 6. The latest acknowledgement of each patient and reason.
        f"SELECT 'k', patient_id, rk, 0, NULL, NULL, NULL, reason, trigger_key, NULL FROM ("
        f"SELECT patient_id, reason, trigger_key, ROW_NUMBER() OVER (PARTITION BY "
        f"patient_id, reason ORDER BY created_at DESC, id DESC) AS rk FROM {ack} "
        f"WHERE patient_id IN ({chunk})) AS ranked WHERE rk = 1",
    ]
    return " UNION ALL ".join(parts)


def _evaluate(
    therapist: User,
    *,
    patient_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
    enough: int | None = None,
    after: int | None = None,
) -> tuple[list[Row], int]:
    """The rules for the therapist's patients by name (``_caseload_sql``: from
    ``offset``, at most ``limit``; or the one patient ``patient_id``) in one query
    whatever their number and history (``_rules_sql``), read as plain tuples. Gives the
    rows that need attention, by name (the first ``enough`` of them, if given), and how
    many patients were checked."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    today = timezone.localdate()
    zone = timezone.get_current_timezone()  # once: each look-up costs as much as a date's words
    limits = _Limits.read()
    in_a_row = limits.missed_in_a_row
    active = PlanStatus.ACTIVE.value
    live = [str(status) for status in LIVE_APPOINTMENT_STATUSES]
    params: list[Any] = [
        now,
        AppointmentStatus.BOOKED.value,
        AppointmentStatus.CHECKED_IN.value,
        therapist.pk,
        active,
        *([patient_id] if patient_id is not None else []),
        *([after] if after is not None else []),
        now,
        *live,
        now,
        *live,
        therapist.pk,
        active,
        RecordStatus.SIGNED.value,
        QuestionnaireInstrument.LEFS.value,
        QuestionnaireStatus.COMPLETED.value,
        now,
        AppointmentStatus.CANCELLED.value,
        False,
        in_a_row,
    ]
    sql = (
        _caseload_sql(
            one=patient_id is not None, limit=limit, offset=offset, after=after is not None
        )
        + _rules_sql()
    )
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params, label="attention")
        found = cursor.fetchall()

    people: list[tuple[int, int, str, int | None]] = []  # place, patient, name, plan
    next_visit: dict[int, int | None] = {}
    last_live: dict[int, tuple[int, float]] = {}  # the latest past live visit, its moment
    pain: dict[int, list[tuple[Any, int, int, float]]] = defaultdict(list)
    lefs: dict[int, list[LefsPoint]] = defaultdict(list)
    visits: dict[int, list[tuple[Any, int, float, str]]] = defaultdict(list)
    programs: dict[int, _Program] = {}
    acknowledged = set()
    # Pain reports and past visits start with a sort key, (rank, -moment, -id), that puts
    # a patient's rows of one rule latest first (moment, then id), as the query's ORDER
    # BY did: on PostgreSQL the rank is 0 and the moment decides; elsewhere the query's
    # rank (ROW_NUMBER) does, as SQLite's moments are rounded to the millisecond.
    for kind, pk, rank, row_id, num, at, at2, word, word2, ref in found:
        if kind == "v":
            next_visit[pk] = row_id
            if num is not None:
                last_live[pk] = (num, at)
            people.append((rank, pk, f"{word} {word2}", ref))
        elif kind == "p":
            pain[pk].append(((rank, -at, -row_id), row_id, num, at))
        elif kind == "a":
            lefs[pk].append(LefsPoint(at, f"assessment:{row_id}", num))
        elif kind == "q":
            lefs[pk].append(LefsPoint(at, f"questionnaire:{row_id}", num))
        elif kind == "m":
            visits[pk].append(((rank, -at, -row_id), row_id, at, word))
        elif kind == "h":
            programs[pk] = (row_id, at, at2)
        else:
            acknowledged.add((pk, word, word2))

    people.sort()  # by place in the caseload: by name
    rows: list[Row] = []
    patient_link = path_maker("patients:detail", 1)  # once, not per row (links.py)
    for _, pk, name, plan_id in people:
        if len(rows) == enough:
            break
        last_live_id, last_live_at = last_live.get(pk, (None, None))
        flags = [
            *_pain_flags(pain[pk], zone, limits),
            *_lefs_flags(lefs[pk], zone, limits),
            *_program_flags(programs.get(pk), today, limits),
            *_missed_flags(visits[pk], in_a_row, zone),
            *_next_visit_flags(next_visit[pk], plan_id, last_live_id, last_live_at, zone),
        ]
        flags = [f for f in flags if (pk, f.reason, f.key) not in acknowledged]
        if flags:
            rows.append(Row(patient_id=pk, name=name, flags=flags, link=patient_link(pk)))
    return rows, len(people)


class _Limits(NamedTuple):
    """The clinic's thresholds (clinic/settings.py, docs/clinical.md §2 and §3), read
    once per pass rather than once per patient."""

    pain_score: int
    pain_rise: int
    lefs_fall: int
    no_exercise_days: int
    missed_in_a_row: int

    @classmethod
    def read(cls) -> _Limits:
        return cls(
            settings.ATTENTION_PAIN_SCORE,
            settings.ATTENTION_PAIN_RISE,
            settings.ATTENTION_LEFS_FALL,
            settings.ATTENTION_NO_EXERCISE_DAYS,
            settings.ATTENTION_MISSED_IN_A_ROW,
        )


def _pain_flags(
    reports: list[tuple[Any, int, int, float]], zone: dt.tzinfo, limits: _Limits
) -> list[Flag]:
    if not reports:
        return []
    reports.sort()  # the latest first (the sort key)
    _, latest_id, score, at = reports[0]
    key = f"pain:{latest_id}"
    flags = []
    if score >= limits.pain_score:
        flags.append(
            Flag(
                AttentionReason.PAIN_HIGH,
                lambda: (
                    f"Pain {score}/10 reported on {_day(at, zone)} "
                    f"(flagged from {limits.pain_score}/10)."
                ),
                key,
            )
        )
    if len(reports) > 1:
        _, _, previous, previous_at = reports[1]
        rise = score - previous
        if rise >= limits.pain_rise:
            flags.append(
                Flag(
                    AttentionReason.PAIN_RISE,
                    lambda: (
                        f"Pain rose {rise} points, from {previous}/10 on "
                        f"{_day(previous_at, zone)} to {score}/10 on {_day(at, zone)}."
                    ),
                    key,
                )
            )
    return flags


def _lefs_flags(points: list[LefsPoint], zone: dt.tzinfo, limits: _Limits) -> list[Flag]:
    if len(points) < 2:
        return []
    newer, older = sorted(points, reverse=True)[:2]  # by moment, then key
    fall = older.total - newer.total
    if fall < limits.lefs_fall:
        return []
    return [
        Flag(
            AttentionReason.LEFS_FALL,
            lambda: (
                f"LEFS fell {fall} points, from {older.total}/80 on {_day(older.when, zone)} to "
                f"{newer.total}/80 on {_day(newer.when, zone)}."
            ),
            f"lefs:{newer.key}",
        )
    ]


# The active program: id, start date and latest done date, each as seconds since the
# epoch (dates only for the programs old enough to matter).
_Program = tuple[int, float, float | None]


def _program_flags(program: _Program | None, today: dt.date, limits: _Limits) -> list[Flag]:
    days = limits.no_exercise_days
    if program is None:
        return []
    program_id, start_epoch, done_epoch = program
    started = _date(start_epoch)
    if (today - started).days < days:
        return []
    last_done = None if done_epoch is None else _date(done_epoch)
    idle = (today - (last_done or started)).days
    if idle < days:
        return []

    def text() -> str:
        if last_done:
            return (
                f"No exercise marked done for {idle} days (last done on {_date_words(last_done)})."
            )
        return (
            "No exercise marked done since the program started on "
            f"{_date_words(started)} ({idle} days)."
        )

    return [Flag(AttentionReason.NO_EXERCISE, text, f"program:{program_id}:{last_done}")]


# Statuses of a missed visit, as read (a cancellation left in by the query was late).
_MISSED = frozenset({AppointmentStatus.NO_SHOW.value, AppointmentStatus.CANCELLED.value})


def _missed_flags(
    visits: list[tuple[Any, int, float, str]], in_a_row: int, zone: dt.tzinfo
) -> list[Flag]:
    if len(visits) < in_a_row or in_a_row < 1:
        return []
    visits.sort()  # the latest first (the sort key)
    # Left out in the query: timely cancellations; so a cancelled visit here was late.
    if not all(v[3] in _MISSED for v in visits):
        return []

    def text() -> str:
        words = ", ".join(
            ("no-show" if status == AppointmentStatus.NO_SHOW else "late cancellation")
            + f" on {_day(at, zone)}"
            for _, _, at, status in reversed(visits)
        )
        return f"Missed the last {in_a_row} visits in a row: {words}."

    return [Flag(AttentionReason.MISSED_VISITS, text, f"missed:{visits[0][1]}")]


def _next_visit_flags(
    next_visit_id: int | None,
    plan_id: int | None,  # read only for a patient without a next visit
    last_live_id: int | None,
    last: float | None,
    zone: dt.tzinfo,
) -> list[Flag]:
    if next_visit_id is not None:
        return []

    def text() -> str:
        since = f"last visit on {_day(last, zone)}" if last is not None else "no visit yet"
        return f"Active plan of care and no next visit booked ({since})."

    return [Flag(AttentionReason.NO_NEXT_VISIT, text, f"plan:{plan_id}:after:{last_live_id}")]
