"""The rollup of finished days behind attendance and utilisation (clinic/reports/rollup.py):
a finished day is counted once, a later change to one of its visits is picked up, and
the figures are those of the visits themselves."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import Appointment, AppointmentStatus, ReportDay, ReportRollup
from clinic.reports import rollup, selectors
from clinic.reports.selectors import Period
from clinic.scheduling.services import appointment_mark_no_show
from patients.localtime import clinic_today
from tests.clinic.reports.helpers import END, PERIOD, START, at, now
from tests.factories import (
    AppointmentFactory,
    ExerciseCompletionFactory,
    HomeExerciseProgramFactory,
    PractitionerFactory,
    TherapistFactory,
    UserFactory,
)
from tests.treatments.helpers import exercise
from treatments.models import ExerciseCompletion, HomeExerciseProgram
from treatments.services import home_exercise_program_create

pytestmark = pytest.mark.django_db


def _visit(practitioner, day, status=AppointmentStatus.COMPLETED, hour=10, minutes=30):
    return AppointmentFactory(
        practitioner=practitioner,
        starts_at=at(day, hour),
        ends_at=at(day, hour) + dt.timedelta(minutes=minutes),
        status=status,
    )


def _inserts(queries, table="reportday") -> int:
    return sum(f'INSERT INTO "clinic_{table}"' in q["sql"] for q in queries)


def test_a_finished_week_is_counted_once_and_then_read_from_the_rollup():
    practitioner = PractitionerFactory()
    _visit(practitioner, START + dt.timedelta(days=1))
    _visit(practitioner, START + dt.timedelta(days=2), AppointmentStatus.NO_SHOW)
    # Saved long ago: a change within rollup.MARGIN of a refresh is looked at again.
    Appointment.objects.update(updated_at=at(START))

    with CaptureQueriesContext(connection) as first:
        report = selectors.attendance(PERIOD, now=now())
    assert (report.total.due, report.total.no_shows) == (2, 1)
    assert _inserts(first.captured_queries) == 1
    assert ReportDay.objects.filter(practitioner=practitioner).count() == 2
    state = ReportRollup.objects.get(pk=rollup.VISITS)
    assert (state.days_from, state.days_until) == (START, END + dt.timedelta(days=1))

    # A visit slipped in behind the rollup's back (no updated_at change: a bulk update,
    # as no service does) is not seen: the finished days are not counted again.
    Appointment.objects.filter(practitioner=practitioner, status=AppointmentStatus.NO_SHOW).update(
        status=AppointmentStatus.COMPLETED, updated_at=at(START)
    )
    with CaptureQueriesContext(connection) as second:
        again = selectors.attendance(PERIOD, now=now())
    assert _inserts(second.captured_queries) == 0
    # The state, the changed visits, the finished days, today on, the names.
    assert len(second.captured_queries) == 5
    assert (again.total.due, again.total.no_shows) == (2, 1)


def test_the_first_count_keeps_the_changes_it_took_in_so_the_next_read_counts_none_again():
    """Visits saved just now, within the margin of the first read of an empty rollup:
    that read counts their days; the next one finds the same changes handled."""
    practitioner = PractitionerFactory()
    _visit(practitioner, START + dt.timedelta(days=1))
    _visit(practitioner, START + dt.timedelta(days=2), AppointmentStatus.NO_SHOW)

    with CaptureQueriesContext(connection) as first:
        assert selectors.attendance(PERIOD, now=now()).total.no_shows == 1
    assert _inserts(first.captured_queries) == 1
    assert len(ReportRollup.objects.get(pk=rollup.VISITS).handled) == 2

    with CaptureQueriesContext(connection) as second:
        assert selectors.attendance(PERIOD, now=now()).total.no_shows == 1
    assert _inserts(second.captured_queries) == 0
    assert len(second.captured_queries) == 5  # state, changes, finished days, today, names


def test_a_late_change_to_a_finished_day_is_picked_up_on_the_next_read():
    practitioner = PractitionerFactory()
    day = START + dt.timedelta(days=3)
    visit = _visit(practitioner, day, AppointmentStatus.BOOKED)
    _visit(practitioner, day + dt.timedelta(days=1))
    before = selectors.attendance(PERIOD, now=now())
    assert before.total.no_shows == 0
    assert selectors.utilisation(PERIOD, now=now()).total.booked == 60

    # Marked a no-show after the day was rolled up (services save updated_at).
    appointment_mark_no_show(appointment=visit, acting_user=UserFactory())

    with CaptureQueriesContext(connection) as queries:
        after = selectors.attendance(PERIOD, now=now())
    assert _inserts(queries.captured_queries) == 1
    assert (after.total.due, after.total.no_shows) == (2, 1)
    assert after.cells[(practitioner.pk, 0)].no_shows == 1
    # Only that day was counted again; the other day's row is the one from before.
    assert ReportDay.objects.filter(practitioner=practitioner).count() == 2
    assert selectors.utilisation(PERIOD, now=now()).total.booked == 60

    # Read again within the margin: the change was counted, no day is counted again.
    with CaptureQueriesContext(connection) as again:
        assert selectors.attendance(PERIOD, now=now()).total.no_shows == 1
    assert _inserts(again.captured_queries) == 0
    assert len(again.captured_queries) == 5  # state, changes, finished days, today, names


def test_a_change_committed_after_a_refresh_read_the_changes_is_picked_up():
    """A transaction stamps ``updated_at`` when it saves and commits later: a change
    stamped before a refresh's watermark may become visible only after that refresh."""
    practitioner = PractitionerFactory()
    day = START + dt.timedelta(days=3)
    visit = _visit(practitioner, day, AppointmentStatus.BOOKED)
    assert selectors.attendance(PERIOD, now=now()).total.no_shows == 0
    seen_at = ReportRollup.objects.get(pk=rollup.VISITS).seen_at

    Appointment.objects.filter(pk=visit.pk).update(
        status=AppointmentStatus.NO_SHOW, updated_at=seen_at - dt.timedelta(minutes=1)
    )
    with CaptureQueriesContext(connection) as queries:
        assert selectors.attendance(PERIOD, now=now()).total.no_shows == 1
    assert _inserts(queries.captured_queries) == 1


