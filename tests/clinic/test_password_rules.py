"""Password rules for staff accounts (issue 10, item 4): twelve characters at least, not
a common password, not like the person's name, not all digits, wherever a password is set.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from clinic import services
from clinic.roles import THERAPIST
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

User = get_user_model()
WEAK = "clinic2026"
TOO_SHORT = "This password is too short. It must contain at least 12 characters."


def _staff_form(password):
    return {
        "username": "new.pt",
        "first_name": "Nina",
        "last_name": "Park",
        "email": "nina@example.org",
        "role": THERAPIST,
        "password": password,
    }


def test_staff_form_refuses_clinic2026_with_the_reason(client_for, manager):
    response = client_for(manager).post(reverse("staff_create"), _staff_form(WEAK))
    assert response.status_code == 200
    assert TOO_SHORT in response.content.decode()
    assert not User.objects.filter(username="new.pt").exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password1234", "This password is too common."),
        ("nina@example.org", "The password is too similar to the"),
        ("203948571920", "This password is entirely numeric."),
    ],
)
def test_staff_form_refuses_common_similar_and_numeric_passwords(
    client_for, manager, password, message
):
    response = client_for(manager).post(reverse("staff_create"), _staff_form(password))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="new.pt").exists()


def test_staff_form_accepts_a_long_uncommon_password(client_for, manager):
    response = client_for(manager).post(reverse("staff_create"), _staff_form("Ankle-mobility-42"))
    assert response.status_code == 302
    assert User.objects.get(username="new.pt").check_password("Ankle-mobility-42")


def test_staff_create_service_refuses_a_weak_password():
    with pytest.raises(ValidationError, match="too short"):
        services.staff_create(
            username="scripted",
            first_name="Sam",
            last_name="Script",
            email="",
            role=THERAPIST,
            password=WEAK,
        )
    assert not User.objects.filter(username="scripted").exists()


def test_create_manager_refuses_clinic2026():
    with pytest.raises(CommandError, match="at least 12 characters"):
        call_command(
            "create_manager",
            *["--username", "mblake", "--first-name", "Morgan", "--last-name", "Blake"],
            *["--password", WEAK],
        )
    assert not User.objects.filter(username="mblake").exists()


def test_password_change_refuses_clinic2026(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": WEAK, "new_password2": WEAK},
    )
    assert response.status_code == 200
    assert TOO_SHORT in response.content.decode()
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)


def test_seed_demo_refuses_a_weak_password_and_accepts_the_make_run_one():
    with pytest.raises(CommandError, match="Password refused"):
        call_command("seed_demo", "--password", WEAK)
    assert not User.objects.filter(username="demo-manager").exists()
    call_command("seed_demo", "--password", "clinic-demo-2026")
    assert User.objects.get(username="demo-manager").check_password("clinic-demo-2026")
