"""The clinical rules (CLINICAL.md §2, §3, §4, §7) as pure functions."""

import datetime as dt
from decimal import Decimal

import pytest

from patients import clinical
from patients.clinical import OttawaFindings as F

# --- LEFS ------------------------------------------------------------------------------


def test_lefs_has_the_twenty_published_activities():
    assert len(clinical.LEFS_ITEMS) == 20
    assert clinical.LEFS_ITEMS[0].startswith("Any of your usual work")
    assert clinical.LEFS_ITEMS[-1] == "Rolling over in bed"


@pytest.mark.parametrize(
    ("answers", "total", "percent"),
    [([4] * 20, 80, 100.0), ([0] * 20, 0, 0.0), ([3] * 20, 60, 75.0), ([2] * 19 + [3], 41, 51.2)],
)
def test_lefs_total_and_percent_of_a_complete_form(answers, total, percent):
    assert clinical.lefs_total(answers) == total
    assert clinical.lefs_percent(total) == percent


def test_an_incomplete_lefs_has_no_total():
    answers = [4] * 19 + [None]
    assert clinical.lefs_total(answers) is None
    assert clinical.lefs_percent(None) is None
    assert clinical.lefs_answered(answers) == 19


def test_an_unanswered_lefs_has_no_total():
    assert clinical.lefs_total([None] * 20) is None


@pytest.mark.parametrize("bad", [5, -1, 100, 2.5, "3", True])
def test_lefs_answers_outside_0_to_4_are_refused(bad):
    with pytest.raises(ValueError, match="item 7"):
        clinical.lefs_total([2] * 6 + [bad] + [2] * 13)


@pytest.mark.parametrize("count", [0, 19, 21])
def test_lefs_must_have_exactly_twenty_items(count):
    with pytest.raises(ValueError, match="20 items"):
        clinical.lefs_total([2] * count)


# --- Ottawa ankle and foot -------------------------------------------------------------


def test_ankle_rule_needs_malleolar_pain_and_one_finding():
    assert not clinical.ottawa_ankle_series(F(malleolar_zone_pain=True))
    assert not clinical.ottawa_ankle_series(
        F(malleolar_zone_pain=False, tenderness_posterior_tibia_medial_malleolus=True)
    )
    assert not clinical.ottawa_ankle_series(F(malleolar_zone_pain=None, unable_to_bear_weight=True))


@pytest.mark.parametrize(
    "finding",
    [
        "tenderness_posterior_tibia_medial_malleolus",
        "tenderness_posterior_fibula_lateral_malleolus",
        "unable_to_bear_weight",
    ],
)
def test_each_ankle_finding_with_malleolar_pain_indicates_an_ankle_series(finding):
    assert clinical.ottawa_ankle_series(F(malleolar_zone_pain=True, **{finding: True}))
    assert not clinical.ottawa_ankle_series(F(malleolar_zone_pain=True, **{finding: False}))


def test_midfoot_findings_do_not_trigger_the_ankle_series():
    findings = F(malleolar_zone_pain=True, tenderness_navicular=True)
    assert not clinical.ottawa_ankle_series(findings)
    assert not clinical.ottawa_foot_series(findings)


@pytest.mark.parametrize(
    "finding", ["tenderness_base_fifth_metatarsal", "tenderness_navicular", "unable_to_bear_weight"]
)
def test_each_foot_finding_with_midfoot_pain_indicates_a_foot_series(finding):
    assert clinical.ottawa_foot_series(F(midfoot_zone_pain=True, **{finding: True}))
    assert not clinical.ottawa_foot_series(F(midfoot_zone_pain=False, **{finding: True}))
    assert not clinical.ottawa_foot_series(F(midfoot_zone_pain=True, **{finding: None}))


def test_ankle_findings_do_not_trigger_the_foot_series():
    assert not clinical.ottawa_foot_series(
        F(midfoot_zone_pain=True, tenderness_posterior_fibula_lateral_malleolus=True)
    )


# --- Ottawa knee -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "finding",
    ["knee_isolated_patella_tenderness", "knee_fibular_head_tenderness", "knee_cannot_flex_90"],
)
def test_each_knee_finding_indicates_a_knee_xray(finding):
    assert clinical.ottawa_knee(F(**{finding: True}), age_years=30)


def test_inability_to_bear_weight_counts_in_the_knee_rule_once_it_applies():
    findings = F(knee_isolated_patella_tenderness=False, unable_to_bear_weight=True)
    assert clinical.ottawa_knee(findings, age_years=30)


