"""The pain local-date migration dates existing email check-ins and deletes none."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BACKFILL = "painreport_local_date_backfill"
CONSTRAINT = "painreport_one_email_link_per_local_day"


def _key(name: str) -> tuple[str, str]:
    loader = MigrationExecutor(connection).loader
    (key,) = [k for k in loader.disk_migrations if k[0] == "patients" and k[1].endswith(name)]
    return key


@pytest.mark.django_db(transaction=True)
def test_existing_email_check_ins_get_their_local_day_and_same_day_duplicates_are_kept():
    backfill, constraint = _key(BACKFILL), _key(CONSTRAINT)
    loader = MigrationExecutor(connection).loader
    (before,) = [d for d in loader.graph.node_map[backfill].parents if d.key[0] == "patients"]
    executor = MigrationExecutor(connection)
    executor.migrate([before.key])
    try:
        old = executor.loader.project_state([before.key]).apps
        patient = old.get_model("patients", "Patient").objects.create(
            first_name="Ada",
            last_name="Old",
            date_of_birth=dt.date(1960, 1, 2),
            timezone="America/New_York",
        )
        report = old.get_model("patients", "PainReport").objects

        def at(day, hour):
            return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)

        morning = report.create(
            patient_id=patient.pk, score=7, source="email_link", reported_at=at(9, 15)
        )
        # 02:00 UTC on the 10th is 22:00 on the 9th in New York: the same local day.
        evening = report.create(
            patient_id=patient.pk, score=5, source="email_link", reported_at=at(10, 2)
        )
        next_day = report.create(
            patient_id=patient.pk, score=4, source="email_link", reported_at=at(10, 15)
        )
        visit = report.create(
            patient_id=patient.pk, score=6, source="visit", reported_at=at(10, 16)
        )
        executor = MigrationExecutor(connection)
        executor.migrate([constraint])
        new = executor.loader.project_state([constraint]).apps
        dates = dict(
            new.get_model("patients", "PainReport").objects.values_list("id", "local_date")
        )
        assert dates == {
            morning.pk: None,
            evening.pk: dt.date(2026, 3, 9),
            next_day.pk: dt.date(2026, 3, 10),
            visit.pk: None,
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
