"""The report pages: who may open them, what a manager never sees, query pins, bad filters,
and the audit events of exports and of the therapist's drill-down."""

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import AppointmentStatus, AuditEvent, WorkingHours
from patients.audit import AuditAction
from tests.clinic.reports.helpers import PARAMS, START, at, episode
from tests.factories import (
    AppointmentFactory,
    ExerciseCompletionFactory,
    HomeExerciseProgramFactory,
    PatientFactory,
    TherapistFactory,
)

pytestmark = pytest.mark.django_db

PAGES = ["reports:outcomes", "reports:attendance", "reports:utilisation", "reports:adherence"]
EXPORTS = [
    "reports:outcomes_csv",
    "reports:attendance_csv",
    "reports:utilisation_csv",
    "reports:adherence_csv",
]
DRILL = "reports:outcomes_patients"
PLANTED_FIRST, PLANTED_LAST = "Quillonia", "Zzyxbrandt-Okafor"


def _world(therapist, patients: int = 1, name=None, first: int = 0):
    """``patients`` patients of ``therapist`` with data in every report (numbered from
    ``first``: a second call for the same therapist books other slots)."""
    practitioner = therapist.practitioner
    WorkingHours.objects.get_or_create(
        practitioner=practitioner, weekday=0, start=dt.time(8), end=dt.time(18)
    )
    made = []
    for n in range(first, first + patients):
        given, family = name if (name and n == 0) else (f"Pat{therapist.pk}x{n}", f"Ient{n}")
        patient = PatientFactory(first_name=given, last_name=family)
        day = START + dt.timedelta(days=7 * (n % 10))
        episode(
            therapist,
            patient=patient,
            start=day,
            lefs_total=31,
            pain_now=7,
            follow_ups=[(14, {"lefs_total": 47, "pain_now": 3})],
        )
        for hour, status in ((9, AppointmentStatus.COMPLETED), (10, AppointmentStatus.NO_SHOW)):
            AppointmentFactory(
                patient=patient,
                practitioner=practitioner,
                starts_at=at(day, hour + n % 8),
                ends_at=at(day, hour + n % 8) + dt.timedelta(minutes=30),
                status=status,
            )
        program = HomeExerciseProgramFactory(
            patient=patient,
            prescribed_by=therapist,
            start_date=day,
            end_date=day + dt.timedelta(days=6),
        )
        ExerciseCompletionFactory(program=program, date=day)
        made.append(patient)
    return made


# --- Access -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES + EXPORTS)
def test_managers_and_therapists_open_the_reports_front_desk_may_not(client_for, role_users, name):
    url = reverse(name)
    assert client_for(role_users["manager"]).get(url, PARAMS).status_code == 200
    assert client_for(role_users["therapist"]).get(url, PARAMS).status_code == 200
    assert client_for(role_users["front_desk"]).get(url, PARAMS).status_code == 403
    response = client_for(None).get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_only_a_therapist_opens_the_drill_down(client_for, role_users):
    url = reverse(DRILL)
    assert client_for(role_users["therapist"]).get(url, PARAMS).status_code == 200
    assert client_for(role_users["manager"]).get(url, PARAMS).status_code == 403
    assert client_for(role_users["front_desk"]).get(url, PARAMS).status_code == 403
    # Refused: a clinical page, so the refusal is in the audit log.
    assert AuditEvent.objects.filter(
        action=AuditAction.ACCESS_DENIED, actor=role_users["manager"]
    ).exists()


def test_the_reports_are_in_the_navigation_of_managers_and_therapists_only(client_for, role_users):
    link = f'href="{reverse("reports:outcomes")}"'
    assert link in client_for(role_users["manager"]).get(reverse("today")).content.decode()
    assert link in client_for(role_users["therapist"]).get(reverse("today")).content.decode()
    assert link not in client_for(role_users["front_desk"]).get(reverse("today")).content.decode()


# --- What a manager sees ----------------------------------------------------------------


def test_no_manager_report_page_or_csv_names_a_patient(client_for, manager, therapist):
    (planted,) = _world(therapist, name=(PLANTED_FIRST, PLANTED_LAST))
    client = client_for(manager)
    for name in PAGES + EXPORTS:
        for params in (PARAMS, {**PARAMS, "measure": "nprs"}):
            response = client.get(reverse(name), params)
            assert response.status_code == 200, name
            body = response.content.decode()
            assert PLANTED_FIRST not in body and PLANTED_LAST not in body, name
            assert reverse("patients:detail", args=[planted.pk]) not in body, name
    # The data is there: the therapist's own drill-down names the patient.
    drill = client_for(therapist).get(reverse(DRILL), PARAMS).content.decode()
    assert f"{PLANTED_FIRST} {PLANTED_LAST}" in drill


