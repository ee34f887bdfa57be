import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from patients.audit import AuditAction
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_renders_for_anonymous(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_successful_login_is_audited_and_lands_on_today(client, therapist):
    response = _login(client, therapist.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("today")
    event = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert event.actor == therapist
    assert event.ip == "127.0.0.1"


def test_failed_login_is_audited_with_the_typed_username(client, therapist):
    response = _login(client, therapist.username, "wrong-password")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.actor is None
    assert event.actor_username == therapist.username


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    client, settings, therapist
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, therapist.username, "wrong-password")
    response = _login(client, therapist.username, PASSWORD)
    assert response.status_code in (403, 429)
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()


def test_lockout_of_one_account_leaves_others_alone(client, settings, therapist, front_desk):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, therapist.username, "wrong-password")
    response = _login(client, front_desk.username, PASSWORD)
    assert response.status_code == 302


def test_inactive_account_cannot_sign_in(client, therapist):
    therapist.is_active = False
    therapist.save()
    response = _login(client, therapist.username, PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_is_audited(client, front_desk):
    client.force_login(front_desk)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, actor=front_desk).exists()
    assert client.get(reverse("today")).status_code == 302


def test_password_change_requires_the_old_password(client, manager):
    client.force_login(manager)
    url = reverse("password_change")
    assert client.get(url).status_code == 200
    bad = client.post(
        url,
        {
            "old_password": "nope",
            "new_password1": "Tr1cky-new-pass",
            "new_password2": "Tr1cky-new-pass",
        },
    )
    assert bad.status_code == 200
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)
    good = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "Tr1cky-new-pass",
            "new_password2": "Tr1cky-new-pass",
        },
    )
    assert good.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password("Tr1cky-new-pass")
