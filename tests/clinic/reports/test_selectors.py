"""Each report's arithmetic on small hand-built data, boundaries included."""

import datetime as dt

import pytest

from clinic.models import AppointmentStatus, TimeOff, WorkingHours
from clinic.reports import selectors
from clinic.reports.selectors import LEFS, NPRS, Period
from patients.models import RecordStatus
from tests.clinic.reports.helpers import END, PERIOD, START, at, episode, now, signed
from tests.factories import (
    AppointmentFactory,
    AssessmentFactory,
    ExerciseCompletionFactory,
    HomeExerciseProgramFactory,
    PatientFactory,
    PractitionerFactory,
    TherapistFactory,
)

pytestmark = pytest.mark.django_db


# --- Period -----------------------------------------------------------------------------


def test_the_default_period_is_twelve_weeks_from_a_monday_to_today():
    period = selectors.default_period(dt.date(2026, 3, 26))  # a Thursday
    assert period.start == dt.date(2026, 1, 5)  # Monday 11 weeks before this week's
    assert period.end == dt.date(2026, 3, 26)
    assert len(period.weeks) == 12
    assert period.weeks[-1].days == 4  # Monday to Thursday


def test_weeks_are_counted_from_the_first_day_and_the_last_may_be_short():
    weeks = Period(dt.date(2026, 1, 7), dt.date(2026, 1, 22)).weeks
    assert [(w.start, w.end) for w in weeks] == [
        (dt.date(2026, 1, 7), dt.date(2026, 1, 13)),
        (dt.date(2026, 1, 14), dt.date(2026, 1, 20)),
        (dt.date(2026, 1, 21), dt.date(2026, 1, 22)),
    ]


# --- Outcomes ---------------------------------------------------------------------------


def test_lefs_outcomes_count_share_median_change_and_median_days():
    therapist = TherapistFactory()
    # Reaches the MCID with exactly +9 on day 21 (after +8 on day 7); last is +12.
    episode(
        therapist,
        lefs_total=40,
        follow_ups=[(7, {"lefs_total": 48}), (21, {"lefs_total": 49}), (35, {"lefs_total": 52})],
    )
    # +8 only: measured, not reached.
    episode(therapist, lefs_total=50, follow_ups=[(14, {"lefs_total": 58})])
    # Only a baseline: an episode, not measured.
    episode(therapist, lefs_total=30)
    # A follow-up after the plan ended, and a draft one, do not count.
    plan = episode(therapist, lefs_total=20, ended_after_days=10)
    signed(plan.patient, therapist, at(START + dt.timedelta(days=30)), lefs_total=60)
    AssessmentFactory(
        patient=plan.patient,
        therapist=therapist,
        assessed_at=at(START + dt.timedelta(days=12)),
        lefs_total=70,
        status=RecordStatus.DRAFT,
    )
    # Started before the period: not in it.
    episode(therapist, start=START - dt.timedelta(days=1), lefs_total=10,
            follow_ups=[(7, {"lefs_total": 60})])  # fmt: skip

    report = selectors.outcomes(PERIOD, LEFS, now=now())

    (row,) = report.by_therapist
    assert row.therapist_id == therapist.pk
    assert (row.episodes, row.measured, row.reached) == (4, 2, 1)
    assert row.share == 0.5
    assert row.median_change == 10.0  # (12 + 8) / 2
    assert row.median_days == pytest.approx(21.0)
    assert report.total.episodes == 4


def test_lefs_mcid_is_nine_points_not_eight():
    therapist = TherapistFactory()
    episode(therapist, lefs_total=40, follow_ups=[(10, {"lefs_total": 48})])
    episode(therapist, lefs_total=40, follow_ups=[(10, {"lefs_total": 49})])
    report = selectors.outcomes(PERIOD, LEFS, now=now())
    assert (report.total.measured, report.total.reached) == (2, 1)


