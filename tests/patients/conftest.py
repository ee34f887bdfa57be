"""Helpers for the patients tests: valid form data to start from."""

import pytest
from django.utils import timezone


def assessment_post(**overrides) -> dict:
    """A complete, valid assessment form submission (knee, full LEFS of 60)."""
    data = {
        "assessed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kind": "initial",
        "region": "knee",
        "side": "right",
        "pain_now": "5",
        "pain_worst": "7",
        "pain_best": "2",
        "pain_qualities": ["dull_ache", "stiffness"],
        "onset_date": "",
        "onset_mechanism": "gradual",
        "aggravating_activities": "Stairs",
        "suspected_causes": ["arthritis"],
        "suspected_cause_other": "",
        "precautions": [],
        "knee_to_wall_left_cm": "10.0",
        "knee_to_wall_right_cm": "9.0",
        "knee_flexion_left": "135",
        "knee_flexion_right": "120",
        "knee_extension_left": "0",
        "knee_extension_right": "-5",
        "clinical_impression": "Medial knee OA.",
    }
    for number in range(1, 21):
        data[f"lefs_{number}"] = "3"
    for name in (
        "ottawa_acute_ankle_injury",
        "ottawa_acute_knee_injury",
        "ottawa_malleolar_zone_pain",
        "ottawa_tenderness_posterior_tibia_medial_malleolus",
        "ottawa_tenderness_posterior_fibula_lateral_malleolus",
        "ottawa_midfoot_zone_pain",
        "ottawa_tenderness_base_fifth_metatarsal",
        "ottawa_tenderness_navicular",
        "ottawa_unable_to_bear_weight",
        "ottawa_knee_isolated_patella_tenderness",
        "ottawa_knee_fibular_head_tenderness",
        "ottawa_knee_cannot_flex_90",
    ):
        data[name] = ""
    data.update(overrides)
    for name in ("pain_qualities", "suspected_causes", "precautions"):
        if data.get(name) == []:
            data[name] = ""  # nothing ticked: a browser sends only the empty marker
    return data


def assessment_values(**overrides) -> dict:
    """Valid keyword values for services.assessment_create/update/amend."""
    values = {
        "assessed_at": timezone.now(),
        "kind": "initial",
        "region": "knee",
        "side": "right",
        "pain_now": 5,
        "pain_worst": 7,
        "pain_best": 2,
        "pain_qualities": ["dull_ache"],
        "onset_date": None,
        "onset_mechanism": "gradual",
        "aggravating_activities": "",
        "suspected_causes": ["arthritis"],
        "suspected_cause_other": "",
        "precautions": [],
        "lefs_answers": [3] * 20,
        "clinical_impression": "Knee OA.",
    }
    values.update(overrides)
    return values


@pytest.fixture
def post_data():
    return assessment_post


@pytest.fixture
def values():
    return assessment_values