def test_a_cancelled_visit_on_a_finished_day_frees_its_minutes():
    practitioner = PractitionerFactory()
    visit = _visit(practitioner, START, minutes=45)
    assert selectors.utilisation(PERIOD, now=now()).total.booked == 45
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    assert selectors.utilisation(PERIOD, now=now()).total.booked == 0


def test_an_earlier_period_widens_the_rollup_without_a_gap():
    practitioner = PractitionerFactory()
    earlier = Period(START - dt.timedelta(weeks=8), START - dt.timedelta(weeks=6))
    _visit(practitioner, START - dt.timedelta(weeks=7))
    _visit(practitioner, START - dt.timedelta(weeks=2))  # between the two periods
    _visit(practitioner, START + dt.timedelta(days=1))

    assert selectors.attendance(PERIOD, now=now()).total.due == 1
    assert selectors.attendance(earlier, now=now()).total.due == 1
    state = ReportRollup.objects.get(pk=rollup.VISITS)
    assert (state.days_from, state.days_until) == (earlier.start, END + dt.timedelta(days=1))
    # The weeks in between were counted too: the covered days have no hole.
    whole = Period(earlier.start, END)
    assert selectors.attendance(whole, now=now()).total.due == 3


def test_today_is_counted_live_and_never_rolled_up():
    practitioner = PractitionerFactory()
    moment = now()
    today = moment.astimezone(selectors.clinic_zone()).date()
    yesterday = today - dt.timedelta(days=1)
    period = Period(yesterday, today)
    _visit(practitioner, yesterday, hour=9)
    started = AppointmentFactory(
        practitioner=practitioner,
        starts_at=max(moment - dt.timedelta(minutes=1), at(today, 0)),
        ends_at=moment + dt.timedelta(minutes=29),
        status=AppointmentStatus.CHECKED_IN,
    )

    report = selectors.attendance(period, now=moment)

    assert report.total.due == 2
    assert not ReportDay.objects.filter(day=today).exists()
    assert ReportRollup.objects.get(pk=rollup.VISITS).days_until == today
    started.status = AppointmentStatus.NO_SHOW
    started.save()
    assert selectors.attendance(period, now=moment).total.no_shows == 1


# --- Adherence: completions -------------------------------------------------------------


def test_a_completion_recorded_late_for_a_finished_day_is_picked_up():
    therapist = TherapistFactory()
    today = START + dt.timedelta(days=12)
    program = HomeExerciseProgramFactory(prescribed_by=therapist, start_date=START)
    ExerciseCompletionFactory(program=program, date=START + dt.timedelta(days=1))
    ExerciseCompletion.objects.update(created_at=at(START))  # recorded long ago
    HomeExerciseProgram.objects.update(updated_at=at(START), created_at=at(START))

    assert selectors.adherence(PERIOD, today=today).total.done == 1
    with CaptureQueriesContext(connection) as warm:
        assert selectors.adherence(PERIOD, today=today).total.done == 1
    assert _inserts(warm.captured_queries, "reportcompletionday") == 0

    # The patient marks a past day done (the form allows the last few days).
    ExerciseCompletionFactory(program=program, date=START + dt.timedelta(days=2))
    with CaptureQueriesContext(connection) as late:
        report = selectors.adherence(PERIOD, today=today)
    assert _inserts(late.captured_queries, "reportcompletionday") == 1
    assert report.cells[(therapist.pk, 0)].done == 2


