import re

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "plum-orchard-lantern-47"


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # The reset rate limits count in the default cache: each test starts with none.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "password-reset-e2e",
        }
    }
    cache.clear()


def test_a_locked_out_therapist_resets_the_password_by_email_and_signs_in(
    page, login, settings, live_server, therapist
):
    settings.SITE_URL = live_server.url
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(therapist, password="not-the-password")
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()

    page.get_by_role("link", name="reset your password").click()
    page.get_by_label("Email").fill(therapist.email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    assert len(mail.outbox) == 1
    link = re.search(r"http\S+/accounts/password/reset/\S+/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()

    login(therapist, password=PASSWORD)
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    login(therapist, password=NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Your clinical day")).to_be_visible()


def test_forgot_password_is_one_click_from_the_sign_in_page(page):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Forgot password?")).to_be_visible()
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert mail.outbox == []
