"""Client addresses behind reverse proxies: the lockout and the audit log (issue 10, item 1).

Every request goes through the real middleware stack (Django's test client) with the
socket address of a proxy on the same host, 127.0.0.1, as behind the README's nginx.
"""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from clinic.models import AuditEvent
from patients.audit import AuditAction, client_ip
from tests.clinic.test_settings import _manage
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.5"
MANAGER_HOME = "198.51.100.7"
PROXY = "127.0.0.1"


def _login(client, username, password, forwarded_for):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_failures_from_one_address_behind_the_proxy_do_not_lock_the_manager_out_elsewhere(
    client, settings, manager
):
    settings.PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, manager.username, "wrong-password", ATTACKER)
    # The attacker's address is locked out, even with the right password ...
    locked = _login(client, manager.username, PASSWORD, ATTACKER)
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    # ... the manager, from their own address, signs in.
    response = _login(client, manager.username, PASSWORD, MANAGER_HOME)
    assert response.status_code == 302
    assert response["Location"] == reverse("today")
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_audit_log_records_the_client_address_behind_the_proxy(client, settings, manager):
    settings.PROXY_COUNT = 1
    _login(client, manager.username, "wrong-password", ATTACKER)
    _login(client, manager.username, PASSWORD, MANAGER_HOME)
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    signed_in = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert failed.ip == ATTACKER
    assert signed_in.ip == MANAGER_HOME
    assert not AuditEvent.objects.filter(ip=PROXY).exists()


def test_entries_a_client_prepends_to_x_forwarded_for_are_ignored(client, settings, manager):
    # nginx appends the address it saw; whatever the client sent comes before it.
    settings.PROXY_COUNT = 1
    _login(client, manager.username, "wrong-password", f"{MANAGER_HOME}, {ATTACKER}")
    assert AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED).ip == ATTACKER


def test_without_trusted_proxies_a_forged_x_forwarded_for_changes_nothing(
    client, settings, manager
):
    settings.PROXY_COUNT = 0
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, manager.username, "wrong-password", ATTACKER)
    # A different forged address does not get round the lockout of the real one.
    response = _login(client, manager.username, PASSWORD, MANAGER_HOME)
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    assert set(AuditEvent.objects.values_list("ip", flat=True)) == {PROXY}


def test_two_proxies_take_the_second_entry_from_the_right(settings):
    settings.PROXY_COUNT = 2
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ATTACKER}, 10.0.0.1"
    )
    assert client_ip(request) == ATTACKER


def test_a_request_without_the_header_falls_back_to_the_socket_address(settings):
    settings.PROXY_COUNT = 1
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="192.0.2.9")) == "192.0.2.9"
    garbage = RequestFactory().get("/", REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="junk")
    assert client_ip(garbage) == "192.0.2.9"


@pytest.mark.parametrize(("value", "expected"), [("", "0"), ("1", "1"), ("2", "2")])
def test_proxy_count_is_read_from_the_environment(value, expected):
    result = _manage(
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings as s; print(s.PROXY_COUNT, s.AXES_CLIENT_IP_CALLABLE)",
        PROXY_COUNT=value,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected, "patients.audit.client_ip"]


@pytest.mark.parametrize("value", ["-1", "one", "1.5"])
def test_a_proxy_count_that_is_not_a_whole_number_stops_the_start(value):
    result = _manage("check", PROXY_COUNT=value)
    assert result.returncode != 0
    assert "PROXY_COUNT must be a whole number" in result.stderr
