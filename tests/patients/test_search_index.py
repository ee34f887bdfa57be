"""The registry's name search has a trigram index on PostgreSQL (migration 0008)."""

import json

import pytest
from django.db import connection

from patients.selectors import patient_search
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Planner settings last for this transaction only (the test's own). Two rows
        # are cheaper to scan than to look up, so scans are ruled out: with only
        # bitmap scans left, an index that cannot serve LIKE '%word%' cannot be used.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        return json.dumps(cursor.fetchone()[0])


def test_name_search_uses_the_trigram_index_on_postgresql(require_service):
    require_service("postgresql")
    patient = PatientFactory(first_name="José", last_name="Núñez")
    PatientFactory(first_name="Ann", last_name="Smith")
    results = patient_search(query="nunez jose")
    assert list(results) == [patient]
    assert "patient_search_name_trgm_idx" in _plan(results)


def test_the_trigram_index_exists_only_on_postgresql():
    with connection.cursor() as cursor:
        names = {
            index
            for index, info in connection.introspection.get_constraints(
                cursor, "patients_patient"
            ).items()
            if info["index"]
        }
    assert ("patient_search_name_trgm_idx" in names) is (connection.vendor == "postgresql")
