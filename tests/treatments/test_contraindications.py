"""The contraindication check, cell by cell against docs/clinical.md §4."""

import pytest

from patients.models import Precaution
from treatments.contraindications import OTTAWA_REASON, technique_restrictions
from treatments.models import PrecautionRule
from treatments.selectors import precaution_rules

JM, HV, ST, ME = "joint_mobilization", "hvla_thrust", "soft_tissue_mobilization", "muscle_energy"
C, X, N = "caution", "contraindicated", ""

# Written out again from docs/clinical.md §4 (not imported from the seed), so a wrong seed
# fails these tests.
EXPECTED = {
    "fracture": {JM: C, HV: X, ST: C, ME: C},
    "malignancy": {JM: X, HV: X, ST: X, ME: C},
    "osteoporosis": {JM: C, HV: X, ST: C, ME: C},
    "instability": {JM: C, HV: X, ST: N, ME: C},
    "infection": {JM: X, HV: X, ST: X, ME: X},
    "inflammatory_arthritis": {JM: C, HV: X, ST: C, ME: C},
    "anticoagulation": {JM: C, HV: X, ST: C, ME: N},
    "neuro_deficit": {JM: C, HV: X, ST: N, ME: C},
    "dvt": {JM: C, HV: X, ST: X, ME: C},
    "myositis": {JM: N, HV: N, ST: C, ME: X},
}
CELLS = [
    (precaution, technique, level)
    for precaution, row in EXPECTED.items()
    for technique, level in row.items()
]
DEFAULT_RULES = [cell for cell in CELLS if cell[2]]


def test_expected_table_covers_every_precaution_code():
    assert set(EXPECTED) == set(Precaution.values)


@pytest.mark.parametrize(("precaution", "technique", "level"), CELLS)
def test_each_flag_alone_gives_its_cell_of_the_default_table(precaution, technique, level):
    result = technique_restrictions(
        precautions=[precaution], xray_indicated=False, rules=DEFAULT_RULES
    )
    if level:
        assert result[technique].level == level
        assert len(result[technique].reasons) == 1
        assert result[technique].reasons[0].endswith(f": {level}")
    else:
        assert technique not in result


@pytest.mark.parametrize(("technique", "level"), EXPECTED["fracture"].items())
def test_ottawa_positive_counts_as_suspected_fracture(technique, level):
    result = technique_restrictions(precautions=[], xray_indicated=True, rules=DEFAULT_RULES)
    assert result[technique].level == level
    assert result[technique].reasons == (f"{OTTAWA_REASON}: {level}",)


def test_ottawa_negative_and_no_flags_restrict_nothing():
    assert technique_restrictions(precautions=[], xray_indicated=False, rules=DEFAULT_RULES) == {}


def test_strongest_level_wins_and_every_reason_is_listed_strongest_first():
    result = technique_restrictions(
        precautions=["osteoporosis", "malignancy"],
        xray_indicated=False,
        rules=DEFAULT_RULES,
        precaution_labels=dict(Precaution.choices),
    )
    assert result[JM].level == X
    assert result[JM].reasons == (
        "Bone tumour / malignancy: contraindicated",
        "Severe osteoporosis: caution",
    )
    assert result[ME].level == C
    assert len(result[ME].reasons) == 2


def test_fracture_flag_and_ottawa_together_name_both():
    result = technique_restrictions(
        precautions=["fracture"],
        xray_indicated=True,
        rules=DEFAULT_RULES,
        precaution_labels=dict(Precaution.choices),
    )
    assert result[HV].level == X
    assert "Suspected or recent fracture" in result[HV].reasons[0]
    assert OTTAWA_REASON in result[HV].reasons[0]


def test_the_clinics_own_table_is_used_not_the_default():
    custom = [("myositis", JM, X)]
    result = technique_restrictions(precautions=["myositis"], xray_indicated=False, rules=custom)
    assert result == {JM: result[JM]}
    assert result[JM].level == X


def test_unknown_levels_in_the_table_are_ignored():
    result = technique_restrictions(
        precautions=["dvt"], xray_indicated=False, rules=[("dvt", JM, "maybe")]
    )
    assert result == {}


@pytest.mark.django_db
def test_migration_seeds_exactly_the_default_table():
    assert sorted(precaution_rules()) == sorted(DEFAULT_RULES)
    assert PrecautionRule.objects.count() == 35  # 40 cells, 5 empty