@pytest.mark.parametrize(("age", "indicated"), [(54, False), (55, True), (80, True)])
def test_knee_rule_age_threshold_is_55(age, indicated):
    examined_negative = F(
        knee_isolated_patella_tenderness=False,
        knee_fibular_head_tenderness=False,
        knee_cannot_flex_90=False,
        unable_to_bear_weight=False,
    )
    assert clinical.ottawa_knee(examined_negative, age_years=age) is indicated


def test_knee_rule_is_not_applied_when_no_knee_finding_was_examined():
    # Age alone, or weight bearing from an ankle examination, is no knee-rule verdict.
    findings = F(malleolar_zone_pain=False, unable_to_bear_weight=True)
    assert not clinical.ottawa_knee_rule_applies(findings)
    assert not clinical.ottawa_knee(findings, age_years=70)


def test_ottawa_evaluate_combines_the_rules_and_explains_them():
    result = clinical.ottawa_evaluate(
        F(malleolar_zone_pain=True, unable_to_bear_weight=True, knee_cannot_flex_90=False), 60
    )
    assert (result.ankle, result.foot, result.knee, result.any) == (True, False, True, True)
    assert "age 60" in result.reasons[-1]
    assert "unable to bear weight" in result.reasons[-1]
    negative = clinical.ottawa_evaluate(F(), 60)
    assert not negative.any and negative.reasons == ()


@pytest.mark.parametrize(
    ("dob", "day", "age"),
    [
        (dt.date(1971, 6, 15), dt.date(2026, 6, 14), 54),
        (dt.date(1971, 6, 15), dt.date(2026, 6, 15), 55),
        (dt.date(1972, 2, 29), dt.date(2027, 2, 28), 54),
        (dt.date(1972, 2, 29), dt.date(2027, 3, 1), 55),
    ],
)
def test_age_on_counts_whole_years_from_the_birthday(dob, day, age):
    assert clinical.age_on(dob, day) == age


# --- Knee-to-wall ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "flagged"),
    [
        (Decimal("10.0"), Decimal("8.5"), False),  # exactly 1.5 cm: within the MDD
        (Decimal("10.0"), Decimal("8.4"), True),
        (Decimal("6.0"), Decimal("9.0"), True),
        (Decimal("9.0"), None, False),
        (None, None, False),
    ],
)
def test_knee_to_wall_difference_above_1_5_cm_is_flagged(left, right, flagged):
    assert clinical.knee_to_wall_flag(left, right) is flagged


# --- NPRS and LEFS change --------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "latest", "points", "percent", "improved"),
    [
        (7, 5, -2, -28.6, True),  # 2 points, under 30%: important by points
        (3, 2, -1, -33.3, True),  # 1 point, over 30%: important by percent
        (8, 7, -1, -12.5, False),
        (6, 6, 0, 0.0, False),
        (10, 7, -3, -30.0, True),  # exactly 30%
        (0, 0, 0, None, False),
    ],
)
def test_nprs_change_flags_a_drop_of_2_points_or_30_percent(
    first, latest, points, percent, improved
):
    change = clinical.nprs_change(first, latest)
    assert change.points == points
    assert change.percent == percent
    assert change.important_improvement is improved


def test_nprs_rise_of_2_points_is_flagged_as_worsening():
    assert clinical.nprs_change(4, 6).important_worsening
    assert not clinical.nprs_change(4, 5).important_worsening
    assert not clinical.nprs_change(4, 6).important_improvement


@pytest.mark.parametrize(
    ("first", "latest", "improved", "worsened"),
    [(30, 39, True, False), (30, 38, False, False), (50, 41, False, True), (50, 42, False, False)],
)
def test_lefs_change_of_9_points_is_clinically_important(first, latest, improved, worsened):
    change = clinical.lefs_change(first, latest)
    assert change.important_improvement is improved
    assert change.important_worsening is worsened


@pytest.mark.parametrize(
    ("score", "band"), [(0, "none"), (3, "mild"), (4, "moderate"), (7, "severe")]
)
def test_nprs_bands(score, band):
    assert clinical.nprs_band(score) == band


# --- Registry normalisation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("José  García", "jose garcia"), ("NÚÑEZ", "nunez"), ("Zoë O'Brien", "zoe o'brien")],
)
def test_names_are_normalised_without_accents_or_case(raw, normal):
    assert clinical.normalise_name(raw) == normal


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("(555) 010-1234", "5550101234"), ("+1 555 010 1234", "+15550101234"), ("", "")],
)
def test_phone_numbers_are_normalised_to_digits(raw, normal):
    assert clinical.normalise_phone(raw) == normal


@pytest.mark.parametrize("raw", ["call me", "12345", "+1 555 010 1234 5678 90"])
def test_things_that_are_not_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        clinical.normalise_phone(raw)
