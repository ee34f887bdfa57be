"""Two-step sign-in in a real browser: password, then a code computed here from the key."""

import base64

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(key: bytes) -> str:
    return f"{TOTP(key, step=30, t0=0, digits=6, drift=0).token():06d}"


def test_staff_member_signs_in_with_password_then_authenticator_code(
    page, login, therapist, settings
):
    settings.STAFF_MFA_REQUIRED = True
    device = TOTPDevice.objects.create(user=therapist, name="Authenticator app", confirmed=True)
    login(therapist)
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    # The password alone opens nothing else.
    page.goto("/patients/")
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    page.get_by_role("textbox", name="Code").fill(_code(device.bin_key))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Patients", exact=False).first).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name="Your clinical day")).to_be_visible()


def test_first_sign_in_enrols_with_the_shown_secret_and_shows_recovery_codes(
    page, login, therapist, settings
):
    settings.STAFF_MFA_REQUIRED = True
    login(therapist)
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    expect(
        page.get_by_role("img", name="QR code holding the secret key written below")
    ).to_be_visible()
    secret = page.locator("#mfa-secret").inner_text().strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_role("textbox", name="Code").fill(_code(key))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I saved them, continue").click()
    expect(page.get_by_role("heading", name="Your clinical day")).to_be_visible()
