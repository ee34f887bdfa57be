"""Reads for scheduling pages. Each loads what its page shows in a fixed number of
queries, whatever the number of appointments (the tests pin the counts)."""

from __future__ import annotations

import calendar
import datetime as dt
import html
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString

from clinic.models import (
    LIVE_APPOINTMENT_STATUSES,
    MAX_APPOINTMENT_DURATION,
    Appointment,
    AppointmentKind,
    AppointmentSeries,
    AppointmentStatus,
    ClinicClosure,
    Practitioner,
    Room,
    SchedulingSettings,
    TimeOff,
    WorkingHours,
    closed_message,
    overlapping,
)
from patients import sql as prepared
from patients.links import path_maker, when, when_maker
from patients.localtime import UTC, clinic_today, clinic_zone, local_datetime, local_occurrence
from patients.models import Patient
from patients.selectors import epoch_sql, moment

from .availability import Availability, full_intervals, merge_first

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# Every status but cancelled: what the calendar and Today show.
SHOWN_STATUSES = [s for s in AppointmentStatus if s != AppointmentStatus.CANCELLED]

DAY_START_HOUR = 7
DAY_END_HOUR = 19


def scheduling_settings() -> SchedulingSettings:
    """The clinic's booking rules (defaults until a manager saves them)."""
    return SchedulingSettings.objects.filter(pk=1).first() or SchedulingSettings(pk=1)


def kind_durations(rules: SchedulingSettings) -> dict[str, list[int]]:
    """Usual lengths per kind of visit, in minutes; the first is the default."""
    return {
        AppointmentKind.INITIAL_EVALUATION: [rules.initial_evaluation_minutes],
        AppointmentKind.FOLLOW_UP: [rules.follow_up_minutes, rules.follow_up_long_minutes],
        AppointmentKind.REASSESSMENT: [rules.reassessment_minutes],
        AppointmentKind.DISCHARGE: [rules.discharge_minutes],
    }


# Access-checked getters ------------------------------------------------------------


def get_appointment_for_user(user: User, appointment_id: int) -> Appointment:
    if not user.has_perm("clinic.view_appointment"):
        raise PermissionDenied
    return get_object_or_404(
        Appointment.objects.select_related(
            "patient",
            "practitioner",
            "room",
            "series",
            "rescheduled_from",
            "rescheduled_to",
            "created_by",
        ),
        pk=appointment_id,
    )


def get_practitioner_for_user(user: User, practitioner_id: int) -> Practitioner:
    if not user.has_perm("clinic.view_practitioner"):
        raise PermissionDenied
    return get_object_or_404(Practitioner.objects.select_related("user"), pk=practitioner_id)


def active_practitioners() -> QuerySet[Practitioner]:
    return Practitioner.objects.filter(active=True).order_by("display_name", "id")


def get_week_practitioners_for_user(
    user: User, practitioner_id: int
) -> tuple[Practitioner, list[Practitioner]]:
    """The practitioner whose week is shown (active or not) and the active ones for the
    week view's switcher, in the switcher's order. Queries: 1 (both at once)."""
    if not user.has_perm("clinic.view_practitioner"):
        raise PermissionDenied
    either = Q(active=True) | Q(pk=practitioner_id)
    shown = list(Practitioner.objects.filter(either).order_by("display_name", "id"))
    practitioner = next((p for p in shown if p.pk == practitioner_id), None)
    if practitioner is None:
        raise Http404("No Practitioner matches the given query.")  # as get_object_or_404
    return practitioner, [p for p in shown if p.active]


class WeekLink(NamedTuple):
    """A practitioner in the week view's switcher, linking to their week."""

    practitioner_id: int
    name: str
    href: str


def week_links(practitioners: list[Practitioner], day: dt.date) -> list[WeekLink]:
    """Each practitioner's week of ``day``, for the switcher: the path reversed once, not
    a url tag and a date filter per practitioner. No query."""
    week_path = path_maker("scheduling:week", 1)
    return [
        WeekLink(p.pk, p.display_name, f"{week_path(p.pk)}?date={day:%Y-%m-%d}")
        for p in practitioners
    ]


def bookable_patients() -> QuerySet[Patient]:
    from patients.models import Patient

    return Patient.objects.filter(archived_at__isnull=True).order_by("last_name", "first_name")


# Clinic closures -------------------------------------------------------------------


