"""A locked-out or forgetful staff member's way back: the manager's unlock and reset
email on the Staff page, and "Forgot password?" on the sign-in page (issue 10, item 2)."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from clinic.models import AuditEvent
from patients.audit import AuditAction
from tests.factories import PASSWORD, FrontDeskFactory, TherapistFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "plum-orchard-lantern-47"


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # The rate-limit counters live in the default cache; each test starts with none.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "staff-access-tests",
        }
    }
    cache.clear()
    yield
    cache.clear()


def _login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def _lock_out(settings, username, ip="127.0.0.1"):
    attacker = Client(REMOTE_ADDR=ip)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(attacker, username, "wrong-password")
    response = _login(attacker, username, PASSWORD)
    assert b"Too many failed sign-in attempts" in response.content
    return response


def _reset_link(message) -> str:
    match = re.search(r"https?://\S+/accounts/password/reset/\S+/\S+/", message.body)
    assert match, message.body
    return match.group(0)


def _follow_reset_link(client, url, password=NEW_PASSWORD):
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    # Django moves the token into the session and redirects to a URL without it.
    assert response.status_code == 302
    set_password_url = response["Location"]
    response = client.post(set_password_url, {"new_password1": password, "new_password2": password})
    return response


# The Staff page ----------------------------------------------------------------------


def test_staff_page_shows_which_accounts_are_locked_out(client_for, settings, manager):
    locked = TherapistFactory()
    free = FrontDeskFactory()
    _lock_out(settings, locked.username)
    html = client_for(manager).get(reverse("staff_list")).content.decode()
    assert html.count("Locked out") == 1
    assert reverse("staff_unlock", args=[locked.pk]) in html
    assert reverse("staff_unlock", args=[free.pk]) not in html
    assert reverse("staff_password_reset", args=[free.pk]) in html


def test_failures_below_the_limit_do_not_show_as_locked(client_for, settings, manager):
    therapist = TherapistFactory()
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(attacker, therapist.username, "wrong-password")
    html = client_for(manager).get(reverse("staff_list")).content.decode()
    assert "Locked out" not in html


def test_staff_list_reads_lockouts_in_one_query(
    client_for, settings, manager, django_assert_num_queries
):
    client = client_for(manager)
    for _ in range(3):
        _lock_out(settings, TherapistFactory().username)
    # session, user, user permissions, group permissions, staff accounts, their groups,
    # axes's attempts for all listed usernames (one query, however many are locked).
    with django_assert_num_queries(7):
        response = client.get(reverse("staff_list"))
    assert response.content.decode().count("Locked out") == 3


def test_manager_unlocks_a_locked_user_who_can_then_sign_in(client_for, settings, manager):
    therapist = TherapistFactory()
    _lock_out(settings, therapist.username)
    response = client_for(manager).post(reverse("staff_unlock", args=[therapist.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_list")
    event = AuditEvent.objects.get(action=AuditAction.UNLOCK)
    assert event.actor == manager
    assert event.object_id == str(therapist.pk)
    assert "lockout cleared" in event.detail
    assert _login(Client(), therapist.username, PASSWORD).status_code == 302


@pytest.mark.parametrize("name", ["staff_unlock", "staff_password_reset"])
@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_other_roles_cannot_unlock_or_send_a_reset(client_for, role_users, role, name):
    target = TherapistFactory()
    response = client_for(role_users[role]).post(reverse(name, args=[target.pk]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(
        action__in=[AuditAction.UNLOCK, AuditAction.PASSWORD_RESET]
    ).exists()
    assert mail.outbox == []


@pytest.mark.parametrize("name", ["staff_unlock", "staff_password_reset"])
def test_anonymous_unlock_or_reset_send_goes_to_login(client, name):
    target = TherapistFactory()
    response = client.post(reverse(name, args=[target.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert mail.outbox == []


@pytest.mark.parametrize("name", ["staff_unlock", "staff_password_reset"])
def test_unlock_and_reset_send_refuse_get(client_for, manager, name):
    target = TherapistFactory()
    assert client_for(manager).get(reverse(name, args=[target.pk])).status_code == 405
    assert mail.outbox == []


def test_manager_cannot_unlock_or_reset_a_superuser(client_for, manager):
    from tests.factories import UserFactory

    root = UserFactory(is_superuser=True)
    for name in ("staff_unlock", "staff_password_reset"):
        assert client_for(manager).post(reverse(name, args=[root.pk])).status_code == 404
    assert mail.outbox == []


def test_manager_sends_a_reset_email_whose_link_sets_a_new_password(client_for, settings, manager):
    settings.SITE_URL = "https://clinic.example.org"
    therapist = TherapistFactory()
    response = client_for(manager).post(
        reverse("staff_password_reset", args=[therapist.pk]), follow=True
    )
    assert f"A password-reset link was emailed to {therapist.email}" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [therapist.email]
    link = _reset_link(message)
    assert link.startswith("https://clinic.example.org/accounts/password/reset/")
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_RESET)
    assert event.actor == manager
    assert event.object_id == str(therapist.pk)

    response = _follow_reset_link(Client(), link)
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    assert _login(Client(), therapist.username, NEW_PASSWORD).status_code == 302
    assert _login(Client(), therapist.username, PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": ""}, "has no email address"),
        ({"is_active": False}, "deactivated"),
    ],
)
def test_reset_send_is_refused_without_email_or_for_inactive(client_for, manager, change, message):
    therapist = TherapistFactory(**change)
    response = client_for(manager).post(
        reverse("staff_password_reset", args=[therapist.pk]), follow=True
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET).exists()


# "Forgot password?" -------------------------------------------------------------------


def test_sign_in_page_links_to_forgot_password(client):
    html = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in html
    assert "Forgot password?" in html


def test_forgot_password_page_renders_for_anonymous(client):
    response = client.get(reverse("password_reset"))
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_forgot_password_emails_only_the_link_and_the_clinic_name(client, settings):
    therapist = TherapistFactory()
    client.post(reverse("password_reset"), {"email": therapist.email})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [therapist.email]
    assert settings.CLINIC_NAME in message.subject
    text = message.subject + message.body
    assert therapist.username not in text
    assert therapist.first_name not in text
    assert therapist.last_name not in text
    assert _reset_link(message).startswith(settings.SITE_URL)


def test_reset_link_ignores_a_forged_host_header(client, settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = "https://clinic.example.org"
    therapist = TherapistFactory()
    client.post(reverse("password_reset"), {"email": therapist.email}, HTTP_HOST="evil.example")
    assert _reset_link(mail.outbox[0]).startswith("https://clinic.example.org/")


def test_unknown_address_gets_the_same_page_and_no_email(client):
    therapist = TherapistFactory()
    known = client.post(reverse("password_reset"), {"email": therapist.email})
    mail.outbox.clear()
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert mail.outbox == []
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known.content == unknown.content
    page = client.get(known["Location"])
    assert page.status_code == 200
    assert "Check your email" in page.content.decode()


def test_forgot_password_email_link_resets_and_clears_the_lockout(client, settings):
    therapist = TherapistFactory()
    _lock_out(settings, therapist.username)
    client.post(reverse("password_reset"), {"email": therapist.email.upper()})
    assert len(mail.outbox) == 1
    response = _follow_reset_link(Client(), _reset_link(mail.outbox[0]))
    assert response["Location"] == reverse("password_reset_complete")
    assert _login(Client(), therapist.username, NEW_PASSWORD).status_code == 302
    done = AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET).order_by("pk").last()
    assert done.actor == therapist
    assert "new password set" in done.detail
    assert "lockout cleared" in done.detail


def test_reset_link_works_once(client):
    therapist = TherapistFactory()
    client.post(reverse("password_reset"), {"email": therapist.email})
    link = _reset_link(mail.outbox[0])
    _follow_reset_link(Client(), link)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    response = Client().get(path, follow=True)
    assert "This link no longer works" in response.content.decode()


def test_reset_refuses_a_password_the_validators_reject(client):
    therapist = TherapistFactory()
    client.post(reverse("password_reset"), {"email": therapist.email})
    response = _follow_reset_link(Client(), _reset_link(mail.outbox[0]), password="password")
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    therapist.refresh_from_db()
    assert therapist.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(detail__contains="new password set").exists()


def test_forgot_password_requests_are_audited_without_telling_the_visitor(client):
    therapist = TherapistFactory()
    client.post(reverse("password_reset"), {"email": therapist.email})
    client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    events = list(AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET).order_by("pk"))
    assert [e.object_id for e in events] == [str(therapist.pk), ""]
    assert events[0].actor is None
    assert "email sent" in events[0].detail
    assert "no active account" in events[1].detail
    assert all(e.ip == "127.0.0.1" for e in events)


def test_forgot_password_is_rate_limited_per_address(client, settings):
    settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR = 2
    therapist = TherapistFactory()
    responses = [
        Client(REMOTE_ADDR=f"203.0.113.{n}").post(
            reverse("password_reset"), {"email": therapist.email}
        )
        for n in range(1, 5)
    ]
    assert len(mail.outbox) == 2
    assert {(r.status_code, r["Location"]) for r in responses} == {
        (302, reverse("password_reset_done"))
    }
    limited = AuditEvent.objects.filter(detail__contains="rate limit per address")
    assert limited.count() == 2


def test_forgot_password_is_rate_limited_per_client_address(client, settings):
    settings.PASSWORD_RESET_PER_IP_PER_HOUR = 3
    for n in range(3):
        client.post(reverse("password_reset"), {"email": f"nobody{n}@example.org"})
    therapist = TherapistFactory()
    response = client.post(reverse("password_reset"), {"email": therapist.email})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
    assert AuditEvent.objects.filter(detail__contains="rate limit per client address").exists()
    # Another client is not affected.
    Client(REMOTE_ADDR="198.51.100.7").post(reverse("password_reset"), {"email": therapist.email})
    assert len(mail.outbox) == 1


def test_default_cache_is_shared_between_processes():
    # The rate limits must hold across gunicorn workers: never a per-process cache.
    from clinic import settings as project_settings

    backend = project_settings.CACHES["default"]["BACKEND"]
    assert backend in {
        "django.core.cache.backends.redis.RedisCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    }


# The locked-out page -------------------------------------------------------------------


def test_locked_out_page_offers_every_way_back(settings):
    therapist = TherapistFactory()
    html = _lock_out(settings, therapist.username).content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"wait {minutes} minutes" in html
    assert "ask the clinic manager to unlock" in html
    assert f'href="{reverse("password_reset")}"' in html


def test_rate_limit_counts_requests_served_by_other_processes(settings):
    # Two gunicorn workers are two processes: a count made in one must hold in the other.
    import os
    import subprocess
    import sys
    import uuid

    from clinic import settings as project_settings
    from clinic.ratelimit import rate_limit_hit

    settings.CACHES = project_settings.CACHES
    key = uuid.uuid4().hex
    other_worker = (
        "import django; django.setup(); from clinic.ratelimit import rate_limit_hit; "
        f"rate_limit_hit(scope='cross-process', key='{key}', limit=5, period_seconds=3600)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clinic.settings"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", other_worker], check=True, env=env, timeout=60)
    assert rate_limit_hit(scope="cross-process", key=key, limit=2, period_seconds=3600)
