"""The clinical rules (docs/clinical.md §2, §3, §4, §7) as pure functions."""

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


# --- Ottawa rules: verdicts (docs/clinical.md) ------------------------------------------

INDICATED = clinical.XRAY_INDICATED
NOT_INDICATED = clinical.XRAY_NOT_INDICATED
DOES_NOT_APPLY = clinical.RULE_DOES_NOT_APPLY
NOT_EXAMINED = clinical.NOT_EXAMINED

ANKLE_FINDINGS = (
    "tenderness_posterior_tibia_medial_malleolus",
    "tenderness_posterior_fibula_lateral_malleolus",
    "unable_to_bear_weight",
)
FOOT_FINDINGS = (
    "tenderness_base_fifth_metatarsal",
    "tenderness_navicular",
    "unable_to_bear_weight",
)
KNEE_FINDINGS = (
    "knee_isolated_patella_tenderness",
    "knee_fibular_head_tenderness",
    "knee_cannot_flex_90",
    "unable_to_bear_weight",
)


def _all(names, value) -> dict:
    return {name: value for name in names}


# Ankle series.


def test_ankle_rule_is_not_examined_while_the_acute_injury_is_not_recorded():
    # Every finding positive, but nobody said the rule's patient is in front of us.
    findings = F(malleolar_zone_pain=True, **_all(ANKLE_FINDINGS, True))
    assert clinical.ottawa_ankle_series(findings, 30) == NOT_EXAMINED


def test_ankle_rule_does_not_apply_without_acute_injury():
    findings = F(acute_ankle_injury=False, malleolar_zone_pain=True, **_all(ANKLE_FINDINGS, True))
    assert clinical.ottawa_ankle_series(findings, 30) == DOES_NOT_APPLY


def test_ankle_rule_does_not_apply_under_5():
    findings = F(acute_ankle_injury=True, malleolar_zone_pain=True, unable_to_bear_weight=True)
    assert clinical.ottawa_ankle_series(findings, 4) == DOES_NOT_APPLY
    assert clinical.ottawa_ankle_series(findings, 5) == INDICATED


@pytest.mark.parametrize("finding", ANKLE_FINDINGS)
def test_ankle_rule_each_finding_with_malleolar_pain_indicates_ankle_series(finding):
    findings = F(acute_ankle_injury=True, malleolar_zone_pain=True, **{finding: True})
    # One positive finding decides, whatever the others (not examined here).
    assert clinical.ottawa_ankle_series(findings, 30) == INDICATED


def test_ankle_rule_not_indicated_when_every_finding_is_negative():
    findings = F(acute_ankle_injury=True, malleolar_zone_pain=True, **_all(ANKLE_FINDINGS, False))
    assert clinical.ottawa_ankle_series(findings, 30) == NOT_INDICATED


def test_ankle_rule_not_indicated_without_malleolar_zone_pain():
    findings = F(acute_ankle_injury=True, malleolar_zone_pain=False, **_all(ANKLE_FINDINGS, True))
    assert clinical.ottawa_ankle_series(findings, 30) == NOT_INDICATED


def test_ankle_rule_not_examined_when_malleolar_zone_pain_is_not_examined():
    findings = F(acute_ankle_injury=True, **_all(ANKLE_FINDINGS, True))
    assert clinical.ottawa_ankle_series(findings, 30) == NOT_EXAMINED


@pytest.mark.parametrize("unexamined", ANKLE_FINDINGS)
def test_ankle_rule_not_examined_when_a_finding_is_missing_and_none_is_positive(unexamined):
    values = _all(ANKLE_FINDINGS, False) | {unexamined: None}
    findings = F(acute_ankle_injury=True, malleolar_zone_pain=True, **values)
    assert clinical.ottawa_ankle_series(findings, 30) == NOT_EXAMINED