def test_the_first_count_of_completions_keeps_the_changes_it_took_in():
    therapist = TherapistFactory()
    today = START + dt.timedelta(days=12)
    program = HomeExerciseProgramFactory(prescribed_by=therapist, start_date=START)
    ExerciseCompletionFactory(program=program, date=START + dt.timedelta(days=1))

    with CaptureQueriesContext(connection) as first:
        assert selectors.adherence(PERIOD, today=today).total.done == 1
    assert _inserts(first.captured_queries, "reportcompletionday") == 1
    with CaptureQueriesContext(connection) as second:
        assert selectors.adherence(PERIOD, today=today).total.done == 1
    assert _inserts(second.captured_queries, "reportcompletionday") == 0


def test_a_program_ended_today_has_the_days_from_yesterday_counted_again():
    therapist = TherapistFactory()
    today = clinic_today()
    period = Period(today - dt.timedelta(days=14), today)
    program = HomeExerciseProgramFactory(
        prescribed_by=therapist, start_date=today - dt.timedelta(days=10)
    )
    for offset in range(1, 10):
        ExerciseCompletionFactory(program=program, date=today - dt.timedelta(days=offset))
    ExerciseCompletion.objects.update(created_at=at(START))
    HomeExerciseProgram.objects.update(updated_at=at(START), created_at=at(START))
    assert selectors.adherence(period, today=today).total.done == 9

    # Ended today, as treatments/services.py ends a program: saved, so updated_at moves.
    program.refresh_from_db()
    program.end_date = today
    program.status = "ended"
    program.save()
    with CaptureQueriesContext(connection) as queries:
        report = selectors.adherence(period, today=today)
    assert _inserts(queries.captured_queries, "reportcompletionday") == 1
    recounted = [q["sql"] for q in queries.captured_queries if "DELETE" in q["sql"]]
    assert str(today - dt.timedelta(days=1)) in recounted[0]
    assert report.total.done == 9


def test_a_program_prescribed_today_counts_no_finished_day_again():
    therapist = TherapistFactory()
    today = clinic_today()
    period = Period(today - dt.timedelta(days=14), today)
    old = HomeExerciseProgramFactory(prescribed_by=therapist, start_date=today - dt.timedelta(7))
    ExerciseCompletionFactory(program=old, date=today - dt.timedelta(days=2))
    ExerciseCompletion.objects.update(created_at=at(START))
    HomeExerciseProgram.objects.update(updated_at=at(START), created_at=at(START))
    assert selectors.adherence(period, today=today).total.done == 1

    # Prescribed at today's visit, starting today: no finished day is touched.
    HomeExerciseProgramFactory(prescribed_by=therapist, start_date=today)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.adherence(period, today=today).total.done == 1
    assert _inserts(queries.captured_queries, "reportcompletionday") == 0


def test_a_program_prescribed_today_with_an_earlier_start_has_its_days_counted():
    therapist = TherapistFactory()
    today = clinic_today()
    period = Period(today - dt.timedelta(days=14), today)
    HomeExerciseProgramFactory(prescribed_by=therapist, start_date=today - dt.timedelta(days=10))
    HomeExerciseProgram.objects.update(updated_at=at(START), created_at=at(START))
    assert selectors.adherence(period, today=today).total.prescribed == 10

    # Written up today for the program the patient was given a week ago.
    late = HomeExerciseProgramFactory(prescribed_by=therapist, start_date=today - dt.timedelta(7))
    ExerciseCompletionFactory(program=late, date=today - dt.timedelta(days=5))
    report = selectors.adherence(period, today=today)
    assert (report.total.prescribed, report.total.done) == (17, 1)


def _supersede(old, *, start):
    """A new program for ``old``'s patient, prescribed by the service the program form
    calls: it supersedes ``old``."""
    return home_exercise_program_create(
        patient=old.patient,
        acting_user=old.prescribed_by,
        start_date=start,
        end_date=None,
        reminder_time=dt.time(18, 0),
        reminder_days=list(range(7)),
        reminders_enabled=True,
        items=[{"exercise": exercise("calf-raises"), "sets": 2, "reps": 10}],
    )