def test_outcomes_page_shows_the_figures_and_a_drill_link_on_the_therapists_own_row_only(
    client_for, therapist
):
    other = TherapistFactory()
    _world(therapist, 2)
    _world(other, 1)
    drill = reverse(DRILL)
    own = client_for(therapist).get(reverse("reports:outcomes"), PARAMS)
    body = own.content.decode()
    assert body.count(drill) == 1
    rows = {row.therapist_id: row for row in own.context["report"].by_therapist}
    assert (rows[therapist.pk].episodes, rows[therapist.pk].reached) == (2, 2)
    assert rows[therapist.pk].median_change == 16.0
    assert "<svg" in body and 'role="img"' in body and "<title" in body


def test_manager_sees_no_drill_link(client_for, manager, therapist):
    _world(therapist)
    body = client_for(manager).get(reverse("reports:outcomes"), PARAMS).content.decode()
    assert reverse(DRILL) not in body


def test_drill_down_lists_the_therapists_own_patients_only_and_is_audited(client_for, therapist):
    mine = _world(therapist, 2)
    theirs = _world(TherapistFactory(), 1)
    client = client_for(therapist)  # signing in is audited too
    before = AuditEvent.objects.count()
    response = client.get(reverse(DRILL), PARAMS)
    body = response.content.decode()
    for patient in mine:
        assert patient.full_name in body
    assert theirs[0].full_name not in body
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.action == AuditAction.VIEW and event.actor == therapist
    assert event.object_type == "clinic.reports.outcomes"
    assert {int(pk) for pk in event.clinical_detail.removeprefix("patients ").split(", ")} == {
        p.pk for p in mine
    }


# --- Exports ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPORTS)
def test_each_csv_export_is_audited_as_an_export(client_for, manager, therapist, name):
    _world(therapist)
    response = client_for(manager).get(reverse(name), PARAMS)
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    assert len(lines) > 1
    event = AuditEvent.objects.latest("id")
    assert event.action == AuditAction.EXPORT and event.actor == manager
    assert event.patient_id is None
    assert f"{len(lines) - 1} rows" in event.detail


def test_attendance_csv_has_a_row_per_practitioner_and_week(client_for, manager, therapist):
    _world(therapist)
    lines = client_for(manager).get(reverse("reports:attendance_csv"), PARAMS).content.decode()
    rows = lines.strip().splitlines()
    assert rows[0].startswith("practitioner,week_starting,visits_due,no_shows")
    assert len(rows) == 1 + 12
    assert f"{therapist.practitioner.display_name},{START.isoformat()},2,1,0,0.5,0.0" in rows


def test_a_csv_cell_that_looks_like_a_formula_is_defused(client_for, manager, therapist):
    practitioner = therapist.practitioner
    practitioner.display_name = "=HYPERLINK(1)"
    practitioner.save()
    _world(therapist)
    body = client_for(manager).get(reverse("reports:attendance_csv"), PARAMS).content.decode()
    assert "'=HYPERLINK(1)" in body


# --- Bad filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-03-01", "date_to": "2026-02-01"}, "before the start date"),
        ({"date_from": "2024-01-01", "date_to": "2026-01-01"}, "at most 53 weeks"),
        ({"date_from": "2026-02-30"}, "Enter a valid date"),
        ({"date_from": "0001-01-01"}, ""),
        ({"measure": "pain"}, "Select a valid choice"),
    ],
)
def test_a_bad_filter_shows_a_message_and_no_report(client_for, manager, params, message):
    response = client_for(manager).get(reverse("reports:outcomes"), params)
    assert response.status_code == 200
    assert response.context["report"] is None
    body = response.content.decode()
    assert "The report was not run" in body
    assert message in body
    csv = client_for(manager).get(reverse("reports:outcomes_csv"), params)
    assert csv.status_code == 400
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_longest_period_allowed_is_53_weeks(client_for, manager):
    ok = {"date_from": "2025-01-06", "date_to": "2026-01-11"}  # 371 days
    response = client_for(manager).get(reverse("reports:attendance"), ok)
    assert response.context["report"] is not None
    assert len(response.context["weeks"]) == 53
    too_long = {"date_from": "2025-01-05", "date_to": "2026-01-11"}
    assert (
        client_for(manager).get(reverse("reports:attendance"), too_long).context["report"] is None
    )