@pytest.mark.parametrize(
    ("first", "later", "reached"),
    [
        (5, 4, False),  # 1 point, 20 %
        (5, 3, True),  # 2 points
        (3, 2, True),  # 1 point but 33 %
        (4, 3, False),  # 1 point, 25 %
        (10, 7, True),  # 3 points, 30 % exactly
        (0, 0, False),  # no change from no pain
        (4, 6, False),  # worse
    ],
)
def test_nprs_mcid_is_two_points_or_thirty_percent(first, later, reached):
    therapist = TherapistFactory()
    episode(therapist, pain_now=first, follow_ups=[(10, {"pain_now": later})])
    report = selectors.outcomes(PERIOD, NPRS, now=now())
    assert report.total.measured == 1
    assert report.total.reached == int(reached)
    assert report.total.median_change == later - first


def test_outcomes_group_by_therapist_first_cause_and_region():
    alex, blair = TherapistFactory(), TherapistFactory()
    episode(alex, lefs_total=40, suspected_causes=["tendinitis", "arthritis"], region="ankle",
            follow_ups=[(10, {"lefs_total": 50})])  # fmt: skip
    episode(alex, lefs_total=40, suspected_causes=["tendinitis"], region="ankle",
            follow_ups=[(10, {"lefs_total": 44})])  # fmt: skip
    episode(alex, lefs_total=40, suspected_causes=[], region="knee")
    episode(blair, lefs_total=40, suspected_causes=["arthritis"], region="knee",
            follow_ups=[(10, {"lefs_total": 60})])  # fmt: skip

    report = selectors.outcomes(PERIOD, LEFS, now=now())

    detail = {(r.therapist_id, r.cause, r.region): r for r in report.detail}
    tendinitis = detail[(alex.pk, "Tendinitis", "Ankle")]
    assert (tendinitis.episodes, tendinitis.measured, tendinitis.reached) == (2, 2, 1)
    assert tendinitis.median_change == 7.0
    assert detail[(alex.pk, selectors.NO_CAUSE, "Knee")].episodes == 1
    assert detail[(blair.pk, "Joint damage (arthritis)", "Knee")].reached == 1
    assert {r.therapist_id: r.episodes for r in report.by_therapist} == {alex.pk: 3, blair.pk: 1}
    assert (report.total.episodes, report.total.measured, report.total.reached) == (4, 3, 2)


def test_a_therapists_own_episodes_name_the_patients_and_theirs_only():
    alex, blair = TherapistFactory(), TherapistFactory()
    mine = episode(alex, lefs_total=40, follow_ups=[(14, {"lefs_total": 50})])
    episode(blair, lefs_total=40, follow_ups=[(14, {"lefs_total": 50})])
    (row,) = selectors.therapist_episodes(alex.pk, PERIOD, LEFS, now=now()).object_list
    assert row.patient_id == mine.patient_id
    assert row.name == mine.patient.full_name
    assert (row.baseline, row.change, row.reached) == (40, 10, True)
    assert row.days_to_mcid == pytest.approx(14.0)


# --- Attendance -------------------------------------------------------------------------


def _visit(practitioner, day, status=AppointmentStatus.COMPLETED, late=False, hour=10):
    return AppointmentFactory(
        practitioner=practitioner,
        starts_at=at(day, hour),
        ends_at=at(day, hour) + dt.timedelta(minutes=30),
        status=status,
        late_cancellation=late,
    )


def test_attendance_rates_leave_out_timely_cancellations():
    practitioner = PractitionerFactory()
    day = START + dt.timedelta(days=2)
    for hour in (9, 10, 11):
        _visit(practitioner, day, hour=hour)
    _visit(practitioner, day, AppointmentStatus.NO_SHOW, hour=12)
    _visit(practitioner, day, AppointmentStatus.CANCELLED, late=True, hour=13)
    _visit(practitioner, day, AppointmentStatus.CANCELLED, late=False, hour=14)

    report = selectors.attendance(PERIOD, now=now())

    cell = report.cells[(practitioner.pk, 0)]
    assert (cell.due, cell.no_shows, cell.late) == (5, 1, 1)
    assert cell.no_show_rate == cell.late_rate == 0.2
    assert report.by_practitioner[practitioner.pk].due == 5
    assert report.total.due == 5


