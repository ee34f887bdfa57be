"""The rollup of finished days behind the attendance and utilisation reports.

A report reads the days before today from ``clinic.ReportDay`` (a row per practitioner
and local day) and counts today and later live: the cost of a report then follows the
number of practitioners and days, not the thousands of visits behind them.

``refresh`` brings the rollup up to date before each read, in four statements whatever
the data (docs/decisions.md, caseload reports):

1. lock the ``ReportRollup`` row (two readers never count the same day twice);
2. delete the rows of the days to count: days of the period not yet rolled up, and the
   days of visits changed since the last refresh (``Appointment.updated_at``, indexed);
3. count those days again from the visits, in one ``INSERT ... SELECT``;
4. widen the covered days and move the watermark to now.

A finished day is counted once and then only read, unless a visit on it changes later
(a no-show marked the next morning, a status undone): its day is counted again on the
next read. ``updated_at`` is ``auto_now`` and every service saves it with the fields it
changes. The watermark trails now by ``MARGIN`` so that a change committed just after a
refresh read the watermark is still picked up by the next one.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Subquery, Sum
from django.db.models.functions import TruncDate

from clinic.models import Appointment, AppointmentStatus, ReportDay, ReportRollup
from patients.localtime import clinic_zone, local_occurrence

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


def _local_day() -> TruncDate:
    return TruncDate("starts_at", tzinfo=clinic_zone())


def day_counts():
    """Visits per practitioner and local day, as ReportDay holds them (the columns in
    the table's order: practitioner, day, due, no-shows, late, booked)."""
    timely_cancel = Q(status=AppointmentStatus.CANCELLED, late_cancellation=False)
    duration = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())
    return (
        Appointment.objects.annotate(local_day=_local_day())
        .values("practitioner_id", "local_day")
        .annotate(
            due=Count("id", filter=~timely_cancel),
            no_shows=Count("id", filter=Q(status=AppointmentStatus.NO_SHOW)),
            late=Count("id", filter=Q(status=AppointmentStatus.CANCELLED, late_cancellation=True)),
            booked=Sum(duration, filter=Q(status__in=_BOOKED), default=dt.timedelta()),
        )
        .order_by()
    )


def refresh(first: dt.date, until: dt.date, *, now: dt.datetime) -> None:
    """Make ReportDay hold every day from ``first`` to before ``until`` (finished days
    only: ``until`` is at most today), current as of ``now``. Four queries."""
    with transaction.atomic():
        state, _ = ReportRollup.objects.select_for_update().get_or_create(pk=1)
        old_from, old_until = state.days_from, state.days_until
        if old_from is None or old_until is None:
            old_from = old_until = first  # nothing rolled up yet: an empty range
        new_from = min(first, old_from)
        new_until = max(until, old_until)
        # The two stretches not yet covered (either may be empty): before and after.
        gaps = [(new_from, old_from), (old_until, new_until)]
        if old_from == old_until:
            gaps = [(new_from, new_until), (new_from, new_from)]
        seen = state.seen_at
        changed = Subquery(
            Appointment.objects.filter(
                updated_at__gte=seen - MARGIN if seen else now,
                starts_at__gte=_midnight(new_from),
                starts_at__lt=_midnight(new_until),
            )
            .annotate(changed_day=_local_day())
            .values("changed_day")
        )
        stale_days = Q(day__in=changed)
        for start, stop in gaps:
            stale_days |= Q(day__gte=start, day__lt=stop)
        ReportDay.objects.filter(stale_days).delete()

        stale_visits = Q(local_day__in=changed)
        for start, stop in gaps:
            stale_visits |= Q(starts_at__gte=_midnight(start), starts_at__lt=_midnight(stop))
        select, params = day_counts().filter(stale_visits).query.sql_with_params()
        table = connection.ops.quote_name(ReportDay._meta.db_table)
        columns = ", ".join(
            connection.ops.quote_name(name)
            for name in ("practitioner_id", "day", "due", "no_shows", "late", "booked")
        )
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)

        ReportRollup.objects.filter(pk=state.pk).update(
            days_from=new_from, days_until=new_until, seen_at=now
        )