def test_no_parameters_is_the_default_twelve_weeks(client_for, manager):
    response = client_for(manager).get(reverse("reports:utilisation"))
    assert len(response.context["form"].period.weeks) == 12


# --- Query pins -------------------------------------------------------------------------

# Every page: session, user, the user's own and their groups' permissions, then its own:
# - outcomes: the figures at three levels in one query (CTE), therapists' names;
# - attendance: counts per practitioner and week, practitioners' names;
# - utilisation: booked minutes, working hours, time off, closures, practitioners' names;
# - adherence: prescribed days and completions, therapists' names;
# - the drill-down: the therapist's episodes, its audit event;
# - a CSV: the report's queries and the export's audit event.
# Attendance, utilisation and adherence first bring their rollup of finished days up to date
# (clinic/reports/rollup.py). On this first read every day is counted: the state; then in
# a savepoint (the test runs in a transaction) the state locked, the changes of the last
# minutes (kept as counted), delete, insert, update. They then read the finished days and
# today on apart (one more query; adherence reads finished days only). A later read only
# looks up the changes (tests/clinic/reports/test_rollup.py).
ROLLUP = 1 + 2 + 5 + 1
# Outcomes and the drill-down first bring the rollup of ended episodes up to date. On this
# first read every plan is worked out: the state; then in a savepoint the state locked,
# the changes of the last minutes (kept as worked out), delete, insert, update. A later
# read only looks up the changes.
EPISODES = 1 + 2 + 5
QUERIES = {
    "reports:outcomes": 4 + 2 + EPISODES,
    "reports:attendance": 4 + 2 + ROLLUP,
    "reports:utilisation": 4 + 5 + ROLLUP,
    "reports:adherence": 4 + 2 + ROLLUP - 1,
    "reports:outcomes_csv": 4 + 2 + EPISODES + 1,
    "reports:attendance_csv": 4 + 2 + ROLLUP + 1,
    "reports:utilisation_csv": 4 + 5 + ROLLUP + 1,
    "reports:adherence_csv": 4 + 2 + ROLLUP - 1 + 1,
}


@pytest.mark.parametrize("patients", [1, 8])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_report_pages_run_the_same_queries_whatever_the_data(
    client_for, manager, therapist, django_assert_num_queries, name, patients
):
    _world(therapist, patients)
    _world(TherapistFactory(), patients)
    client = client_for(manager)
    with django_assert_num_queries(QUERIES[name]):
        response = client.get(reverse(name), PARAMS)
    assert response.status_code == 200


@pytest.mark.parametrize("patients", [1, 8])
def test_the_drill_down_runs_the_same_queries_whatever_the_data(
    client_for, therapist, django_assert_num_queries, patients
):
    _world(therapist, patients)
    client = client_for(therapist)
    # Session, user, the user's own and their groups' permissions, the episodes' rollup
    # (its first read), the episodes, the audit event.
    with django_assert_num_queries(6 + EPISODES):
        response = client.get(reverse(DRILL), PARAMS)
    assert len(response.context["rows"]) == patients


def test_a_manager_sees_no_median_of_fewer_than_five_measured_episodes(
    client_for, manager, therapist
):
    _world(therapist, 4)  # four measured episodes, each +16
    url = reverse("reports:outcomes")
    hidden = client_for(manager).get(url, PARAMS)
    assert all(row.median_change is None for row in hidden.context["report"].by_therapist)
    assert "fewer than 5 measured" in hidden.content.decode()
    csv_rows = client_for(manager).get(reverse("reports:outcomes_csv"), PARAMS).content.decode()
    assert "16.0" not in csv_rows
    # The therapist, who may see the scores themselves, sees the medians.
    shown = client_for(therapist).get(url, PARAMS)
    assert shown.context["report"].total.median_change == 16.0
    _world(therapist, 1, first=4)  # a fifth: the manager sees the clinic's median too
    assert client_for(manager).get(url, PARAMS).context["report"].total.median_change == 16.0
