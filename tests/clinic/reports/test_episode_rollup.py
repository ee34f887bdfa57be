"""The rollup of episodes behind the outcomes report (clinic/reports/rollup.py,
``refresh_episodes``): a plan's outcome is worked out once, a late change to it is
picked up, and the figures are those the assessments give."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import ReportEpisode, ReportRollup
from clinic.reports import rollup, selectors
from clinic.reports.selectors import LEFS, NPRS
from patients.models import Assessment
from tests.clinic.reports.helpers import PERIOD, START, at, episode, now, signed
from tests.factories import TherapistFactory
from treatments.models import TreatmentPlan

pytestmark = pytest.mark.django_db

DAY = START + dt.timedelta(days=7)


def _inserts(queries) -> int:
    return sum('INSERT INTO "clinic_reportepisode"' in q["sql"] for q in queries)


def _age_everything():
    """Saved long ago: a change within rollup.MARGIN of a refresh is looked at again."""
    Assessment.objects.update(updated_at=at(START))
    TreatmentPlan.objects.update(updated_at=at(START))


def _ended(therapist, **kwargs):
    return episode(therapist, start=DAY, ended_after_days=30, **kwargs)


def test_an_ended_episode_is_worked_out_once_and_then_read_from_the_rollup():
    therapist = TherapistFactory()
    plan = _ended(therapist, lefs_total=40, follow_ups=[(14, {"lefs_total": 49})])
    _age_everything()

    with CaptureQueriesContext(connection) as first:
        report = selectors.outcomes(PERIOD, LEFS, now=now())
    assert (report.total.episodes, report.total.measured, report.total.reached) == (1, 1, 1)
    assert _inserts(first.captured_queries) == 1
    row = ReportEpisode.objects.get(plan=plan)
    assert (row.therapist_id, row.patient_id, row.start_date) == (
        therapist.pk,
        plan.patient_id,
        DAY,
    )
    assert (row.lefs_baseline, row.lefs_change, row.lefs_mcid_at) == (
        40,
        9,
        at(DAY + dt.timedelta(days=14)),
    )
    assert ReportRollup.objects.get(pk=rollup.EPISODES).seen_at is not None

    # Nothing changed: the state and the changes are read, nothing is worked out.
    with CaptureQueriesContext(connection) as second:
        again = selectors.outcomes(PERIOD, LEFS, now=now())
    assert _inserts(second.captured_queries) == 0
    assert len(second.captured_queries) == 2 + 2  # rollup state, changes; figures, names
    assert again.total == report.total

    # A follow-up slipped in behind the rollup's back (a bulk update, as no service does)
    # is not seen: the ended episode is not worked out again.
    Assessment.objects.filter(lefs_total=49).update(lefs_total=60, updated_at=at(START))
    assert selectors.outcomes(PERIOD, LEFS, now=now()).total.median_change == 9.0


def test_the_first_read_keeps_the_changes_it_took_in_so_the_next_works_none_out_again():
    """Plans and assessments saved just now, within the margin of the first read: that
    read works every plan out; the next one finds the same changes worked out."""
    therapist = TherapistFactory()
    _ended(therapist, lefs_total=40, follow_ups=[(14, {"lefs_total": 49})])

    with CaptureQueriesContext(connection) as first:
        assert selectors.outcomes(PERIOD, LEFS, now=now()).total.measured == 1
    assert _inserts(first.captured_queries) == 1
    assert ReportRollup.objects.get(pk=rollup.EPISODES).handled

    with CaptureQueriesContext(connection) as second:
        assert selectors.outcomes(PERIOD, LEFS, now=now()).total.measured == 1
    assert _inserts(second.captured_queries) == 0
    assert len(second.captured_queries) == 2 + 2  # rollup state, changes; figures, names


def test_a_late_signed_assessment_in_an_ended_episode_is_picked_up():
    therapist = TherapistFactory()
    plan = _ended(therapist, lefs_total=40, follow_ups=[(7, {"lefs_total": 48})])
    other = _ended(therapist, lefs_total=30, follow_ups=[(7, {"lefs_total": 32})])
    _age_everything()
    report = selectors.outcomes(PERIOD, LEFS, now=now())
    assert (report.total.measured, report.total.reached) == (2, 0)

    # Written and signed today for a visit on day 20 of the ended plan: +10.
    signed(plan.patient, therapist, at(DAY + dt.timedelta(days=20)), lefs_total=50)

    with CaptureQueriesContext(connection) as queries:
        report = selectors.outcomes(PERIOD, LEFS, now=now())
    assert _inserts(queries.captured_queries) == 1
    assert (report.total.measured, report.total.reached) == (2, 1)
    row = ReportEpisode.objects.get(plan=plan)
    assert (row.lefs_change, row.lefs_mcid_at) == (10, at(DAY + dt.timedelta(days=20)))
    # Only that patient's plans were worked out again: the other one is as it was.
    assert ReportEpisode.objects.get(plan=other).lefs_change == 2
    changes = rollup._changed_plans(now() - dt.timedelta(minutes=1), now())
    assert {changed for changed, _ in changes} == {plan.pk}

    # Read again within the margin: the change was taken in, nothing is worked out.
    with CaptureQueriesContext(connection) as again:
        assert selectors.outcomes(PERIOD, LEFS, now=now()).total.reached == 1
    assert _inserts(again.captured_queries) == 0
    assert len(again.captured_queries) == 2 + 2  # rollup state, changes; figures, names


def test_a_change_committed_after_a_refresh_read_the_changes_is_picked_up():
    """A transaction stamps ``updated_at`` when it saves and commits later: a change
    stamped before a refresh's watermark may become visible only after that refresh."""
    therapist = TherapistFactory()
    plan = _ended(therapist, lefs_total=40, follow_ups=[(7, {"lefs_total": 44})])
    _age_everything()
    signed(plan.patient, therapist, at(DAY + dt.timedelta(days=14)), lefs_total=46)
    assert selectors.outcomes(PERIOD, LEFS, now=now()).total.reached == 0
    seen_at = ReportRollup.objects.get(pk=rollup.EPISODES).seen_at

    # Committed now, stamped a minute before that refresh: +10 on day 20.
    late = signed(plan.patient, therapist, at(DAY + dt.timedelta(days=20)), lefs_total=50)
    Assessment.objects.filter(pk=late.pk).update(updated_at=seen_at - dt.timedelta(minutes=1))

    with CaptureQueriesContext(connection) as queries:
        assert selectors.outcomes(PERIOD, LEFS, now=now()).total.reached == 1
    assert _inserts(queries.captured_queries) == 1
    assert ReportEpisode.objects.get(plan=plan).lefs_change == 10