def test_midfoot_findings_do_not_trigger_the_ankle_series():
    findings = F(acute_ankle_injury=True, malleolar_zone_pain=True, tenderness_navicular=True)
    assert clinical.ottawa_ankle_series(findings, 30) == NOT_EXAMINED
    assert clinical.ottawa_foot_series(findings, 30) == NOT_EXAMINED


# Foot series.


def test_foot_rule_is_not_examined_while_the_acute_injury_is_not_recorded():
    findings = F(midfoot_zone_pain=True, **_all(FOOT_FINDINGS, True))
    assert clinical.ottawa_foot_series(findings, 30) == NOT_EXAMINED


def test_foot_rule_does_not_apply_without_acute_injury():
    findings = F(acute_ankle_injury=False, midfoot_zone_pain=True, **_all(FOOT_FINDINGS, True))
    assert clinical.ottawa_foot_series(findings, 30) == DOES_NOT_APPLY


def test_foot_rule_does_not_apply_under_5():
    findings = F(acute_ankle_injury=True, midfoot_zone_pain=True, tenderness_navicular=True)
    assert clinical.ottawa_foot_series(findings, 4) == DOES_NOT_APPLY
    assert clinical.ottawa_foot_series(findings, 5) == INDICATED


@pytest.mark.parametrize("finding", FOOT_FINDINGS)
def test_foot_rule_each_finding_with_midfoot_pain_indicates_foot_series(finding):
    findings = F(acute_ankle_injury=True, midfoot_zone_pain=True, **{finding: True})
    assert clinical.ottawa_foot_series(findings, 30) == INDICATED


def test_foot_rule_not_indicated_when_every_finding_is_negative_or_no_midfoot_pain():
    negative = F(acute_ankle_injury=True, midfoot_zone_pain=True, **_all(FOOT_FINDINGS, False))
    assert clinical.ottawa_foot_series(negative, 30) == NOT_INDICATED
    no_pain = F(acute_ankle_injury=True, midfoot_zone_pain=False, **_all(FOOT_FINDINGS, True))
    assert clinical.ottawa_foot_series(no_pain, 30) == NOT_INDICATED


@pytest.mark.parametrize("unexamined", [*FOOT_FINDINGS, "midfoot_zone_pain"])
def test_foot_rule_not_examined_when_a_needed_finding_is_missing(unexamined):
    values = {"midfoot_zone_pain": True} | _all(FOOT_FINDINGS, False) | {unexamined: None}
    assert clinical.ottawa_foot_series(F(acute_ankle_injury=True, **values), 30) == NOT_EXAMINED


def test_ankle_findings_do_not_trigger_the_foot_series():
    findings = F(
        acute_ankle_injury=True,
        midfoot_zone_pain=True,
        tenderness_base_fifth_metatarsal=False,
        tenderness_navicular=False,
        unable_to_bear_weight=False,
        tenderness_posterior_fibula_lateral_malleolus=True,
    )
    assert clinical.ottawa_foot_series(findings, 30) == NOT_INDICATED


# Knee rule.


def test_knee_rule_age_55_alone_indicates_xray_after_acute_injury():
    # Nothing else examined: age is one of the rule's "any of" criteria by itself.
    assert clinical.ottawa_knee(F(acute_knee_injury=True), age_years=60) == INDICATED


def test_knee_rule_does_not_apply_without_acute_injury():
    findings = F(acute_knee_injury=False, **_all(KNEE_FINDINGS, True))
    assert clinical.ottawa_knee(findings, age_years=60) == DOES_NOT_APPLY


def test_knee_rule_is_not_examined_while_the_acute_injury_is_not_recorded():
    findings = F(**_all(KNEE_FINDINGS, True))
    assert clinical.ottawa_knee(findings, age_years=60) == NOT_EXAMINED


def test_knee_rule_does_not_apply_under_18():
    findings = F(acute_knee_injury=True, **_all(KNEE_FINDINGS, True))
    assert clinical.ottawa_knee(findings, age_years=17) == DOES_NOT_APPLY
    assert clinical.ottawa_knee(findings, age_years=18) == INDICATED


