import pytest
from django.contrib.auth.models import Group

from clinic import services
from clinic.roles import CLINIC_MANAGER, FRONT_DESK, ROLE_PERMISSIONS, THERAPIST

pytestmark = pytest.mark.django_db

CLINICAL_MODELS = {
    "assessment",
    "assessmentamendment",
    "painreport",
    "treatmentplan",
    "plannedtechnique",
    "visitnote",
    "appliedtechnique",
    "homeexerciseprogram",
    "exerciseprescription",
    "exercisecompletion",
}


def _perms(group_name):
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_the_three_role_groups_exist_with_their_permissions():
    for role in (THERAPIST, FRONT_DESK, CLINIC_MANAGER):
        assert _perms(role) == set(ROLE_PERMISSIONS[role])


def test_front_desk_holds_no_clinical_permission():
    perms = _perms(FRONT_DESK)
    clinical = {p for p in perms if p.split(".")[1].split("_", 1)[1] in CLINICAL_MODELS}
    assert clinical == set()
    assert "patients.view_patient" in perms


def test_sync_restores_a_permission_removed_by_hand():
    group = Group.objects.get(name=THERAPIST)
    group.permissions.clear()
    services.role_permissions_sync()
    assert _perms(THERAPIST) == set(ROLE_PERMISSIONS[THERAPIST])


def test_sync_refuses_a_permission_that_does_not_exist(monkeypatch):
    monkeypatch.setitem(ROLE_PERMISSIONS, THERAPIST, ["patients.fly_to_the_moon"])
    with pytest.raises(LookupError):
        services.role_permissions_sync()
