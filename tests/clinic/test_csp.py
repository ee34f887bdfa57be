"""Content-Security-Policy (issue 10, item 5): every response allows the app's own origin
only, and no template carries inline script for the policy to block.
"""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.clinic.test_settings import _manage

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data:",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def _directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in parts}


def test_sign_in_page_carries_the_policy(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert _directives(response["Content-Security-Policy"]) == EXPECTED


def test_signed_in_pages_and_errors_carry_the_policy(client, therapist):
    client.force_login(therapist)
    for url in (reverse("today"), "/no-such-page/"):
        response = client.get(url)
        assert _directives(response["Content-Security-Policy"]) == EXPECTED, url


def test_production_responses_carry_the_policy():
    result = _manage(
        "shell",
        "--verbosity=0",
        "-c",
        # A redirect to the sign-in page: no static files needed (production reads them
        # from collectstatic's manifest), and redirects carry the policy too.
        "from django.test import Client; "
        "r = Client().get('/', secure=True); "
        "print(r.status_code, r['Content-Security-Policy'], sep='|')",
        DJANGO_ENV="production",
        SECRET_KEY="a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="testserver",
    )
    assert result.returncode == 0, result.stderr
    status, header = result.stdout.strip().split("|")
    assert status == "302"
    assert _directives(header) == EXPECTED


def _template_files():
    return sorted(path for path in TEMPLATES.rglob("*.html"))


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


@pytest.mark.parametrize("pattern", [INLINE_SCRIPT, EVENT_HANDLER, STYLE_ELEMENT])
def test_no_template_holds_inline_script_handlers_or_style_elements(pattern):
    files = _template_files()
    assert len(files) > 20  # the scan really reads the templates
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in files
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_scan_finds_what_it_looks_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
    assert EVENT_HANDLER.search('<button onclick="go()">')
    assert not EVENT_HANDLER.search('<a class="cal-online" href="/">')