@pytest.mark.parametrize("finding", KNEE_FINDINGS)
def test_knee_rule_each_finding_indicates_a_knee_xray_under_55(finding):
    findings = F(acute_knee_injury=True, **{finding: True})
    assert clinical.ottawa_knee(findings, age_years=30) == INDICATED


@pytest.mark.parametrize(
    ("age", "verdict"), [(54, NOT_INDICATED), (55, INDICATED), (80, INDICATED)]
)
def test_knee_rule_age_threshold_is_55(age, verdict):
    examined_negative = F(acute_knee_injury=True, **_all(KNEE_FINDINGS, False))
    assert clinical.ottawa_knee(examined_negative, age_years=age) == verdict


@pytest.mark.parametrize("unexamined", KNEE_FINDINGS)
def test_knee_rule_under_55_is_not_examined_when_a_finding_is_missing(unexamined):
    values = _all(KNEE_FINDINGS, False) | {unexamined: None}
    assert clinical.ottawa_knee(F(acute_knee_injury=True, **values), age_years=54) == NOT_EXAMINED


def test_ankle_findings_do_not_count_in_the_knee_rule():
    findings = F(acute_ankle_injury=True, malleolar_zone_pain=True, tenderness_navicular=True)
    assert clinical.ottawa_knee(findings, age_years=70) == NOT_EXAMINED


# Combined result and wording.


def test_ottawa_evaluate_combines_the_rules_and_explains_them():
    result = clinical.ottawa_evaluate(
        F(
            acute_ankle_injury=True,
            acute_knee_injury=True,
            malleolar_zone_pain=True,
            unable_to_bear_weight=True,
            knee_cannot_flex_90=False,
        ),
        60,
    )
    assert (result.ankle_verdict, result.foot_verdict, result.knee_verdict) == (
        INDICATED,
        NOT_EXAMINED,
        INDICATED,
    )
    assert (result.ankle, result.foot, result.knee, result.any) == (True, False, True, True)
    assert "age 60" in result.reasons[-1]
    assert "unable to bear weight" in result.reasons[-1]
    negative = clinical.ottawa_evaluate(F(), 60)
    assert not negative.any and negative.reasons == ()
    assert {negative.ankle_verdict, negative.foot_verdict, negative.knee_verdict} == {NOT_EXAMINED}


def test_only_an_indicated_verdict_is_ottawa_positive():
    for verdict in clinical.OTTAWA_VERDICTS:
        result = clinical.OttawaResult(
            ankle_verdict=verdict, foot_verdict=verdict, knee_verdict=verdict, reasons=()
        )
        assert result.any is (verdict == INDICATED)


@pytest.mark.parametrize(
    ("rule", "verdict", "inclusion", "text"),
    [
        ("knee", INDICATED, True, "X-ray indicated"),
        ("ankle", NOT_INDICATED, True, "X-ray not indicated"),
        ("knee", DOES_NOT_APPLY, False, "Rule does not apply: no acute knee injury"),
        ("knee", DOES_NOT_APPLY, True, "Rule does not apply: under 18 (derived for adults)"),
        ("foot", DOES_NOT_APPLY, False, "Rule does not apply: no acute ankle or foot injury"),
        ("ankle", DOES_NOT_APPLY, True, "Rule does not apply: under 5"),
        ("knee", NOT_EXAMINED, None, "Not examined: acute knee injury not recorded"),
        ("foot", NOT_EXAMINED, True, "Not examined: findings incomplete"),
    ],
)
def test_ottawa_verdicts_read_as_the_page_shows_them(rule, verdict, inclusion, text):
    assert clinical.ottawa_verdict_text(rule, verdict, inclusion=inclusion) == text


def test_stored_verdict_choices_match_the_rule_functions():
    from patients.models import OttawaVerdict

    assert set(OttawaVerdict.values) == {*clinical.OTTAWA_VERDICTS, ""}


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
