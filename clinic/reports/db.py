"""Database functions the reports need on both backends: a median and whole days
between two dates.

PostgreSQL has ``percentile_cont``; SQLite (the first-run database) has no median, so one
is registered on each SQLite connection (``register_sqlite_functions``, connected in
``clinic.apps``). Both then run the same query, with the same query count.
"""

from __future__ import annotations

import statistics
from typing import Any

from django.db.models import Aggregate, FloatField, Func, IntegerField


class Median(Aggregate):
    """The median of the non-null values (the mean of the two middle ones for an even
    count, as ``statistics.median`` and ``percentile_cont(0.5)`` both do)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            function="reports_median",
            template="%(function)s(%(expressions)s)",
            **extra_context,
        )


class DaysBetween(Func):
    """Whole days from the first date to the second (negative if the second is earlier)."""

    arity = 2
    output_field = IntegerField()

    def __init__(self, first: Any, second: Any, **extra: Any) -> None:
        # Stored as (second, first): the SQL below reads "second - first".
        super().__init__(second, first, **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        # date - date is an integer number of days in PostgreSQL.
        return self.as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ")

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
        )


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[Any] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return float(statistics.median(self.values)) if self.values else None


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: SQLite's median aggregate for ``Median``."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("reports_median", 1, _SqliteMedian)