@pytest.mark.parametrize(
    ("old_start", "new_start", "new_end", "prescribed"),
    [
        # Superseded by one back-dated to 5 days ago: 15 days of the old, 5 of the new
        # (the old one, left without an end date, counted all 20 days besides).
        (-20, -5, None, 20),
        # The new one was ended 5 days ago: the old one does not run again after it.
        (-20, -10, -5, 16),
        # The new one starts before the old did: the old one's start day is counted once.
        (-3, -5, None, 5),
    ],
)
def test_a_patient_day_counts_once_when_a_program_is_superseded(
    old_start, new_start, new_end, prescribed
):
    therapist = TherapistFactory()
    today = clinic_today()
    period = Period(today - dt.timedelta(days=30), today)
    old = HomeExerciseProgramFactory(
        prescribed_by=therapist, start_date=today + dt.timedelta(days=old_start)
    )
    new = _supersede(old, start=today + dt.timedelta(days=new_start))
    if new_end is not None:
        new.status = "ended"
        new.end_date = today + dt.timedelta(days=new_end)
        new.save()
    ExerciseCompletionFactory(program=new, date=today + dt.timedelta(days=new_start))
    report = selectors.adherence(period, today=today)
    assert (report.total.prescribed, report.total.done) == (prescribed, 1)


def test_a_program_ended_on_the_day_a_new_one_starts_shares_the_day():
    """Ended at the morning visit and replaced the same day: one prescribed day, the
    new program's, for the patient."""
    therapist = TherapistFactory()
    today = clinic_today()
    period = Period(today - dt.timedelta(days=30), today)
    switch = today - dt.timedelta(days=4)
    old = HomeExerciseProgramFactory(
        prescribed_by=therapist,
        start_date=today - dt.timedelta(days=10),
        end_date=switch,
        status="ended",
    )
    new = HomeExerciseProgramFactory(
        patient=old.patient, prescribed_by=therapist, start_date=switch
    )
    ExerciseCompletionFactory(program=new, date=switch)
    report = selectors.adherence(period, today=today)
    assert (report.total.prescribed, report.total.done) == (10, 1)


def test_programs_superseded_before_ending_them_was_the_rule_are_ended_and_recounted():
    """The migration that gives superseded programs their end date (treatments 0010)
    also empties the adherence rollup, so the days they had counted are counted again."""
    import importlib

    from django.apps import apps

    from clinic.models import ReportCompletionDay

    migration = importlib.import_module("treatments.migrations.0010_superseded_programs_end")
    therapist = TherapistFactory()
    today = clinic_today()
    period = Period(today - dt.timedelta(days=30), today)
    old = HomeExerciseProgramFactory(
        prescribed_by=therapist, start_date=today - dt.timedelta(days=20), status="superseded"
    )
    HomeExerciseProgramFactory(
        patient=old.patient,
        prescribed_by=therapist,
        start_date=today - dt.timedelta(days=10),
        end_date=today - dt.timedelta(days=5),
        status="ended",
    )
    orphan = HomeExerciseProgramFactory(
        prescribed_by=therapist, start_date=today - dt.timedelta(days=3), status="superseded"
    )
    HomeExerciseProgram.objects.filter(pk=orphan.pk).update(updated_at=at(today, 12))
    # The old one ran on after the new one ended: 10 + 4 days, 6 of the new one's, 3.
    assert selectors.adherence(period, today=today).total.prescribed == 10 + 4 + 6 + 3

    with CaptureQueriesContext(connection) as queries:
        migration.end_superseded(apps, None)
    # The programs, their end dates, the rollup emptied and reset: whatever the patients.
    assert len(queries.captured_queries) == 4
    old.refresh_from_db()
    orphan.refresh_from_db()
    assert old.end_date == today - dt.timedelta(days=11)
    assert orphan.end_date == today  # no successor left: the day it was superseded
    assert not ReportCompletionDay.objects.exists()
    assert selectors.adherence(period, today=today).total.prescribed == 10 + 6 + 3


def test_only_a_programs_exercise_days_are_prescribed_as_on_the_patients_page():
    """A Monday, Wednesday and Friday program over two weeks: 6 prescribed days, not 14;
    a Tuesday marked done is shown to the patient but is no prescribed day's. The
    patient's program page gives the same figures (treatments/selectors.py)."""
    from treatments.selectors import adherence_compute

    therapist = TherapistFactory()
    program = HomeExerciseProgramFactory(
        prescribed_by=therapist,
        start_date=START,
        end_date=START + dt.timedelta(days=13),
        reminder_days=[0, 2, 4],
    )
    done = [START, START + dt.timedelta(days=1), START + dt.timedelta(days=9)]  # Mon, Tue, Wed
    for day in done:
        ExerciseCompletionFactory(program=program, date=day)
    report = selectors.adherence(PERIOD, today=END + dt.timedelta(days=1))
    assert (report.total.prescribed, report.total.done) == (6, 2)
    assert (report.by_week[0].prescribed, report.by_week[1].prescribed) == (3, 3)
    page = adherence_compute(
        start_date=program.start_date,
        end_date=program.end_date,
        weekdays=program.reminder_days,
        completed=set(done),
        today=START + dt.timedelta(days=13),
        days=14,
    )
    assert (page.prescribed_days, page.done_days) == (6, 2)