def test_an_amended_baseline_is_picked_up():
    therapist = TherapistFactory()
    plan = _ended(therapist, lefs_total=40, follow_ups=[(14, {"lefs_total": 48})])
    _age_everything()
    assert selectors.outcomes(PERIOD, LEFS, now=now()).total.reached == 0

    baseline = plan.assessment
    baseline.lefs_total = 39
    baseline.save()  # as assessment_amend does (patients/services.py)

    assert selectors.outcomes(PERIOD, LEFS, now=now()).total.reached == 1


def test_an_open_plan_is_worked_out_again_when_it_ends():
    therapist = TherapistFactory()
    plan = episode(therapist, start=DAY, lefs_total=40, follow_ups=[(14, {"lefs_total": 50})])
    _age_everything()

    report = selectors.outcomes(PERIOD, LEFS, now=now())
    assert (report.total.episodes, report.total.reached) == (1, 1)
    assert ReportEpisode.objects.get(plan=plan).lefs_change == 10

    # Ended before the follow-up: the follow-up is no longer inside the episode.
    plan.status = "completed"
    plan.ended_at = at(DAY + dt.timedelta(days=10))
    plan.save()

    report = selectors.outcomes(PERIOD, LEFS, now=now())
    assert (report.total.episodes, report.total.measured) == (1, 0)
    assert ReportEpisode.objects.get(plan=plan).lefs_change is None


