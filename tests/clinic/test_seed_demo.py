import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from clinic.roles import CLINIC_MANAGER, FRONT_DESK, THERAPIST

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_seed_demo_creates_each_role_and_is_idempotent(capsys):
    call_command("seed_demo", "--password", "clinic-demo-2026")
    counts = {}
    for model in User, *[f.related_model for f in []]:
        counts[model] = model.objects.count()
    call_command("seed_demo")
    assert User.objects.count() == counts[User]
    roles = {
        u.username: u.groups.get().name for u in User.objects.filter(username__startswith="demo-")
    }
    assert roles == {
        "demo-therapist": THERAPIST,
        "demo-therapist2": THERAPIST,
        "demo-frontdesk": FRONT_DESK,
        "demo-manager": CLINIC_MANAGER,
    }
    assert User.objects.get(username="demo-manager").check_password("clinic-demo-2026")


def test_seed_demo_prints_a_random_password_when_none_is_given(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    password = out.split("password: ")[1].split()[0]
    assert len(password) >= 10
    assert User.objects.get(username="demo-therapist").check_password(password)