def _closed_from(rows: Any, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """Local date -> reason from closures' (starts_on, ends_on, reason), first to last."""
    closed: dict[dt.date, str] = {}
    for starts_on, ends_on, reason in rows:
        day = max(starts_on, first)
        while day <= min(ends_on, last):
            closed.setdefault(day, reason)
            day += dt.timedelta(days=1)
    return closed


# The calendar ---------------------------------------------------------------------


@dataclass(frozen=True)
class LegendItem:
    """One entry of the calendar's legend: ``key`` names its colours in
    clinic/static/clinic/scheduling.css (the ``cal-swatch-<key>`` class and the
    ``--cal-<key>-*`` custom properties)."""

    key: str
    label: str


def calendar_legend() -> list[LegendItem]:
    """What the day and week views' colours mean, in the order the legend shows them:
    each status the grid shows, then the shadings. New shading (clinic closures, say)
    adds its item here and its colours in scheduling.css; the colour test then checks
    its contrast. No query."""
    return [
        *(LegendItem(status.value, str(status.label)) for status in SHOWN_STATUSES),
        LegendItem("away", "Away (time off)"),
        LegendItem("outside", "Outside working hours"),
        LegendItem("closed", "Clinic closed"),
    ]


class CalendarVisit(NamedTuple):
    """A visit as the calendar grid shows it: plain values read in one query, no model
    instances (docs/decisions.md, "Pages at a clinic group's size")."""

    id: int
    practitioner_id: int
    patient_id: int
    room_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    status: str
    # The patient confirmed from the reminder's link (confirmed_at is set).
    confirmed: bool
    first_name: str
    last_name: str
    room_name: str | None


# A visit this short shows two one-line rows, not three its block's height would clip.
COMPACT_VISIT = dt.timedelta(minutes=30)


@dataclass(slots=True)
class Block:
    """Something placed on the calendar grid, positioned in percent of the day's span."""

    top: float
    height: float
    visit: CalendarVisit | None = None
    label: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    lane: int = 0
    lanes: int = 1
    # A free slot: a link to book it (the calendar's click-to-book).
    free: bool = False
    # A visit's or free slot's whole link, set (and escaped) once by ``_present``, which
    # joins them into its column's markup.
    html: str = ""

    @property
    def compact(self) -> bool:
        """Up to 30 minutes: two one-line rows (time and patient, kind and status), not
        three that the block's height would clip."""
        return (
            self.start is not None
            and self.end is not None
            and self.end - self.start <= COMPACT_VISIT
        )


@dataclass
class Column:
    title: str
    day: dt.date
    practitioner: Practitioner
    is_today: bool = False
    visits: list[Block] = field(default_factory=list)
    working: list[Block] = field(default_factory=list)
    away: list[Block] = field(default_factory=list)
    free: list[Block] = field(default_factory=list)
    # The reason the whole clinic is closed that day ("" when open).
    closed: str = ""
    # The column's head and body (its bands, hour lines and links), built by ``_present``.
    head_html: str = ""
    html: str = ""

    @property
    def entries(self) -> list[Block]:
        """Visits and free slots in time order: the order a keyboard or a screen reader
        meets them."""
        return sorted(
            [*self.visits, *self.free],
            key=lambda b: (b.start or dt.datetime.min.replace(tzinfo=UTC), b.free),
        )


@dataclass
class Grid:
    start_minute: int
    end_minute: int
    columns: list[Column]
    tz_name: str = ""
    # The length a free slot's link books (the follow-up default), in minutes.
    free_minutes: int = 0
    # The hour labels beside the columns (set by ``_present``).
    hour_labels: str = ""

    @property
    def hours(self) -> list[tuple[int, float]]:
        span = self.end_minute - self.start_minute
        return [
            (m // 60, (m - self.start_minute) * 100 / span)
            for m in range(self.start_minute, self.end_minute, 60)
        ]

    @property
    def height_rem(self) -> float:
        # 4.5 rem an hour: a 30-minute visit shows its two lines.
        return (self.end_minute - self.start_minute) / 60 * 4.5


def _minute_of(local: dt.datetime, day: dt.date) -> int:
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def _day_bounds(day: dt.date, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _assign_lanes(blocks: list[Block]) -> None:
    """Side by side where visits overlap (a no-show next to its replacement)."""
    lane_ends: list[dt.datetime] = []
    for block in sorted(blocks, key=lambda b: (b.start, b.end)):
        assert block.start is not None and block.end is not None  # visits have both
        for lane, end in enumerate(lane_ends):
            if end <= block.start:
                block.lane, lane_ends[lane] = lane, block.end
                break
        else:
            block.lane = len(lane_ends)
            lane_ends.append(block.end)
    for block in blocks:
        block.lanes = max(1, len(lane_ends))


def _free_slots(
    columns: list[Column],
    appointments: list[CalendarVisit],
    availability: Availability,
    rules: SchedulingSettings,
) -> dict[tuple[int, dt.date], list[dt.datetime]]:
    """Free slots of the follow-up length per column, from now on, from what the grid
    already loaded (no query): ``availability``'s hours, time off and closures, and the
    grid's live visits, which this adds to it as busy."""
    for appointment in appointments:
        if appointment.status in LIVE_APPOINTMENT_STATUSES:
            availability.add_busy(
                appointment.practitioner_id, appointment.starts_at, appointment.ends_at
            )
    now = timezone.now()
    length = dt.timedelta(minutes=rules.follow_up_minutes)
    step = dt.timedelta(minutes=rules.slot_step_minutes)
    return {
        (c.practitioner.pk, c.day): availability.bookable_slots(
            c.practitioner.pk, c.day, after=now, length=length, step=step
        )
        for c in columns
    }


def _build_grid(
    columns: list[Column],
    appointments: list[CalendarVisit],
    availability: Availability,
    tz: dt.tzinfo,
    rules: SchedulingSettings | None = None,
) -> Grid:
    """The columns' bands, visits and (with ``rules``) free slots placed on one time
    scale. ``availability``: the working hours, time off and closures of the columns'
    practitioners and days (``hours_time_off_closures``)."""
    closed = availability.closed
    for shown in columns:
        shown.closed = closed.get(shown.day, "")
    lo, hi = DAY_START_HOUR * 60, DAY_END_HOUR * 60
    by_key = {(c.practitioner.pk, c.day): c for c in columns}
    placed: list[tuple[Column, int, int, str, Any]] = []  # (column, start, end, kind, payload)
    column: Column | None
    for column in columns:
        week = availability.hours.get(column.practitioner.pk, {})
        for begins, ends in week.get(column.day.weekday(), []):  # by start
            s, e = begins.hour * 60 + begins.minute, ends.hour * 60 + ends.minute
            placed.append((column, s, e, "working", None))
    # Visits on their own, with the fewest steps each: a day shows hundreds.
    visits: list[tuple[Column, int, int, CalendarVisit, dt.datetime, dt.datetime]] = []
    first, last = lo, hi
    for appointment in appointments:
        local_start = appointment.starts_at.astimezone(tz)
        column = by_key.get((appointment.practitioner_id, local_start.date()))
        if column is None:
            continue
        local_end = appointment.ends_at.astimezone(tz)
        s = local_start.hour * 60 + local_start.minute  # the column's day is the start's
        e = max(_minute_of(local_end, column.day), s + 15)
        if s < first:
            first = s
        if e > last:
            last = e
        visits.append((column, s, e, appointment, local_start, local_end))
    for column in columns:
        away = availability.time_off.get(column.practitioner.pk)
        if not away:
            continue
        day_start, day_end = _day_bounds(column.day, tz)
        for off_start, off_end, reason in away:
            if off_start < day_end and off_end > day_start:
                s = _minute_of(max(off_start, day_start).astimezone(tz), column.day)
                e = _minute_of(min(off_end, day_end).astimezone(tz), column.day)
                placed.append((column, s, e, "away", reason or "Time off"))
    for _, s, e, kind, _ in placed:
        if kind != "away":
            first, last = min(first, s), max(last, e)
    # Whole hours around every working block and visit (time off is cut to them).
    lo, hi = first // 60 * 60, -(-last // 60) * 60
    span = hi - lo
    for column, s, e, kind, payload in placed:
        s, e = max(s, lo), min(e, hi)
        top, height = (s - lo) * 100 / span, max(e - s, 0) * 100 / span
        if kind == "working":
            column.working.append(Block(top=top, height=height))
        else:
            column.away.append(Block(top=top, height=height, label=payload))
    for column, s, e, appointment, local_start, local_end in visits:
        # Within the span by its making: nothing to clamp.
        column.visits.append(
            Block(
                top=(s - lo) * 100 / span,
                height=(e - s) * 100 / span,
                visit=appointment,
                start=local_start,
                end=local_end,
            )
        )
    free_minutes = 0
    if rules is not None:
        free_minutes = rules.follow_up_minutes
        length = dt.timedelta(minutes=free_minutes)
        for (pid, day), starts in _free_slots(columns, appointments, availability, rules).items():
            column = by_key[(pid, day)]
            for start in starts:
                local_start, local_end = start.astimezone(tz), (start + length).astimezone(tz)
                s = max(_minute_of(local_start, day), lo)
                e = min(_minute_of(local_end, day), hi)
                column.free.append(
                    Block(
                        top=(s - lo) * 100 / span,
                        height=max(e - s, 0) * 100 / span,
                        start=local_start,
                        end=local_end,
                        free=True,
                    )
                )
    for column in columns:
        # Free slots share lanes with no-shows, which do not hold their slot.
        _assign_lanes([*column.visits, *column.free])
    return Grid(
        start_minute=lo,
        end_minute=hi,
        columns=columns,
        tz_name=str(tz),
        free_minutes=free_minutes,
    )


def _style(block: Block) -> str:
    # Numbers only: nothing to escape.
    return f"top: {block.top:.3f}%; height: {block.height:.3f}%;"


def _label(choices: type[AppointmentKind] | type[AppointmentStatus], value: str) -> str:
    """The choice's label; the value itself when it is none of them."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@lru_cache(maxsize=1024)
def _visit_labels(
    kind: str, status: str, confirmed: bool, room_name: str | None
) -> tuple[str, str]:
    """A visit block's class and its second line ("Follow-up · Booked · Room 1"), escaped.
    Made once per process for each combination (a few dozen: kinds, statuses, rooms; the
    labels are not translated): a day's grid needs about fifty of them, which cost a
    tenth of its markup's time when made for every page."""
    status_label = _label(AppointmentStatus, status)
    # The patient confirmed from the reminder's link (booked visits only).
    if status == AppointmentStatus.BOOKED and confirmed:
        status_label = "Confirmed ✓"
    kind_label = _label(AppointmentKind, kind)
    room = f" · {room_name}" if room_name else ""
    return (
        html.escape(f"cal-visit status-{status}"),
        html.escape(f"{kind_label} · {status_label}{room}"),
    )


def _present(grid: Grid, *, dated: bool) -> Grid:
    """Everything the grid template prints per column, computed once: each column's head
    and body as one HTML fragment (hrefs from one reverse per page, then prefix + id;
    times and labels; names escaped once each), the visits and free slots in the order a
    keyboard meets them, so the template prints two strings per column and no tag, filter
    or lookup per column or block. ``dated``: the week, whose columns are days: free
    slots' names carry the day and a column's head links to its day (the day's columns
    link to the practitioner's week)."""
    hours = grid.hours
    hour_lines = "".join(
        f'<div class="cal-hour-line" style="top: {top:.3f}%;"></div>' for _, top in hours
    )
    grid.hour_labels = SafeString(
        "".join(
            f'<span class="cal-hour-label" style="top: {top:.3f}%;">{hour:02d}:00</span>'
            for hour, top in hours[1:]
        )
    )
    day_url = escape(reverse("scheduling:day"))
    week_path = path_maker("scheduling:week", 1)
    visit_prefix, visit_suffix = escape(reverse("scheduling:appointment", args=[0])).rsplit("0", 1)
    book_url = escape(reverse("scheduling:book"))
    # A link's style and a visit's class and second line, each made once per page for
    # every block that shares them (a day's visits share a few dozen).
    places: dict[tuple[float, float, int, int], str] = {}
    labels: dict[tuple[str, str, bool, str | None], tuple[str, str]] = {}
    names: dict[int, str] = {}

    def place(block: Block) -> str:
        key = (block.top, block.height, block.lane, block.lanes)
        style = places.get(key)
        if style is None:
            width = 100 / block.lanes
            style = places[key] = (
                f"top: {block.top:.3f}%; height: {block.height:.3f}%;"
                f" left: {block.lane * 100 / block.lanes:.3f}%; width: calc({width:.3f}% - 2px);"
            )
        return style

    for column in grid.columns:
        pk = column.practitioner.pk
        name = escape(column.practitioner.display_name)
        title = escape(column.title)
        iso_day = f"{column.day:%Y-%m-%d}"
        day_label = escape(f"{date_format(column.day, 'D j M')} ") if dated else ""
        book_prefix = f"{book_url}?practitioner={pk}&amp;date={iso_day}&amp;time="
        book_suffix = f"&amp;duration={grid.free_minutes}&amp;kind=follow_up"
        for block in column.free:
            begins = block.start
            assert begins is not None  # free slots have both ends
            start = f"{begins.hour:02d}:{begins.minute:02d}"
            block.html = (
                '\n      <a role="listitem" class="cal-free"'
                f' href="{book_prefix}{start}{book_suffix}"\n'
                f'         style="{place(block)}"\n'
                f'         aria-label="Book {day_label}{start} with {name}">'
                f'<span aria-hidden="true">+ {start}</span></a>\n      '
            )
        for block in column.visits:
            a = block.visit
            begins, ends = block.start, block.end
            assert a is not None and begins is not None and ends is not None
            # hh:mm by hand: a tenth of strftime's cost, and a day shows hundreds.
            start = f"{begins.hour:02d}:{begins.minute:02d}"
            end = f"{ends.hour:02d}:{ends.minute:02d}"
            compact = ends - begins <= COMPACT_VISIT
            patient = names.get(a.patient_id)
            if patient is None:
                # Patient.full_name, from the two columns the query read. html.escape is
                # Django's escape without its lazy-text check, a third of its cost.
                patient = names[a.patient_id] = html.escape(f"{a.first_name} {a.last_name}")
            key = (a.kind, a.status, a.confirmed, a.room_name)
            label = labels.get(key)
            if label is None:
                label = labels[key] = _visit_labels(*key)
            status_css, detail = label
            block.html = (
                '\n      <a role="listitem"'
                f' class="{f"{status_css} is-compact" if compact else status_css}"'
                f' href="{visit_prefix}{a.id}{visit_suffix}"\n'
                f'         style="{place(block)}"\n'
                f'         title="{start}–{end} {patient} · {detail}">\n'
                '        <span class="cal-visit-line"><span class="cal-visit-time">'
                f"{start if compact else f'{start}–{end}'}</span>\n"
                f'        <span class="cal-visit-name">{patient}</span></span>\n'
                f'        <span class="cal-visit-line">{detail}</span>\n'
                "      </a>\n      "
            )
        is_today = " is-today" if column.is_today else ""
        current = 'aria-current="date"' if column.is_today else ""
        if dated:
            link = f'<a href="{day_url}?date={iso_day}">{title}</a>'
        else:
            link = f'<a href="{escape(week_path(pk))}?date={iso_day}">{title}</a>'
        badge = (
            '<span class="badge text-bg-success ms-1">Today</span>'
            if column.is_today and dated
            else ""
        )
        column.head_html = SafeString(
            f'<div class="cal-head{is_today}" {current}>\n      {link}\n      {badge}\n    </div>'
        )
        working = "".join(
            f'<div class="cal-working" style="{_style(block)}"></div>' for block in column.working
        )
        away = "".join(
            f'<div class="cal-away" style="{_style(block)}">Away: {escape(block.label)}</div>'
            for block in column.away
        )
        closed = (
            f'<div class="cal-closed" role="note">Clinic closed: {escape(column.closed)}</div>'
            if column.closed
            else ""
        )
        entries = "".join(block.html for block in column.entries)
        # Every piece above is escaped already or is digits and times. The fragments keep
        # the whitespace the grid template printed around each tag.
        column.html = SafeString(
            f'<div class="cal-col{is_today}" role="list" aria-label="{title}" data-day="{iso_day}"'
            f' data-practitioner="{pk}">\n      {working}\n      {hour_lines}\n      {away}'
            f"\n      {closed}\n      {entries}\n    </div>"
        )
    return grid


def _appointment_column(column: str) -> str:
    """An appointment column in full, as Django writes it (test_windows.py reads it)."""
    q = connection.ops.quote_name
    return f"{q(Appointment._meta.db_table)}.{q(column)}"


def _overlap_sql(start: dt.datetime, end: dt.datetime) -> tuple[str, list[Any]]:
    """SQL and parameters for "overlaps [start, end)", bounded below as
    clinic.models.overlapping bounds it (a visit lasts at most MAX_APPOINTMENT_DURATION),
    so a (who, starts_at) index reads only the window."""
    a = _appointment_column
    adapt = connection.ops.adapt_datetimefield_value
    return (
        f"{a('starts_at')} < %s AND {a('starts_at')} > %s AND {a('ends_at')} > %s",
        [adapt(end), adapt(start - MAX_APPOINTMENT_DURATION), adapt(start)],
    )


def _calendar_appointments(
    practitioner_ids: list[int], start: dt.datetime, end: dt.datetime
) -> list[CalendarVisit]:
    """The practitioners' visits overlapping [start, end) (as clinic.models.overlapping
    bounds them), cancelled ones left out: they free their slot and leave the grid;
    no-shows stay, greyed out. One query, plain SQL prepared once per connection on
    PostgreSQL (patients/sql.py): Django took longer to build and plan it than the
    database to run it for a day's 240 visits. Starts and ends are read as epoch_sql
    numbers, in C: Django read a timestamp in Python, some 4 us a value, two per visit."""
    q = connection.ops.quote_name
    a = _appointment_column
    table = q(Appointment._meta.db_table)
    patient = q(Patient._meta.db_table)
    room = q(Room._meta.db_table)
    window, window_params = _overlap_sql(start, end)
    ids = ", ".join(["%s"] * len(practitioner_ids)) or "NULL"  # none: no rows
    sql = (
        f"SELECT {a('id')}, {a('practitioner_id')}, {a('patient_id')}, {a('room_id')}, "
        f"{epoch_sql(a('starts_at'))}, {epoch_sql(a('ends_at'))}, {a('kind')}, {a('status')}, "
        f"{a('confirmed_at')} IS NOT NULL, p.first_name, p.last_name, r.name "
        f"FROM {table} INNER JOIN {patient} AS p ON p.id = {a('patient_id')} "
        f"LEFT OUTER JOIN {room} AS r ON r.id = {a('room_id')} "
        f"WHERE {window} AND {a('practitioner_id')} IN ({ids}) AND {a('status')} <> %s "
        f"ORDER BY {a('starts_at')}, {a('id')}"
    )
    params = [*window_params, *practitioner_ids, AppointmentStatus.CANCELLED.value]
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params, label="calendar_visits")
        rows = cursor.fetchall()
    return [
        # SQLite gives the confirmation as 0 or 1.
        CalendarVisit(i, pr, pa, ro, moment(s), moment(e), k, st, bool(c), fn, ln, rn)
        for i, pr, pa, ro, s, e, k, st, c, fn, ln, rn in rows
    ]


def calendar_day(day: dt.date, rules: SchedulingSettings | None = None) -> Grid:
    """One column per active practitioner, with free slots of the follow-up length when
    ``rules`` are given. Queries: 3, practitioners; appointments; working hours, time off
    touching the day and closures of the day in one (``hours_time_off_closures``)."""
    tz = clinic_zone()
    today = clinic_today()
    practitioners = list(active_practitioners())
    ids = [p.pk for p in practitioners]
    start, end = _day_bounds(day, tz)
    columns = [
        Column(title=p.display_name, day=day, practitioner=p, is_today=day == today)
        for p in practitioners
    ]
    appointments = _calendar_appointments(ids, start, end)
    availability = hours_time_off_closures(ids, start, end)
    return _present(_build_grid(columns, appointments, availability, tz, rules), dated=False)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def calendar_week(
    practitioner: Practitioner, day: dt.date, rules: SchedulingSettings | None = None
) -> Grid:
    """Monday to Sunday for one practitioner (weekend days only when used). Queries: 2,
    appointments; working hours, time off and closures of the week in one
    (``hours_time_off_closures``)."""
    tz = clinic_zone()
    today = clinic_today()
    monday = week_start(day)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    start, _ = _day_bounds(days[0], tz)
    _, end = _day_bounds(days[-1], tz)
    appointments = _calendar_appointments([practitioner.pk], start, end)
    availability = hours_time_off_closures([practitioner.pk], start, end)
    working_days = {
        d for d, blocks in availability.hours.get(practitioner.pk, {}).items() if blocks
    }
    used = working_days | {a.starts_at.astimezone(tz).weekday() for a in appointments}
    columns = [
        Column(title=f"{d:%a %d %b}", day=d, practitioner=practitioner, is_today=d == today)
        for d in days
        if d.weekday() < 5 or d.weekday() in used
    ]
    return _present(_build_grid(columns, appointments, availability, tz, rules), dated=True)


# Availability: free slots and recurring previews -------------------------------------


def _availability(
    practitioner_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    patient: Patient | None = None,
    room: Room | None = None,
    time_off_until: dt.datetime | None = None,
    visits: list[BusyVisit] | None = None,
    exclude_ids: list[int] | None = None,
) -> Availability:
    """Queries: 2. Working hours, time off (up to ``time_off_until``, default ``end``) and
    clinic closures (the same span) in one; live appointments (the practitioners', and
    the patient's and room's with anyone).
    ``visits``, when given, receives those appointments with what a preview needs to name
    them (same query); ``exclude_ids`` are visits being moved, which do not hold their own
    slots."""
    availability = hours_time_off_closures(practitioner_ids, start, time_off_until or end)
    _add_appointments(
        availability,
        practitioner_ids,
        start,
        end,
        patient=patient,
        room=room,
        visits=visits,
        exclude_ids=exclude_ids,
    )
    return availability


def hours_time_off_closures(
    practitioner_ids: list[int], start: dt.datetime, end: dt.datetime
) -> Availability:
    """The practitioners' working hours, their time off overlapping [start, end) and the
    clinic's closed days that [start, end) touches, as an Availability with nothing busy
    yet. Queries: 1, plain SQL: a UNION ALL whose parts share their columns' types (times,
    instants and days as patients.selectors.epoch_sql numbers). Django took longer to
    build the three small queries it replaces than the database to run them."""
    tz = clinic_zone()
    first = start.astimezone(tz).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    q = connection.ops.quote_name
    ids = ", ".join(["%s"] * len(practitioner_ids)) or "NULL"  # none: no rows
    sql = (
        # Every practitioner's week of hours is a hundred rows for "any": plain values.
        f"SELECT 'h', practitioner_id, weekday, {epoch_sql(q('start'))}, "
        f"{epoch_sql(q('end'))}, '' FROM {q(WorkingHours._meta.db_table)} "
        f"WHERE practitioner_id IN ({ids}) "
        f"UNION ALL SELECT 't', practitioner_id, 0, {epoch_sql('starts_at')}, "
        f"{epoch_sql('ends_at')}, reason FROM {q(TimeOff._meta.db_table)} "
        f"WHERE practitioner_id IN ({ids}) AND starts_at < %s AND ends_at > %s "
        f"UNION ALL SELECT 'c', 0, 0, {epoch_sql('starts_on')}, {epoch_sql('ends_on')}, "
        f"reason FROM {q(ClinicClosure._meta.db_table)} WHERE starts_on <= %s AND ends_on >= %s "
        "ORDER BY 1, 4"
    )
    adapt = connection.ops
    params = [
        *practitioner_ids,
        *practitioner_ids,
        adapt.adapt_datetimefield_value(end),
        adapt.adapt_datetimefield_value(start),
        adapt.adapt_datefield_value(last),
        adapt.adapt_datefield_value(first),
    ]
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params, label="hours_time_off_closures")
        rows = cursor.fetchall()
    hours: dict[int, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
    time_off = defaultdict(list)
    closures = []
    # Each part's rows by start: a time of day reads as that time on some day.
    for part, practitioner_id, weekday, begins, ends, reason in rows:
        if part == "h":
            hours[practitioner_id][weekday].append((moment(begins).time(), moment(ends).time()))
        elif part == "t":
            time_off[practitioner_id].append((moment(begins), moment(ends), reason))
        else:
            closures.append((moment(begins).date(), moment(ends).date(), reason))
    return Availability(hours=hours, time_off=time_off, closed=_closed_from(closures, first, last))


def _add_appointments(
    availability: Availability,
    practitioner_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    patient: Patient | None = None,
    room: Room | None = None,
    visits: list[BusyVisit] | None = None,
    exclude_ids: list[int] | None = None,
) -> None:
    """One query: the live appointments overlapping [start, end) of the practitioners,
    and the patient's and room's with anyone, added to ``availability`` as busy. A shared
    room (capacity > 1) is busy for everyone only while it is full
    (docs/decisions.md, "Rooms with capacity")."""
    shared_room = room is not None and room.capacity > 1
    in_room: list[tuple[dt.datetime, dt.datetime]] = []
    with connection.cursor() as cursor:
        prepared.execute(
            cursor,
            *_live_appointments_sql(
                practitioner_ids,
                start,
                end,
                patient=patient,
                room=room,
                names=visits is not None,
                exclude_ids=exclude_ids,
            ),
            label="live_visits",
        )
        rows = cursor.fetchall()
    # Per row, plain values only (a model's ``pk`` is a property call).
    patient_pk = patient.pk if patient is not None else None
    room_pk = room.pk if room is not None else None
    own_ids = set(practitioner_ids)
    for practitioner_id, patient_id, room_id, begins, ends, *names in rows:
        s = moment(begins)
        e = moment(ends)
        if visits is not None:
            practitioner_name, room_name = names
            visits.append(
                BusyVisit(practitioner_id, practitioner_name, patient_id, room_id, room_name, s, e)
            )
        in_this_room = room_pk is not None and room_id == room_pk
        if shared_room and in_this_room:
            in_room.append((s, e))
            in_this_room = False  # counted below; busy for its own practitioner only
        if (patient_pk is not None and patient_id == patient_pk) or in_this_room:
            availability.add_shared_busy(s, e)
        elif practitioner_id in own_ids:
            availability.add_busy(practitioner_id, s, e)
    if shared_room and room is not None:
        for s, e in full_intervals(in_room, room.capacity):
            availability.add_shared_busy(s, e)


def _live_appointments_sql(
    practitioner_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    patient: Patient | None,
    room: Room | None,
    names: bool,
    exclude_ids: list[int] | None,
) -> tuple[str, list[Any]]:
    """The SQL and parameters of ``_add_appointments``' one query: the live appointments
    overlapping [start, end) (as clinic.models.overlapping bounds them) of the
    practitioners, the patient and the room, their start and end as epoch_sql numbers
    (read in C). With ``names``, the practitioner's and room's names, in order of start.
    Plain SQL: Django took about as long to build the query as to run it.

    One part per (who, starts_at) index, each visit in one part only (the patient's
    visits with someone else, the room's with neither): one OR over the three made
    PostgreSQL read every visit of the clinic in the window from the start index and
    keep a tenth of them. The practitioners' part reads only its rows from
    appt_practitioner_start_idx, which carries what the query returns."""
    q = connection.ops.quote_name
    a = _appointment_column
    table = q(Appointment._meta.db_table)
    statuses = ", ".join(["%s"] * len(LIVE_APPOINTMENT_STATUSES))
    window, window_params = _overlap_sql(start, end)
    window += f" AND {a('status')} IN ({statuses})"
    window_params += [str(status) for status in LIVE_APPOINTMENT_STATUSES]
    if exclude_ids:  # visits being moved do not hold their own slots
        window += f" AND {a('id')} NOT IN ({', '.join(['%s'] * len(exclude_ids))})"
        window_params += exclude_ids
    columns = (
        f"{a('practitioner_id')}, {a('patient_id')}, {a('room_id')}, "
        f"{epoch_sql(a('starts_at'))} AS starts, {epoch_sql(a('ends_at'))} AS ends"
    )
    # Each part: whose visits it reads, and the earlier parts' visits it leaves out.
    parts: list[tuple[list[str], list[Any]]] = []
    ids = ", ".join(["%s"] * len(practitioner_ids))
    if practitioner_ids:
        parts.append(([f"{a('practitioner_id')} IN ({ids})"], [*practitioner_ids]))
    for column, value in (("patient_id", patient), ("room_id", room)):
        if value is None:
            continue
        where = [f"{a(column)} = %s"]
        who: list[Any] = [value.pk]
        if practitioner_ids:
            where.append(f"{a('practitioner_id')} NOT IN ({ids})")
            who += practitioner_ids
        if column == "room_id" and patient is not None:
            where.append(f"{a('patient_id')} <> %s")
            who.append(patient.pk)
        parts.append((where, who))
    if not parts:  # nobody's visits: no rows
        parts.append((["FALSE"], []))
    sql_parts = []
    params: list[Any] = []
    for where, part_params in parts:
        sql_parts.append(f"SELECT {columns} FROM {table} WHERE {' AND '.join(where)} AND {window}")
        params += [*part_params, *window_params]
    visits = " UNION ALL ".join(sql_parts)
    if not names:
        return visits, params
    # The names a preview words its conflicts with (two joins); it names the earliest clash.
    return (
        "SELECT v.practitioner_id, v.patient_id, v.room_id, v.starts, v.ends, "
        f"pr.display_name, r.name FROM ({visits}) AS v "
        f"JOIN {q(Practitioner._meta.db_table)} AS pr ON pr.id = v.practitioner_id "
        f"LEFT JOIN {q(Room._meta.db_table)} AS r ON r.id = v.room_id ORDER BY v.starts",
        params,
    )


class BusyVisit(NamedTuple):
    """A live appointment as a preview names it (never the other patient's name). A
    tuple: a preview makes one for each of hundreds of visits."""

    practitioner_id: int
    practitioner_name: str
    patient_id: int
    room_id: int | None
    room_name: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class FreeSlot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    practitioner: Practitioner


class SlotRow(NamedTuple):
    """One free slot as the free-slot table prints it: plain values with the times and the
    booking link made here (patients/links.py), no url tag or filter per row."""

    value: str  # as ``|date:'c'``
    when: str  # "Mon 3 Mar 2025, 09:00–09:30"
    practitioner: str
    book: str  # the booking form, filled in with this slot


def free_slot_rows(
    slots: list[FreeSlot], *, kind: str, minutes: int, patient: Patient | None
) -> list[SlotRow]:
    """The free-slot table's rows; the booking link carries the search's kind, length and
    patient, as the form's link did. Queries: none."""
    book = reverse("scheduling:book")
    for_patient = f"&patient={patient.pk}" if patient else ""
    return [
        SlotRow(
            value=when(slot.starts_at, "c"),
            when=f"{when(slot.starts_at, 'D j M Y, H:i')}–{when(slot.ends_at, 'H:i')}",
            practitioner=slot.practitioner.display_name,
            book=(
                f"{book}?practitioner={slot.practitioner.pk}"
                f"&date={when(slot.starts_at, 'Y-m-d')}&time={when(slot.starts_at, 'H:i')}"
                f"&kind={kind}&duration={minutes}{for_patient}"
            ),
        )
        for slot in slots
    ]


# The free-slot search reads the appointments of a short window first and reads further
# (up to the horizon) only when that window has fewer free slots than were asked for: the
# next few free slots of a busy clinic are nearly always within days, and reading 60 days
# of every practitioner's visits to show 5 slots read ~4,000 rows at 20,000 patients.
# Windows end at the clinic's midnight, this many days after the search's first day: the
# first takes in the rest of today and all of tomorrow, so a day booked up (a busy
# clinic's today) leaves tomorrow's free times in the same read, whatever the hour; a
# window of 24 hours from the small hours ended before tomorrow opened and cost a
# second read of a whole week.
FREE_SLOT_WINDOWS_DAYS = (2, 8)


def free_slots(
    *,
    duration: dt.timedelta,
    after: dt.datetime,
    count: int = 5,
    practitioner: Practitioner | None = None,
    patient: Patient | None = None,
    room: Room | None = None,
    horizon_days: int = 60,
    step_minutes: int = 15,
) -> list[FreeSlot]:
    """The next ``count`` free slots of ``duration`` for one practitioner or any, inside
    working hours, outside time off, clinic closures and live appointments (the
    patient's and room's too).

    Queries: practitioners, working hours with time off and closures (the last two up to
    the horizon), and one query of appointments per window searched
    (FREE_SLOT_WINDOWS_DAYS, then the horizon): 3 when today and tomorrow have ``count``
    free slots, at most 5."""
    after = max(after, timezone.now())
    practitioners = [practitioner] if practitioner else list(active_practitioners())
    by_id = {p.pk: p for p in practitioners}
    ids = list(by_id)
    horizon = after + dt.timedelta(days=horizon_days)
    tz = clinic_zone()
    first_day = after.astimezone(tz).date()
    windows = [
        local_occurrence(first_day + dt.timedelta(days=d), dt.time.min, tz)
        for d in FREE_SLOT_WINDOWS_DAYS
    ] + [horizon]
    windows = sorted({min(w, horizon) for w in windows})
    step = dt.timedelta(minutes=step_minutes)
    until = windows[0]
    availability = _availability(
        ids, after, until, patient=patient, room=room, time_off_until=horizon
    )
    for next_until in [*windows[1:], None]:
        # Busy intervals are known up to ``until`` only: a slot must end by then.
        found = merge_first(
            (
                (
                    pid,
                    availability.free_starts(
                        pid, after=after, until=until, duration=duration, step=step
                    ),
                )
                for pid in ids
            ),
            count,
        )
        if len(found) >= count or next_until is None:
            break
        _add_appointments(availability, ids, until, next_until, patient=patient, room=room)
        until = next_until
    return [FreeSlot(start, start + duration, by_id[pid]) for start, pid in found]


@dataclass(frozen=True)
class MoveChoices:
    day: dt.date
    starts: list[dt.datetime]


def reschedule_choices(
    appointment: Appointment,
    rules: SchedulingSettings,
    *,
    around: int = 3,
    next_days: int = 3,
    per_day: int = 4,
) -> list[MoveChoices]:
    """Free times to move a visit to with one click, same practitioner, room and length:
    up to ``around`` before and after the current time on its day, then the first
    ``per_day`` on each of the next ``next_days`` days with free time (within a week).
    Queries: those of ``_availability``."""
    tz = clinic_zone()
    now = timezone.now()
    duration = appointment.ends_at - appointment.starts_at
    step = dt.timedelta(minutes=rules.slot_step_minutes)
    day = appointment.starts_at.astimezone(tz).date()
    day_start = local_datetime(day, dt.time.min, tz)
    window_end = local_datetime(day + dt.timedelta(days=8), dt.time.min, tz)
    availability = _availability(
        [appointment.practitioner_id],
        day_start,
        window_end,
        patient=appointment.patient,
        room=appointment.room,
        exclude_ids=[appointment.pk],
    )
    after = max(day_start, now)
    same_day = [
        s
        for s in availability.free_starts(
            appointment.practitioner_id,
            after=after,
            until=day_start + dt.timedelta(hours=23),
            duration=duration,
            step=step,
        )
        if s.astimezone(tz).date() == day and s != appointment.starts_at
    ]
    before = [s for s in same_day if s < appointment.starts_at][-around:]
    later = [s for s in same_day if s > appointment.starts_at][:around]
    result = [MoveChoices(day, before + later)] if before or later else []
    other, added = day, 0
    while added < next_days and other < day + dt.timedelta(days=7):
        other += dt.timedelta(days=1)
        starts = availability.bookable_slots(
            appointment.practitioner_id,
            other,
            after=max(local_datetime(other, dt.time.min, tz), now),
            length=duration,
            step=step,
        )[:per_day]
        if starts:
            result.append(MoveChoices(other, starts))
            added += 1
    return result


@dataclass
class Occurrence:
    starts_at: dt.datetime
    ends_at: dt.datetime
    # Why the requested time cannot be booked ("" when it can).
    problem: str = ""
    # A free time offered instead; never ticked, never on a day the patient already comes.
    suggestion: dt.datetime | None = None
    # The patient already has a visit at this time: nothing to book, and the row says so.
    already_booked: bool = False
    # Why a free time is left unticked (a day she already comes, beyond the plan's visits).
    note: str = ""
    # Ticked on the preview: only free times with no note are.
    ticked: bool = False

    @property
    def booked_start(self) -> dt.datetime | None:
        """What the row's tick box books: the time itself when it is free, the suggested
        time when it conflicts, or nothing (already booked, or nothing free nearby)."""
        if self.already_booked:
            return None
        return self.suggestion if self.problem else self.starts_at


class PreviewRow(NamedTuple):
    """One occurrence of the recurring preview as its table prints it: plain values with
    the times formatted here (patients/links.py), no filter per row."""

    warning: bool  # a problem or a note: the row is highlighted
    book: str  # the tick box's value, as ``|date:'c'``; "" when there is nothing to book
    book_label: str  # "Mon 3 Mar 09:00"
    ticked: bool
    requested: str  # "Mon 3 Mar 2025, 09:00"
    already_booked: bool
    problem: str
    suggestion: str  # "Mon 3 Mar, 09:30"; "" when there is none
    note: str


def preview_rows(preview: list[Occurrence]) -> list[PreviewRow]:
    """The recurring preview's table rows."""
    rows = []
    for occurrence in preview:
        book = occurrence.booked_start
        suggestion = occurrence.suggestion
        rows.append(
            PreviewRow(
                warning=bool(occurrence.problem or occurrence.note),
                book=when(book, "c") if book else "",
                book_label=when(book, "D j M H:i") if book else "",
                ticked=occurrence.ticked,
                requested=when(occurrence.starts_at, "D j M Y, H:i"),
                already_booked=occurrence.already_booked,
                problem=occurrence.problem,
                suggestion=when(suggestion, "D j M, H:i") if suggestion else "",
                note=occurrence.note,
            )
        )
    return rows


def series_dates(*, first_date: dt.date, weekdays: list[int], count: int) -> list[dt.date]:
    """``count`` dates from ``first_date`` on the chosen weekdays (Mon = 0)."""
    wanted = set(weekdays)
    if not wanted or count < 1:
        return []
    dates: list[dt.date] = []
    day = first_date
    while len(dates) < count:
        if day.weekday() in wanted:
            dates.append(day)
        day += dt.timedelta(days=1)
    return dates


def plan_weekdays(visits_per_week: int) -> list[int]:
    """A sensible spread of weekdays for n visits a week (twice: Monday and Thursday)."""
    spreads = {
        1: [0],
        2: [0, 3],
        3: [0, 2, 4],
        4: [0, 1, 3, 4],
        5: [0, 1, 2, 3, 4],
        6: [0, 1, 2, 3, 4, 5],
        7: [0, 1, 2, 3, 4, 5, 6],
    }
    return spreads[max(1, min(7, visits_per_week))]


def _own_visit(patient: Patient, visit: BusyVisit, tz: dt.tzinfo) -> str:
    local = visit.starts_at.astimezone(tz)
    return f"{patient.first_name}'s own visit at {local:%H:%M} with {visit.practitioner_name}"


def _conflict_in_words(
    availability: Availability,
    visits: list[BusyVisit],
    practitioner: Practitioner,
    room: Room | None,
    start: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
) -> str:
    """Why [start, end) cannot be booked, naming what is in the way (never another
    patient), or "" when it can. The patient's own visits are handled by the caller."""
    closed = availability.closed_on(start, end)
    if closed is not None:
        return closed_message(*closed)
    reason = availability.time_off_reason(practitioner.pk, start, end)
    if reason is not None:
        return f"{practitioner.display_name} is away then ({reason})."
    if availability.is_busy(practitioner.pk, start, end):
        clashes = [v for v in visits if v.starts_at < end and start < v.ends_at]
        # The practitioner's own visit first: a shared room's visit is only in the way
        # when the room is full.
        clashes.sort(key=lambda v: v.practitioner_id != practitioner.pk)
        for visit in clashes:
            local = visit.starts_at.astimezone(tz)
            if visit.practitioner_id == practitioner.pk:
                return (
                    f"Slot taken: {practitioner.display_name} has another visit at {local:%H:%M}."
                )
            if room is not None and visit.room_id == room.pk:
                if room.capacity > 1:
                    return f"Slot taken: {visit.room_name} is full at {local:%H:%M}."
                return f"Slot taken: {visit.room_name} is in use at {local:%H:%M}."
        return "Slot taken: another visit of this series is at that time."
    if not availability.within_hours(practitioner.pk, start, end):
        return "Outside the practitioner's working hours."
    return ""


def plan_visits_booked(plan: Any) -> int:
    """Live visits already counted against a plan of care: those of series booked for it,
    and the patient's other visits with the plan's therapist during the plan's weeks.
    Queries: 1."""
    plan_end = plan.start_date + dt.timedelta(weeks=plan.weeks)
    tz = clinic_zone()
    return (
        Appointment.objects.filter(
            Q(series__treatment_plan=plan)
            | Q(
                practitioner__user_id=plan.therapist_id,
                starts_at__gte=local_datetime(plan.start_date, dt.time.min, tz),
                starts_at__lt=local_datetime(plan_end, dt.time.min, tz),
            ),
            patient_id=plan.patient_id,
            status__in=LIVE_APPOINTMENT_STATUSES,
        )
        .distinct()
        .count()
    )


def series_preview(
    *,
    patient: Patient,
    practitioner: Practitioner,
    room: Room | None,
    duration: dt.timedelta,
    starts: list[dt.datetime],
    allow_outside_hours: bool = False,
    step_minutes: int = 15,
    visits_left: int | None = None,
    exclude_ids: list[int] | None = None,
) -> list[Occurrence]:
    """Every occurrence with its problem in words, if any, and the nearest free alternative
    (same day first, then up to a week later) on a day the patient does not come yet.

    Only free times are ticked, and at most ``visits_left`` of them (what is left of a
    plan of care's visits). The patient's own visit at a requested time is "already
    booked", not a conflict to move. Queries: those of ``_availability``."""
    if not starts:
        return []
    now = timezone.now()
    tz = clinic_zone()
    window_start = min(starts) - dt.timedelta(days=1)
    window_end = max(starts) + dt.timedelta(days=8)
    visits: list[BusyVisit] = []
    availability = _availability(
        [practitioner.pk],
        window_start,
        window_end,
        patient=patient,
        room=room,
        visits=visits,
        exclude_ids=exclude_ids,
    )
    patient_pk = patient.pk
    own = sorted((v for v in visits if v.patient_id == patient_pk), key=lambda v: v.starts_at)
    # Days the patient comes: her own visits, then each time this preview ticks or suggests.
    patient_days = {v.starts_at.astimezone(tz).date() for v in own}
    result = [Occurrence(starts_at=s, ends_at=s + duration) for s in sorted(starts)]
    # First every requested time: free ones hold their slot and day before any suggestion.
    for occurrence in result:
        start, end = occurrence.starts_at, occurrence.ends_at
        day = start.astimezone(tz).date()
        mine = [v for v in own if v.starts_at < end and start < v.ends_at]
        if mine:
            occurrence.already_booked = True
            occurrence.problem = f"Already booked: {_own_visit(patient, mine[0], tz)}."
            continue
        if start < now:
            occurrence.problem = "In the past."
        else:
            problem = _conflict_in_words(availability, visits, practitioner, room, start, end, tz)
            if problem.startswith("Outside") and allow_outside_hours:
                problem = ""
            occurrence.problem = problem
        if occurrence.problem:
            continue
        that_day = [v for v in own if v.starts_at.astimezone(tz).date() == day]
        if that_day:
            occurrence.note = (
                f"Not ticked: {patient.first_name} already comes that day "
                f"({_own_visit(patient, that_day[0], tz)})."
            )
        elif visits_left is not None and visits_left <= 0:
            occurrence.note = "Not ticked: the plan of care's visits are all booked."
        else:
            occurrence.ticked = True
            if visits_left is not None:
                visits_left -= 1
            patient_days.add(day)
            availability.add_busy(practitioner.pk, start, end)
    step = dt.timedelta(minutes=step_minutes)
    for occurrence in result:
        if not occurrence.problem or occurrence.already_booked:
            continue
        start = occurrence.starts_at
        day_start = local_datetime(start.astimezone(tz).date(), dt.time.min, tz)
        candidates = availability.free_starts(
            practitioner.pk,
            after=max(day_start, now),
            # The same day and the 7 after it (slots ending by the 8th midnight).
            until=day_start + dt.timedelta(days=8),
            duration=duration,
            step=step,
        )
        same_day: list[dt.datetime] = []
        later = None
        for candidate in candidates:
            candidate_day = candidate.astimezone(tz).date()
            if candidate_day in patient_days:
                continue
            if candidate_day == start.astimezone(tz).date():
                same_day.append(candidate)
            else:
                later = candidate
                break
        suggestion = min(same_day, key=lambda c: abs(c - start)) if same_day else later
        if suggestion is not None:
            occurrence.suggestion = suggestion
            patient_days.add(suggestion.astimezone(tz).date())
            availability.add_busy(practitioner.pk, suggestion, suggestion + duration)
    return result


# The status flow on the visit page ------------------------------------------------

# What "undo" returns a status to: the front desk's same-day correction of a click.
UNDO_TO: dict[str, str] = {
    AppointmentStatus.CHECKED_IN: AppointmentStatus.BOOKED,
    AppointmentStatus.NO_SHOW: AppointmentStatus.BOOKED,
    AppointmentStatus.COMPLETED: AppointmentStatus.CHECKED_IN,
}


def status_changed_on(appointment: Appointment) -> dt.date:
    """The clinic day the visit's current status was set."""
    if appointment.status == AppointmentStatus.CHECKED_IN and appointment.checked_in_at:
        return clinic_today(appointment.checked_in_at)
    return clinic_today(appointment.updated_at)


def can_undo_status(appointment: Appointment, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return appointment.status in UNDO_TO and status_changed_on(appointment) == clinic_today(now)


@dataclass(frozen=True)
class VisitActions:
    """What the visit page offers, by status and time; ``next`` is the one to stress."""

    check_in: bool = False
    no_show: bool = False
    complete: bool = False
    undo: str = ""  # the status an undo would remove, e.g. "no-show"
    next: str = ""  # "check_in" | "complete" | "no_show" | ""


def visit_actions(appointment: Appointment, *, now: dt.datetime | None = None) -> VisitActions:
    """Check-in on the visit's day only, no-show once it has started, completion once
    checked in, undo on the day the status was set (the services refuse the rest)."""
    now = now or timezone.now()
    status = appointment.status
    undo = appointment.get_status_display().lower() if can_undo_status(appointment, now=now) else ""
    if status == AppointmentStatus.BOOKED:
        today = clinic_today(appointment.starts_at) == clinic_today(now)
        started = appointment.starts_at <= now
        if today and started:
            # Late: check in if they are here, otherwise a no-show.
            return VisitActions(check_in=True, no_show=True, next="check_in")
        if today:
            return VisitActions(check_in=True, next="check_in")
        if started:  # a past day, never checked in
            return VisitActions(no_show=True, next="no_show")
        return VisitActions()
    if status == AppointmentStatus.CHECKED_IN:
        return VisitActions(complete=True, undo=undo, next="complete")
    return VisitActions(undo=undo)


# A series as a whole --------------------------------------------------------------


def get_series_for_user(user: User, series_id: int) -> AppointmentSeries:
    if not user.has_perm("clinic.view_appointment"):
        raise PermissionDenied
    return get_object_or_404(
        AppointmentSeries.objects.select_related("patient", "practitioner"), pk=series_id
    )


def series_visits(series: AppointmentSeries) -> list[Appointment]:
    """Every visit of the series, moved and cancelled ones too. Queries: 1."""
    return list(
        Appointment.objects.filter(series=series)
        .select_related("practitioner", "room")
        .order_by("starts_at", "id")
    )


def remaining_visits(visits: list[Appointment]) -> list[Appointment]:
    """The booked visits still ahead: what "cancel/move all remaining" act on."""
    now = timezone.now()
    return [v for v in visits if v.status == AppointmentStatus.BOOKED and v.starts_at >= now]


def series_move_preview(
    series: AppointmentSeries,
    remaining: list[Appointment],
    *,
    practitioner: Practitioner,
    weekdays: list[int],
    time: dt.time,
    first_date: dt.date,
    step_minutes: int = 15,
) -> list[tuple[Appointment, Occurrence]]:
    """Each remaining visit next to its new time (the chosen weekdays from
    ``first_date``, in order), checked as a recurring booking is; the visits being moved
    do not count as busy. Queries: those of ``series_preview``."""
    if not remaining:
        return []
    tz = clinic_zone()
    dates = series_dates(first_date=first_date, weekdays=weekdays, count=len(remaining))
    starts = [local_datetime(day, time, tz) for day in dates]
    preview = series_preview(
        patient=series.patient,
        practitioner=practitioner,
        room=remaining[0].room,
        duration=remaining[0].ends_at - remaining[0].starts_at,
        starts=starts,
        step_minutes=step_minutes,
        exclude_ids=[v.pk for v in remaining],
    )
    return list(zip(remaining, preview, strict=True))


# Patient page and Today ------------------------------------------------------------


class VisitRow(NamedTuple):
    """One row of the patient page's visits, as the template prints it: plain values with
    the link and times made here (patients/links.py), no model instance, no url tag,
    filter or include per row (docs/decisions.md, "Pages at a clinic group's size")."""

    id: int
    when: str  # "Mon 3 Mar 2025, 09:00", as ``|date:"D j M Y"``, ``|time:"H:i"`` write it
    day: str  # "3 Mar 2025", for the link's label
    kind: str
    practitioner: str
    status_html: SafeString
    link: str


# clinic/scheduling/_status.html in Python, for the patient page's rows (no include per
# row; a test compares the two for every status).
_STATUS_BADGES: dict[str, str] = {
    AppointmentStatus.BOOKED: '<span class="badge text-bg-primary">Booked</span>',
    AppointmentStatus.CHECKED_IN: '<span class="badge text-bg-warning">Checked in</span>',
    AppointmentStatus.COMPLETED: '<span class="badge text-bg-success">Completed</span>',
    AppointmentStatus.NO_SHOW: '<span class="badge text-bg-danger">No-show</span>',
}
_CANCELLED_BADGE = '<span class="badge text-bg-secondary">Cancelled</span>'
_LATE_BADGE = ' <span class="badge text-bg-warning">Late</span>'


def status_badge(status: str, late_cancellation: bool) -> SafeString:
    """What clinic/scheduling/_status.html prints for a visit with these values."""
    badge = _STATUS_BADGES.get(status)
    if badge is None:
        badge = _CANCELLED_BADGE + (_LATE_BADGE if late_cancellation else "")
    return SafeString(badge)


def patient_appointments(patient: Patient, *, limit: int = 20) -> dict[str, Any]:
    """Upcoming and recent visits (status only), as ``VisitRow`` values: one query, a
    UNION ALL of the next ``limit`` and the latest ``limit`` (each picked by a LIMIT on
    the patient's visits by start, then read by id), put in order here. Plain SQL:
    Django took longer to build the union than the database to run it."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        prepared.execute(
            cursor,
            _patient_visits_sql(),
            [patient.pk, now, limit, patient.pk, now, limit],
            label="patient_visits",
        )
        found = cursor.fetchall()
    upcoming: list[Any] = []
    past: list[Any] = []
    for part, pk, epoch, kind, practitioner, status, late in found:
        visit = (pk, moment(epoch), kind, practitioner, status, bool(late))
        (upcoming if part == "u" else past).append(visit)
    upcoming.sort(key=lambda visit: (visit[1], visit[0]))
    past.sort(key=lambda visit: (visit[1], visit[0]), reverse=True)
    link = path_maker("scheduling:appointment", 1)
    starts, day = when_maker("D j M Y, H:i"), when_maker("j M Y")
    kinds = {value: str(label) for value, label in AppointmentKind.choices}

    def rows(visits: Any) -> list[VisitRow]:
        return [
            VisitRow(
                id=pk,
                when=starts(starts_at),
                day=day(starts_at),
                kind=kinds.get(kind, kind),
                practitioner=practitioner,
                status_html=status_badge(status, late),
                link=link(pk),
            )
            for pk, starts_at, kind, practitioner, status, late in visits
        ]

    return {"upcoming": rows(upcoming), "past": rows(past)}


def _patient_visits_sql() -> str:
    """The next visits ("u") and the latest past ones ("p"), each a LIMIT on
    appt_patient_start_idx (patient, starts_at), with the practitioner's name; the start
    as seconds since the epoch (patients.selectors.epoch_sql)."""
    q = connection.ops.quote_name
    appointment = q(Appointment._meta.db_table)
    practitioner = q(Practitioner._meta.db_table)

    def part(tag: str, where: str, order: str) -> str:
        return (
            f"SELECT '{tag}', a.id, {epoch_sql('a.starts_at')}, a.kind, pr.display_name, "
            f"a.status, a.late_cancellation FROM {appointment} AS a JOIN {practitioner} AS pr "
            f"ON pr.id = a.practitioner_id WHERE a.id IN (SELECT id FROM {appointment} "
            f"WHERE patient_id = %s AND starts_at {where} ORDER BY {order} LIMIT %s)"
        )

    return (
        part("u", ">= %s", "starts_at, id")
        + " UNION ALL "
        + part("p", "< %s", "starts_at DESC, id DESC")
    )


def active_plans_for(patient: Patient) -> list[Any]:
    """The patient's active plans of care: only their visit frequency is shown."""
    from treatments.models import PlanStatus, TreatmentPlan

    return list(
        TreatmentPlan.objects.filter(patient=patient, status=PlanStatus.ACTIVE)
        .select_related("therapist")
        .only(
            "id",
            "visits_per_week",
            "weeks",
            "start_date",
            "therapist__first_name",
            "therapist__last_name",
            "therapist__username",
            "patient_id",
        )
        .order_by("-start_date", "-id")
    )


# What Today's front desk section lists: visits still to arrive, in, and missed.
FRONT_DESK_LISTED = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.NO_SHOW,
]

# Today prints the next 20 arrivals (late ones first), the first 20 checked-in visits and
# the first 20 no-shows, and how many more of each: a clinic group's morning has 250
# visits still to come (docs/decisions.md, "Pages at a clinic group's size").
FRONT_DESK_ARRIVALS_SHOWN = 20


class DayVisit(NamedTuple):
    """A visit of the day as Front desk Today needs it: plain values, no model instance.
    Every visit still to come or running takes its time from the gaps; only the listed
    ones (``FRONT_DESK_ARRIVALS_SHOWN`` of each listed status) carry the names their row
    prints, the others None."""

    id: int
    practitioner_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    kind: str
    patient_name: str | None
    practitioner_name: str | None
    room_name: str | None


class ListedVisit(NamedTuple):
    """A listed visit with what its row prints made here: its time, its link and, for an
    arrival, its check-in and no-show forms' actions (paths reversed once per page,
    patients/links.py)."""

    visit: DayVisit
    time: str  # "09:00", local, as ``|time:"H:i"`` writes it
    late: bool  # due before now: a "Late" badge and a no-show button
    link: str
    check_in: str
    no_show: str
    kind: str  # the kind's label


def _front_desk_visits(
    start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> tuple[list[DayVisit], int]:
    """The day [start, end)'s visits the front desk's Today works with, in time order:
    those listed (booked, checked in, no-show) and the completed ones still running at
    ``now``; and the number of completed ones. The first ``FRONT_DESK_ARRIVALS_SHOWN``
    of each listed status by start come with their patient's, practitioner's and room's
    names, each looked up by primary key only for those rows (a CASE runs its subquery
    only when its condition holds). One query whether or not the day lists any visit,
    plain SQL prepared once per connection on PostgreSQL (patients/sql.py): Django took
    longer to build the three it replaces, and to make model instances of the listed
    visits, than the database to run it. The statuses are listed (not "not cancelled")
    so that the (status, starts_at) index reads the day."""
    q = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    table = q(Appointment._meta.db_table)
    patient = q(Patient._meta.db_table)
    practitioner = q(Practitioner._meta.db_table)
    room = q(Room._meta.db_table)
    listed = ", ".join(["%s"] * len(FRONT_DESK_LISTED))
    sql = (
        f"SELECT 'v', d.id, d.practitioner_id, {epoch_sql('d.starts_at')} AS at, "
        f"{epoch_sql('d.ends_at')}, d.status, d.kind, "
        "CASE WHEN d.shown THEN (SELECT p.first_name || ' ' || p.last_name "
        f"FROM {patient} AS p WHERE p.id = d.patient_id) END, "
        f"CASE WHEN d.shown THEN (SELECT pr.display_name FROM {practitioner} AS pr "
        "WHERE pr.id = d.practitioner_id) END, "
        f"CASE WHEN d.shown THEN (SELECT r.name FROM {room} AS r WHERE r.id = d.room_id) END "
        "FROM (SELECT id, practitioner_id, patient_id, room_id, starts_at, ends_at, status, "
        "kind, status <> %s AND ROW_NUMBER() OVER (PARTITION BY status ORDER BY starts_at, id) "
        f"<= %s AS shown FROM {table} WHERE starts_at >= %s AND starts_at < %s "
        f"AND (status IN ({listed}) OR (status = %s AND ends_at > %s))) AS d "
        "UNION ALL SELECT 'c', COUNT(*), 0, 0, 0, '', '', NULL, NULL, NULL FROM "
        f"{table} WHERE starts_at >= %s AND starts_at < %s AND status = %s "
        "ORDER BY 1, 4, 2"
    )
    completed = AppointmentStatus.COMPLETED.value
    day = [adapt(start), adapt(end)]
    params = [
        completed,
        FRONT_DESK_ARRIVALS_SHOWN,
        *day,
        *(status.value for status in FRONT_DESK_LISTED),
        completed,
        adapt(now),
        *day,
        completed,
    ]
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params, label="front_desk_visits")
        rows = cursor.fetchall()
    # The count's row first ('c' before 'v'), then the visits by start, then id.
    (_, completed_count, *_), *visits = rows
    return [
        DayVisit(pk, practitioner_id, moment(s), moment(e), *rest)
        for _, pk, practitioner_id, s, e, *rest in visits
    ], completed_count


def front_desk_day(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Today's arrivals, who is in, no-shows and free gaps. Queries: the day's visits (plain
    values, names for the listed ones) with the count of completed ones
    (``_front_desk_visits``), practitioners; working hours, time off and closures (no
    gaps on a closed day) in one (``hours_time_off_closures``): three, whatever the day
    holds.

    The gaps need every visit of the day still to come or running: those are read as plain
    values (``DayVisit``: a tuple each, no model instance). Names are read only for what
    the page prints: the next ``FRONT_DESK_ARRIVALS_SHOWN`` arrivals, checked-in visits
    and no-shows; the others are counted.

    Completed visits are counted, not read: by the afternoon they are most of the day
    (200 of 230 at a clinic group's size). The only ones read are those still running
    (ending after ``now``), which take time from the gaps."""
    now = now or timezone.now()
    tz = clinic_zone()
    today = clinic_today(now)
    start, end = _day_bounds(today, tz)
    day_visits, completed_count = _front_desk_visits(start, end, now)
    by_status: dict[str, list[DayVisit]] = {status.value: [] for status in FRONT_DESK_LISTED}
    for visit in day_visits:
        if visit.status in by_status:
            by_status[visit.status].append(visit)
    practitioners = list(active_practitioners())
    availability = hours_time_off_closures([p.pk for p in practitioners], start, end)
    closed = availability.closed
    for visit in day_visits:
        if visit.status in LIVE_APPOINTMENT_STATUSES:
            availability.add_busy(visit.practitioner_id, visit.starts_at, visit.ends_at)
    gaps = []
    for practitioner in practitioners:
        for s, e in availability.gaps(
            practitioner.pk, today, after=now, minimum=dt.timedelta(minutes=30)
        ):
            gaps.append((practitioner, s, e))
    link = path_maker("scheduling:appointment", 1)
    check_in = path_maker("scheduling:check_in", 1)
    no_show = path_maker("scheduling:no_show", 1)
    hour = when_maker("H:i")

    def listed(status: AppointmentStatus) -> tuple[list[ListedVisit], int]:
        """The status's first visits by start, each with its row's values, and how many
        more the day has."""
        visits = by_status[status.value]
        return [
            ListedVisit(
                visit=v,
                time=hour(v.starts_at),
                late=v.starts_at < now,
                link=link(v.id),
                check_in=check_in(v.id),
                no_show=no_show(v.id),
                kind=_label(AppointmentKind, v.kind),
            )
            for v in visits[:FRONT_DESK_ARRIVALS_SHOWN]
        ], max(len(visits) - FRONT_DESK_ARRIVALS_SHOWN, 0)

    arrivals, more_arrivals = listed(AppointmentStatus.BOOKED)
    checked_in, more_checked_in = listed(AppointmentStatus.CHECKED_IN)
    no_shows, more_no_shows = listed(AppointmentStatus.NO_SHOW)
    return {
        # The next arrivals, earliest (so late ones) first, and how many more wait.
        "arrivals": arrivals,
        "more_arrivals": more_arrivals,
        "checked_in": checked_in,
        "more_checked_in": more_checked_in,
        "no_shows": no_shows,
        "more_no_shows": more_no_shows,
        "completed_count": completed_count,
        "gaps": sorted(gaps, key=lambda g: (g[1], g[0].display_name)),
        "closed": closed.get(today, ""),
        "now": now,
    }


class TherapistVisit(NamedTuple):
    """One visit on a therapist's Today, as plain values (no model instances)."""

    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    kind_label: str
    status: str
    late_cancellation: bool
    patient_id: int
    patient_name: str
    room_name: str  # "" without a room


def therapist_day(user: User, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The therapist's own visits today, as plain values (clinic/scheduling/sections.py
    makes their rows), and their practitioner id (None when they are not one). One query:
    the practitioner with the day's visits joined (a practitioner without visits gives one
    row of NULLs), moments as seconds since the epoch (read in C, epoch_sql), prepared
    once per connection on PostgreSQL (patients/sql.py): planning the four-table join
    took longer than running it."""
    now = now or timezone.now()
    start, end = _day_bounds(clinic_today(now), clinic_zone())
    q = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"SELECT pr.id, a.id, {epoch_sql('a.starts_at')}, {epoch_sql('a.ends_at')}, a.kind, "
        "a.status, a.late_cancellation, a.patient_id, p.first_name, p.last_name, r.name "
        f"FROM {q(Practitioner._meta.db_table)} AS pr "
        f"LEFT JOIN {q(Appointment._meta.db_table)} AS a ON a.practitioner_id = pr.id "
        # The practitioner's id once more, as a value: PostgreSQL then reads their day from
        # appt_practitioner_start_idx (25 rows at 20,000 patients) rather than the whole
        # clinic's day (270) hashed against the practitioner.
        f"AND a.practitioner_id = (SELECT id FROM {q(Practitioner._meta.db_table)} "
        "WHERE user_id = %s) "
        "AND a.starts_at >= %s AND a.starts_at < %s AND a.status <> %s "
        f"LEFT JOIN {q(Patient._meta.db_table)} AS p ON p.id = a.patient_id "
        f"LEFT JOIN {q(Room._meta.db_table)} AS r ON r.id = a.room_id "
        "WHERE pr.user_id = %s ORDER BY a.starts_at, a.id"
    )
    params = [user.pk, adapt(start), adapt(end), AppointmentStatus.CANCELLED.value, user.pk]
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params, label="therapist_day")
        rows = cursor.fetchall()
    if not rows:
        return {"practitioner_id": None, "visits": []}
    kinds = {kind: str(label) for kind, label in AppointmentKind.choices}  # once a page
    visits = [
        TherapistVisit(
            pk,
            moment(starts),
            moment(ends),
            kind,
            kinds.get(kind, kind),
            status,
            bool(late),
            patient_id,
            f"{first} {last}",
            room or "",
        )  # fmt: skip
        for _, pk, starts, ends, kind, status, late, patient_id, first, last, room in rows
        if pk is not None
    ]
    return {"practitioner_id": rows[0][0], "visits": visits, "now": now}


def practitioner_feed_appointments(
    practitioner: Practitioner, *, now: dt.datetime | None = None
) -> list[Appointment]:
    """The feed's window: the last 30 days and the next 180, cancelled ones included so
    subscribed calendars drop them."""
    now = now or timezone.now()
    return list(
        Appointment.objects.filter(
            practitioner=practitioner,
            starts_at__gte=now - dt.timedelta(days=30),
            starts_at__lt=now + dt.timedelta(days=180),
        )
        .select_related("patient", "room", "practitioner")
        .order_by("starts_at", "id")
    )


def practitioner_setup(practitioner: Practitioner) -> dict[str, Any]:
    """The manager's page for one practitioner. Queries: hours, upcoming time off."""
    return {
        "hours": [
            (h, calendar.day_name[h.weekday])
            for h in WorkingHours.objects.filter(practitioner=practitioner)
        ],
        "time_off": list(
            TimeOff.objects.filter(practitioner=practitioner, ends_at__gte=timezone.now())
        ),
    }


# Stranded visits: the worklists of closures and time off ----------------------------

# Visits that still hold a slot a closure or time off takes away. Completed ones are
# done; cancelled and no-show ones hold nothing.
STRANDED_STATUSES = [AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]


def closure_window(closure: ClinicClosure) -> tuple[dt.datetime, dt.datetime]:
    """The closure's days as UTC instants: from the first day's midnight (clinic time) to
    the midnight after the last."""
    tz = clinic_zone()
    return (
        local_occurrence(closure.starts_on, dt.time.min, tz),
        local_occurrence(closure.ends_on + dt.timedelta(days=1), dt.time.min, tz),
    )


def stranded_visits(
    start: dt.datetime, end: dt.datetime, *, practitioner_id: int | None = None
) -> QuerySet[Appointment]:
    """Live visits overlapping [start, end) (one practitioner's, for time off), in time
    order, with what a worklist row shows: patient's name, practitioner, room. Nothing
    clinical. One query per page (plus the paginator's count)."""
    visits = Appointment.objects.filter(overlapping(start, end), status__in=STRANDED_STATUSES)
    if practitioner_id is not None:
        visits = visits.filter(practitioner_id=practitioner_id)
    return (
        visits.select_related("patient", "practitioner", "room")
        .only(
            "id",
            "starts_at",
            "ends_at",
            "kind",
            "status",
            "patient__id",
            "patient__first_name",
            "patient__last_name",
            "practitioner__id",
            "practitioner__display_name",
            "room__id",
            "room__name",
        )
        .order_by("starts_at", "id")
    )


def stranded_counts(
    windows: dict[int, tuple[dt.datetime, dt.datetime, int | None]],
) -> dict[int, int]:
    """Key -> number of live visits in each (start, end, practitioner id or None) window:
    one query for a whole page of closures or time off (a filtered count per window)."""
    if not windows:
        return {}
    where = Q(pk__in=[])
    counts = {}
    for key, (start, end, practitioner_id) in windows.items():
        window = overlapping(start, end)
        if practitioner_id is not None:
            window &= Q(practitioner_id=practitioner_id)
        where |= window
        counts[f"w{key}"] = Count("pk", filter=window)
    row = Appointment.objects.filter(where, status__in=STRANDED_STATUSES).aggregate(**counts)
    return {key: row[f"w{key}"] or 0 for key in windows}


def get_closure_for_user(user: User, closure_id: int) -> ClinicClosure:
    if not user.has_perm("clinic.view_clinicclosure"):
        raise PermissionDenied
    return get_object_or_404(ClinicClosure, pk=closure_id)


def get_time_off_for_user(user: User, time_off_id: int) -> TimeOff:
    if not user.has_perm("clinic.view_timeoff"):
        raise PermissionDenied
    return get_object_or_404(TimeOff.objects.select_related("practitioner"), pk=time_off_id)


def closures(*, past: bool = False, today: dt.date | None = None) -> QuerySet[ClinicClosure]:
    """Closures still to come (or under way), soonest first; or the past ones, latest first."""
    today = today or clinic_today()
    if past:
        return ClinicClosure.objects.filter(ends_on__lt=today).order_by("-starts_on", "-id")
    return ClinicClosure.objects.filter(ends_on__gte=today).order_by("starts_on", "id")


def upcoming_time_off(*, now: dt.datetime | None = None) -> QuerySet[TimeOff]:
    """Every practitioner's time off still to come (or under way), soonest first."""
    now = now or timezone.now()
    return (
        TimeOff.objects.filter(ends_at__gt=now)
        .select_related("practitioner")
        .order_by("starts_at", "id")
    )