def test_an_assessment_dated_a_few_minutes_ahead_counts_once_it_is_taken():
    therapist = TherapistFactory()
    plan = episode(therapist, start=DAY, lefs_total=40)
    moment = now()
    # Signed now for a visit starting in 5 minutes (the service allows up to 10).
    signed(plan.patient, therapist, moment + dt.timedelta(minutes=5), lefs_total=50)

    assert selectors.outcomes(PERIOD, LEFS, now=moment).total.measured == 0
    # Nothing is saved in between; 6 minutes later it has been taken.
    later = selectors.outcomes(PERIOD, LEFS, now=moment + dt.timedelta(minutes=6))
    assert (later.total.measured, later.total.reached) == (1, 1)


def test_the_rollup_holds_what_the_live_query_gives():
    """Both measures, the NPRS 30 % rule, no cause, a follow-up after the end, an open
    plan."""
    therapist = TherapistFactory()
    follow_ups = [(7, {"lefs_total": 48, "pain_now": 2}), (21, {"lefs_total": 52, "pain_now": 3})]
    _ended(therapist, lefs_total=40, pain_now=3, suspected_causes=[], follow_ups=follow_ups)
    _ended(therapist, lefs_total=None, pain_now=10,
           follow_ups=[(7, {"pain_now": 7}), (14, {"pain_now": 8})])  # fmt: skip
    late = _ended(therapist, lefs_total=20, pain_now=5)
    signed(late.patient, therapist, at(DAY + dt.timedelta(days=40)), lefs_total=70, pain_now=0)
    episode(therapist, start=DAY, lefs_total=10, follow_ups=[(3, {"lefs_total": 30})])
    moment = now()

    selectors.outcomes(PERIOD, NPRS, now=moment)

    columns = ["id", "therapist_id", "patient_id", "start_date", "cause", "region", "baseline_at"]
    expected = set()
    live = selectors.measured_plans()
    for measure in ("lefs", "nprs"):
        rows = live.annotate(**selectors.outcome_expressions(measure, now=moment)).values_list(
            *columns, "baseline", "change", "mcid_at"
        )
        expected |= {(measure, *row) for row in rows}
    held = set()
    for measure in ("lefs", "nprs"):
        held |= {
            (measure, *row)
            for row in ReportEpisode.objects.values_list(
                "plan_id",
                *columns[1:],
                f"{measure}_baseline",
                f"{measure}_change",
                f"{measure}_mcid_at",
            )
        }
    assert held == expected
    assert len(held) == 8
    assert ReportEpisode.objects.filter(cause=None).count() == 1


def test_the_drill_down_reads_the_therapists_episodes_open_and_ended():
    therapist = TherapistFactory()
    ended = _ended(therapist, lefs_total=40, follow_ups=[(14, {"lefs_total": 49})])
    open_ = episode(therapist, start=DAY, lefs_total=30, follow_ups=[(7, {"lefs_total": 35})])
    episode(TherapistFactory(), start=DAY, lefs_total=30, ended_after_days=5)

    rows = selectors.therapist_episodes(therapist.pk, PERIOD, LEFS, now=now()).object_list

    by_plan = {row.plan_id: row for row in rows}
    assert set(by_plan) == {ended.pk, open_.pk}
    assert (by_plan[ended.pk].change, by_plan[ended.pk].reached) == (9, True)
    assert by_plan[ended.pk].days_to_mcid == pytest.approx(14.0)
    assert by_plan[ended.pk].name == ended.patient.full_name
    assert (by_plan[open_.pk].change, by_plan[open_.pk].reached) == (5, False)
    names = [(row.name.split()[-1], row.name.split()[0]) for row in rows]
    assert names == sorted(names)