def test_attendance_weeks_split_at_local_midnight_and_stop_now():
    practitioner = PractitionerFactory()
    monday = START + dt.timedelta(days=7)
    _visit(practitioner, monday - dt.timedelta(days=1), hour=23)  # Sunday 23:00: week 0
    _visit(practitioner, monday, AppointmentStatus.NO_SHOW, hour=0)  # Monday 00:00: week 1
    _visit(practitioner, END + dt.timedelta(days=1), hour=8)  # after the period
    cut = at(START + dt.timedelta(days=20))
    _visit(practitioner, START + dt.timedelta(days=21))  # after "now"

    report = selectors.attendance(PERIOD, now=cut)

    assert report.cells[(practitioner.pk, 0)].due == 1
    assert report.cells[(practitioner.pk, 1)].no_shows == 1
    assert report.total.due == 2


# --- Utilisation ------------------------------------------------------------------------


def test_working_minutes_are_working_hours_less_time_off():
    practitioner = PractitionerFactory()
    monday = START
    WorkingHours.objects.create(
        practitioner=practitioner, weekday=0, start=dt.time(9), end=dt.time(17)
    )
    WorkingHours.objects.create(
        practitioner=practitioner, weekday=2, start=dt.time(9), end=dt.time(12)
    )
    # Two hours off on the first Monday; the whole next Wednesday and more.
    TimeOff.objects.create(
        practitioner=practitioner, starts_at=at(monday, 13), ends_at=at(monday, 15)
    )
    TimeOff.objects.create(
        practitioner=practitioner,
        starts_at=at(monday + dt.timedelta(days=8), 0),
        ends_at=at(monday + dt.timedelta(days=10), 0),
    )
    minutes = selectors.working_minutes(monday, monday + dt.timedelta(days=13))[practitioner.pk]
    assert minutes[monday] == 6 * 60
    assert minutes[monday + dt.timedelta(days=1)] == 0  # no hours on Tuesdays
    assert minutes[monday + dt.timedelta(days=2)] == 3 * 60
    assert minutes[monday + dt.timedelta(days=7)] == 8 * 60
    assert minutes[monday + dt.timedelta(days=9)] == 0  # Wednesday off
    assert sum(minutes.values()) == (6 + 3 + 8) * 60


def test_working_minutes_leave_out_the_days_the_clinic_is_closed():
    from clinic.models import ClinicClosure

    practitioner = PractitionerFactory()
    monday = START
    for weekday in range(5):
        WorkingHours.objects.create(
            practitioner=practitioner, weekday=weekday, start=dt.time(9), end=dt.time(17)
        )
    # Closed Wednesday to Thursday of the first week, and a closure ending the day before.
    ClinicClosure.objects.create(
        starts_on=monday + dt.timedelta(days=2),
        ends_on=monday + dt.timedelta(days=3),
        reason="Renovation",
    )
    ClinicClosure.objects.create(
        starts_on=monday - dt.timedelta(days=7), ends_on=monday - dt.timedelta(days=1), reason="x"
    )
    minutes = selectors.working_minutes(monday, monday + dt.timedelta(days=6))[practitioner.pk]
    assert minutes[monday + dt.timedelta(days=1)] == 8 * 60
    assert minutes[monday + dt.timedelta(days=2)] == 0
    assert minutes[monday + dt.timedelta(days=3)] == 0
    assert sum(minutes.values()) == 3 * 8 * 60


