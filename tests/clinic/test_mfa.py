"""Two-step sign-in (clinic/mfa): enrolment, codes, recovery codes, the manager's reset."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import AuditEvent
from tests.clinic.test_settings import _manage
from tests.factories import PASSWORD, PatientFactory, TherapistFactory

pytestmark = pytest.mark.django_db


def totp_now(device: TOTPDevice, offset: int = 0) -> str:
    """The code the user's app shows right now, computed from the device's key."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = ["abcd2345", "efgh6789"]
    for code in codes:
        StaticToken.objects.create(device=static, token=code)
    return device, codes


def password_login(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


@pytest.fixture
def mfa_on(settings):
    settings.STAFF_MFA_REQUIRED = True
    return settings


def test_password_only_session_reaches_no_page_when_mfa_required(client, mfa_on, therapist):
    enrol(therapist)
    patient = PatientFactory()
    password_login(client, therapist)
    verify = reverse("mfa_verify")
    for url in [
        reverse("today"),
        reverse("patients:detail", args=[patient.pk]),
        reverse("patients:list"),
        reverse("password_change"),
        reverse("staff_list"),
        reverse("mfa_status"),
        "/admin/",
        "/admin/auth/user/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(verify), url
    # A POST is refused too, not only pages.
    response = client.post(reverse("patients:create"), {"first_name": "X"})
    assert response.status_code == 302
    assert response["Location"] == verify


def test_user_without_device_is_sent_to_enrolment_when_mfa_required(client, mfa_on, therapist):
    password_login(client, therapist)
    response = client.get(reverse("today"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("mfa_enrol"))
    assert b"Set up two-step sign-in" in response.content
    # Still nothing else opens before the enrolment is confirmed.
    assert client.get(reverse("patients:list"))["Location"].startswith(reverse("mfa_verify"))


def test_enrolment_confirms_device_and_shows_ten_recovery_codes_once(client, mfa_on, therapist):
    password_login(client, therapist)
    page = client.get(reverse("mfa_enrol"))
    assert page.status_code == 200
    assert b"<svg" in page.content
    assert b'autocomplete="one-time-code"' in page.content
    assert b'inputmode="numeric"' in page.content
    device = TOTPDevice.objects.get(user=therapist)
    assert not device.confirmed
    assert page.context["secret"] in page.content.decode()

    response = client.post(reverse("mfa_enrol"), {"code": totp_now(device)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    static = StaticDevice.objects.get(user=therapist)
    assert sorted(static.token_set.values_list("token", flat=True)) == sorted(codes)
    assert AuditEvent.objects.filter(
        actor=therapist, action="update", detail__contains="two-step sign-in enrolled"
    ).exists()
    # Verified now: pages open, and the enrolment page does not enrol again.
    assert client.get(reverse("today")).status_code == 200
    assert client.get(reverse("mfa_enrol"))["Location"] == reverse("mfa_status")
    assert TOTPDevice.objects.filter(user=therapist).count() == 1


def test_wrong_code_at_enrolment_confirms_nothing(client, mfa_on, therapist):
    password_login(client, therapist)
    client.get(reverse("mfa_enrol"))
    device = TOTPDevice.objects.get(user=therapist)
    wrong = "000000" if totp_now(device) != "000000" else "111111"
    response = client.post(reverse("mfa_enrol"), {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=therapist).exists()


def test_valid_code_verifies_and_opens_pages(client, mfa_on, therapist):
    device, _ = enrol(therapist)
    password_login(client, therapist)
    response = client.post(
        reverse("mfa_verify"), {"code": totp_now(device), "next": reverse("patients:list")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:list")
    assert client.get(reverse("today")).status_code == 200
    assert AuditEvent.objects.filter(
        actor=therapist, action="login", detail__contains="authenticator app"
    ).exists()


def test_wrong_code_fails_is_audited_and_throttled(client, mfa_on, therapist):
    # Each failure doubles the wait; a long factor keeps the check independent of speed.
    mfa_on.OTP_TOTP_THROTTLE_FACTOR = 60
    device, _ = enrol(therapist)
    password_login(client, therapist)
    good = totp_now(device)
    wrong = "000000" if good != "000000" else "111111"
    response = client.post(reverse("mfa_verify"), {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    assert client.get(reverse("today")).status_code == 302
    assert AuditEvent.objects.filter(
        actor=therapist, action="login_failed", detail__contains="wrong code"
    ).exists()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # Throttled: straight after a failure even the right code is refused.
    response = client.post(reverse("mfa_verify"), {"code": good})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get(reverse("today")).status_code == 302


def test_recovery_code_works_once(client, mfa_on, therapist):
    _, codes = enrol(therapist)
    password_login(client, therapist)
    response = client.post(reverse("mfa_verify") + "?recovery=1", {"code": codes[0].upper()})
    assert response.status_code == 302
    assert client.get(reverse("today")).status_code == 200
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    assert AuditEvent.objects.filter(
        actor=therapist, action="login", detail__contains="recovery code (1 left)"
    ).exists()

    client.logout()
    StaticDevice.objects.filter(user=therapist).update(throttling_failure_count=0)
    password_login(client, therapist)
    response = client.post(reverse("mfa_verify"), {"code": codes[0]})
    assert response.status_code == 200
    assert client.get(reverse("today")).status_code == 302


def test_code_page_has_accessible_one_time_code_field(client, mfa_on, therapist):
    enrol(therapist)
    password_login(client, therapist)
    html = client.get(reverse("mfa_verify")).content.decode()
    assert re.search(r'<label[^>]*for="id_code"', html)
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html


def test_mfa_off_changes_nothing_for_users_without_device(client, settings, therapist):
    settings.STAFF_MFA_REQUIRED = False
    response = password_login(client, therapist)
    assert response["Location"] == reverse("today")
    assert client.get(reverse("today")).status_code == 200
    assert client.get(reverse("patients:list")).status_code == 200


def test_mfa_off_user_with_device_is_still_asked_for_code(client, settings, therapist):
    settings.STAFF_MFA_REQUIRED = False
    device, _ = enrol(therapist)
    password_login(client, therapist)
    assert client.get(reverse("today"))["Location"].startswith(reverse("mfa_verify"))
    client.post(reverse("mfa_verify"), {"code": totp_now(device)})
    assert client.get(reverse("today")).status_code == 200


def test_mfa_off_staff_may_enrol_from_account_menu(client_for, settings, therapist):
    settings.STAFF_MFA_REQUIRED = False
    client = client_for(therapist)
    assert reverse("mfa_status").encode() in client.get(reverse("today")).content
    assert b"Set up two-step sign-in" in client.get(reverse("mfa_status")).content
    client.get(reverse("mfa_enrol"))
    device = TOTPDevice.objects.get(user=therapist)
    response = client.post(reverse("mfa_enrol"), {"code": totp_now(device)})
    assert len(response.context["codes"]) == 10
    assert b"On" in client.get(reverse("mfa_status")).content


def test_unverified_user_with_device_cannot_enrol_a_new_one(client, settings, therapist):
    settings.STAFF_MFA_REQUIRED = False
    enrol(therapist)
    password_login(client, therapist)
    response = client.get(reverse("mfa_enrol"))
    assert response["Location"].startswith(reverse("mfa_verify"))
    assert TOTPDevice.objects.filter(user=therapist).count() == 1


def test_manager_resets_staff_second_factor(client_for, manager):
    staff = TherapistFactory()
    enrol(staff)
    client = client_for(manager)
    page = client.get(reverse("staff_edit", args=[staff.pk]))
    assert reverse("staff_mfa_reset", args=[staff.pk]).encode() in page.content
    response = client.post(reverse("staff_mfa_reset", args=[staff.pk]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    event = AuditEvent.objects.get(actor=manager, action="update", object_id=str(staff.pk))
    assert "two-step sign-in reset" in event.detail


def test_reset_staff_is_enrolled_again_at_next_sign_in(client, client_for, settings, manager):
    staff = TherapistFactory()
    enrol(staff)
    client_for(manager).post(reverse("staff_mfa_reset", args=[staff.pk]))
    client.logout()
    settings.STAFF_MFA_REQUIRED = True
    password_login(client, staff)
    response = client.get(reverse("today"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("mfa_enrol"))


@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_other_roles_cannot_reset_second_factor(client_for, request, role):
    staff = TherapistFactory()
    enrol(staff)
    client = client_for(request.getfixturevalue(role))
    response = client.post(reverse("staff_mfa_reset", args=[staff.pk]))
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=staff).exists()


def test_anonymous_reset_redirects_to_login(client):
    staff = TherapistFactory()
    enrol(staff)
    response = client.post(reverse("staff_mfa_reset", args=[staff.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert TOTPDevice.objects.filter(user=staff).exists()


def test_reset_is_post_only(client_for, manager):
    staff = TherapistFactory()
    enrol(staff)
    response = client_for(manager).get(reverse("staff_mfa_reset", args=[staff.pk]))
    assert response.status_code == 405
    assert TOTPDevice.objects.filter(user=staff).exists()


@pytest.mark.parametrize("name", ["mfa_status", "mfa_verify", "mfa_enrol"])
def test_two_step_pages_redirect_anonymous_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_mfa_required_defaults_on_in_production_only():
    code = "from django.conf import settings; print(settings.STAFF_MFA_REQUIRED)"
    prod = {"DJANGO_ENV": "production", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "example.org"}
    results = [
        _manage("shell", "-c", code, STAFF_MFA_REQUIRED="").stdout.split()[-1],
        _manage("shell", "-c", code, STAFF_MFA_REQUIRED="", **prod).stdout.split()[-1],
        _manage("shell", "-c", code, STAFF_MFA_REQUIRED="0", **prod).stdout.split()[-1],
    ]
    assert results == ["False", "True", "False"]


def test_wrong_codes_are_throttled_by_default(settings):
    assert settings.OTP_TOTP_THROTTLE_FACTOR >= 1
    assert settings.OTP_STATIC_THROTTLE_FACTOR >= 1


def test_app_sign_ins_do_not_throttle_recovery_codes(client, mfa_on, therapist):
    device, codes = enrol(therapist)
    password_login(client, therapist)
    client.post(reverse("mfa_verify"), {"code": totp_now(device)})
    assert client.get(reverse("today")).status_code == 200
    static = StaticDevice.objects.get(user=therapist)
    assert static.throttling_failure_count == 0
    # And a recovery code is no failed app code either.
    client.logout()
    password_login(client, therapist)
    client.post(reverse("mfa_verify"), {"code": codes[0]})
    assert client.get(reverse("today")).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_admin_shows_no_second_factor_devices(client, therapist):
    from django.contrib import admin

    enrol(therapist)
    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
    superuser = TherapistFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
