"""``manage.py create_manager``: the first clinic manager is a normal account, not a superuser."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from clinic.management.commands.create_manager import PASSWORD_ENV, Command
from clinic.models import AuditEvent
from tests.factories import TherapistFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "Knee-and-ankle-2026"
ARGS = ["--username", "mblake", "--first-name", "Morgan", "--last-name", "Blake"]


def _signs_in(client, username, password) -> bool:
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302 and response["Location"] == reverse("today")


@pytest.fixture(autouse=True)
def _no_password_in_environment(monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)


@pytest.fixture
def no_terminal(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


def test_create_manager_makes_a_clinic_manager_who_signs_in_and_opens_the_staff_page(client):
    out = io.StringIO()
    call_command(
        *["create_manager", *ARGS, "--email", "m@example.org", "--password", PASSWORD], stdout=out
    )
    user = User.objects.get(username="mblake")
    assert (user.first_name, user.last_name, user.email) == ("Morgan", "Blake", "m@example.org")
    assert list(user.groups.values_list("name", flat=True)) == ["Clinic manager"]
    assert not user.is_superuser and not user.is_staff and user.is_active
    assert "Clinic manager 'mblake' created" in out.getvalue()
    assert _signs_in(client, "mblake", PASSWORD)
    assert client.get(reverse("staff_list")).status_code == 200
    assert client.get("/admin/").status_code == 302  # not a staff (admin) account
    event = AuditEvent.objects.get(action="create", object_id=str(user.pk))
    assert event.object_type == "auth.user"
    assert event.detail == "staff account, role Clinic manager"


def test_password_from_the_environment(monkeypatch, no_terminal, client):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    call_command("create_manager", *ARGS, stdout=io.StringIO())
    assert _signs_in(client, "mblake", PASSWORD)


def test_password_from_the_prompt(monkeypatch, client):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)
    call_command("create_manager", *ARGS, stdout=io.StringIO())
    assert _signs_in(client, "mblake", PASSWORD)


def test_prompted_passwords_that_differ_are_refused(monkeypatch):
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="The two passwords differ"):
        call_command("create_manager", *ARGS)
    assert not User.objects.filter(username="mblake").exists()


def test_without_a_password_or_a_terminal_it_refuses(no_terminal):
    with pytest.raises(CommandError, match=f"pass --password or set {PASSWORD_ENV}"):
        call_command("create_manager", *ARGS)
    assert not User.objects.filter(username="mblake").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--password", "short"], "password: This password is too short"),
        (["--password", "password123"], "password: This password is too common"),
        (["--password", "mblake2026"], "password: The password is too similar"),
        (["--password", "84736251948"], "password: This password is entirely numeric"),
        (["--email", "not-an-email"], "email: Enter a valid email address"),
        (["--username", "m blake"], "username: Enter a valid username"),
        (["--first-name", ""], "first-name: This field is required"),
    ],
)
def test_weak_or_bad_input_is_refused_with_a_clear_error(change, message):
    args = [*ARGS, "--password", PASSWORD]
    for i in range(0, len(change), 2):
        if change[i] in args:
            args[args.index(change[i]) + 1] = change[i + 1]
        else:
            args += change[i : i + 2]
    with pytest.raises(CommandError, match=message):
        call_command("create_manager", *args)
    assert not User.objects.exclude(is_superuser=True).filter(groups__name="Clinic manager")
    assert not AuditEvent.objects.exists()


def test_an_existing_username_is_refused_whatever_its_case():
    existing = TherapistFactory(username="mblake")
    for username in ("mblake", "MBlake"):
        args = ["--username", username, "--first-name", "M", "--last-name", "B"]
        with pytest.raises(CommandError, match="There is already an account with this username"):
            call_command("create_manager", *args, "--password", PASSWORD)
    existing.refresh_from_db()
    assert list(existing.groups.values_list("name", flat=True)) == ["Therapist"]
    assert User.objects.count() == 1


def test_a_refusal_exits_non_zero(capsys):
    TherapistFactory(username="mblake")
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "create_manager", *ARGS, "--password", PASSWORD])
    assert exit_info.value.code == 1
    assert "There is already an account with this username" in capsys.readouterr().err