def test_utilisation_is_booked_minutes_over_working_minutes():
    practitioner = PractitionerFactory()
    WorkingHours.objects.create(
        practitioner=practitioner, weekday=0, start=dt.time(9), end=dt.time(17)
    )
    TimeOff.objects.create(practitioner=practitioner, starts_at=at(START, 9), ends_at=at(START, 11))
    for status, hour in (
        (AppointmentStatus.COMPLETED, 11),
        (AppointmentStatus.NO_SHOW, 12),
        (AppointmentStatus.CANCELLED, 13),  # freed: not booked time
    ):
        AppointmentFactory(
            practitioner=practitioner,
            starts_at=at(START, hour),
            ends_at=at(START, hour) + dt.timedelta(minutes=60),
            status=status,
        )
    report = selectors.utilisation(PERIOD)
    first = report.cells[(practitioner.pk, 0)]
    assert (first.booked, first.working) == (120, 360)
    assert first.rate == pytest.approx(1 / 3)
    assert report.cells[(practitioner.pk, 1)].working == 480
    assert report.by_practitioner[practitioner.pk].working == 360 + 11 * 480
    assert report.total.booked == 120


# --- Adherence --------------------------------------------------------------------------


def test_adherence_is_days_done_over_prescribed_days_up_to_yesterday():
    therapist = TherapistFactory()
    today = START + dt.timedelta(days=12)  # Saturday of week 1
    program = HomeExerciseProgramFactory(
        prescribed_by=therapist, start_date=START + dt.timedelta(days=3)
    )
    for offset in (3, 4, 10, 12):  # the last one is today: not over yet
        ExerciseCompletionFactory(program=program, date=START + dt.timedelta(days=offset))
    # An ended program: days up to its end date only.
    ended = HomeExerciseProgramFactory(
        prescribed_by=therapist,
        start_date=START - dt.timedelta(days=10),
        end_date=START + dt.timedelta(days=1),
        status="ended",
    )
    ExerciseCompletionFactory(program=ended, date=START)
    ExerciseCompletionFactory(program=ended, date=START + dt.timedelta(days=5))  # after its end

    report = selectors.adherence(PERIOD, today=today)

    assert report.last_day == today - dt.timedelta(days=1)
    week0 = report.cells[(therapist.pk, 0)]
    # Days 3-6 of the program (4) plus days 0-1 of the ended one (2); done 3, 4 and 0.
    assert (week0.prescribed, week0.done) == (6, 3)
    week1 = report.cells[(therapist.pk, 1)]
    assert (week1.prescribed, week1.done) == (5, 1)  # days 7-11
    assert report.by_therapist[therapist.pk].rate == pytest.approx(4 / 11)


def test_adherence_with_nothing_over_yet_is_empty():
    HomeExerciseProgramFactory(start_date=START)
    report = selectors.adherence(Period(START, END), today=START)
    assert report.total.prescribed == 0
    assert report.therapists == []


def test_a_program_from_before_the_period_counts_from_the_periods_first_day():
    therapist = TherapistFactory()
    program = HomeExerciseProgramFactory(
        prescribed_by=therapist, start_date=START - dt.timedelta(days=30), patient=PatientFactory()
    )
    ExerciseCompletionFactory(program=program, date=START - dt.timedelta(days=1))
    report = selectors.adherence(Period(START, START + dt.timedelta(days=6)), today=END)
    cell = report.cells[(therapist.pk, 0)]
    assert (cell.prescribed, cell.done) == (7, 0)


def test_working_minutes_follow_the_clock_change():
    # 8 March 2026: clocks in New York (the clinic's zone in tests) go from 2:00 to 3:00.
    practitioner = PractitionerFactory()
    WorkingHours.objects.create(
        practitioner=practitioner, weekday=6, start=dt.time(1), end=dt.time(4)
    )
    sunday = dt.date(2026, 3, 8)
    minutes = selectors.working_minutes(sunday - dt.timedelta(days=7), sunday)[practitioner.pk]
    assert minutes[sunday - dt.timedelta(days=7)] == 180
    assert minutes[sunday] == 120
