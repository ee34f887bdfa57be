"""patients/sql.py: the busiest plain SQL, prepared once per connection on PostgreSQL."""

import pytest
from django.db import connection, transaction
from django.urls import reverse

from patients import sql as prepared
from tests.factories import PainReportFactory, PatientFactory

pytestmark = pytest.mark.django_db

QUERY = "SELECT id, score FROM patients_painreport WHERE patient_id = %s ORDER BY id LIMIT %s"


def _run(query, params):
    with connection.cursor() as cursor:
        prepared.execute(cursor, query, params, label="test")
        return cursor.fetchall()


def _prepared_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


def test_it_gives_what_the_plain_query_gives():
    patient = PatientFactory()
    reports = [PainReportFactory(patient=patient, score=n) for n in (3, 7, 5)]
    PainReportFactory(score=9)  # another patient's
    expected = [(r.pk, r.score) for r in reports[:2]]
    assert _run(QUERY, [patient.pk, 2]) == expected
    assert _run(QUERY, [patient.pk, 2]) == expected
    assert _run(QUERY, [patient.pk, 5]) == [(r.pk, r.score) for r in reports]


def test_on_postgresql_a_statement_is_prepared_once_and_outlives_a_rollback(require_service):
    require_service("postgresql")
    patient = PatientFactory()
    PainReportFactory(patient=patient, score=4)
    query = QUERY + " -- test: prepared once"
    before = _prepared_statements()
    assert _run(query, [patient.pk, 1])[0][1] == 4
    assert _prepared_statements() == before + 1
    try:
        with transaction.atomic():
            assert _run(query, [patient.pk, 1])[0][1] == 4
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert _run(query, [patient.pk, 1])[0][1] == 4  # still prepared: no error
    assert _prepared_statements() == before + 1


def test_on_postgresql_preparing_is_not_a_query_of_the_page(require_service, client_for, therapist):
    """The PREPARE goes through the driver's connection, so the patient page costs the
    same queries on a connection that has prepared nothing as on one that has."""
    from django.test.utils import CaptureQueriesContext

    require_service("postgresql")
    patient = PatientFactory()
    PainReportFactory(patient=patient, score=4)
    client = client_for(therapist)
    url = reverse("patients:detail", args=[patient.pk])
    counts = []
    for fresh in (True, False):
        if fresh:
            prepared._prepared.pop(connection.connection, None)
            with connection.cursor() as cursor:
                cursor.execute("DEALLOCATE ALL")
        before = _prepared_statements()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
        if fresh:
            assert _prepared_statements() > before  # the sections' reads were prepared
    assert counts[0] == counts[1]
    assert any(q["sql"].startswith("EXECUTE clinic_") for q in queries.captured_queries)


def test_only_plain_placeholders_are_accepted():
    with pytest.raises(ValueError):
        prepared._numbered("SELECT 1 WHERE name LIKE '%a%' AND id = %s")
    assert prepared._numbered("a = %s AND b = %s") == "a = $1 AND b = $2"


def test_the_log_of_a_prepared_read_can_be_read_as_its_statement(require_service):
    """Tests that check the SQL a page ran (a window's bounds) read an EXECUTE as the
    statement it runs, with its arguments."""
    from django.test.utils import CaptureQueriesContext

    require_service("postgresql")
    patient = PatientFactory()
    with CaptureQueriesContext(connection) as captured:
        _run(QUERY, [patient.pk, 3])
    (logged,) = [q["sql"] for q in captured.captured_queries]
    assert logged.startswith("EXECUTE clinic_test_")
    assert prepared.logged_sql(logged) == f"{QUERY} -- ({patient.pk}, 3)"
    assert prepared.logged_sql("SELECT 1") == "SELECT 1"


def test_on_postgresql_the_needs_attention_rules_are_prepared(
    require_service, client_for, therapist
):
    """The rules query, planned again on every request it was about 1.5 ms of planning
    for as much running, is executed as a prepared statement."""
    from django.test.utils import CaptureQueriesContext

    require_service("postgresql")
    client = client_for(therapist)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("attention:list")).status_code == 200
    rules = [q["sql"] for q in queries.captured_queries if "clinic_attention_" in q["sql"]]
    assert len(rules) == 1 and rules[0].startswith("EXECUTE clinic_attention_")
    assert "WITH chunk" in prepared.logged_sql(rules[0])


def test_on_postgresql_prepared_statements_keep_their_one_plan(
    require_service, client_for, therapist
):
    """PostgreSQL by default weighs a prepared statement's plan against a fresh plan on
    each run, and at a clinic group's size chose to plan the needs-attention rules anew
    every time; the connection is set to keep the one plan (clinic/settings.py)."""
    require_service("postgresql")
    client = client_for(therapist)
    for _ in range(7):  # past PostgreSQL's five first runs, where it compares the two
        assert client.get(reverse("attention:list")).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE name LIKE 'clinic_attention_%%'"
        )
        plans = cursor.fetchall()
    assert plans and all(custom == 0 for _, custom in plans)
    assert sum(generic for generic, _ in plans) >= 7
