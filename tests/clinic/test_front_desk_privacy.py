"""Front desk never sees clinical content: crawl every page it can reach with the demo data.

Per-page tests check each view; this one follows every link front desk is shown, from
the Today page outwards, so a page or section added later cannot leak unnoticed.
"""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from patients.models import Assessment, Precaution, SuspectedCause
from treatments.models import Exercise, TreatmentPlan

pytestmark = pytest.mark.django_db

MAX_PAGES = 250
SKIP_PREFIXES = ("/accounts/logout", "/admin", "/static")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _clinical_terms() -> set[str]:
    terms = {"LEFS", "NPRS", "Ottawa", "x-ray", "Clinical impression", "Maitland"}
    terms |= {label for value, label in SuspectedCause.choices if value != "other"}
    terms |= {label for _, label in Precaution.choices}
    for name, name_es in Exercise.objects.values_list("name", "name_es"):
        terms |= {name, name_es} - {""}
    for impression in Assessment.objects.exclude(clinical_impression="").values_list(
        "clinical_impression", flat=True
    )[:40]:
        terms.add(impression[:40])
    for goals in TreatmentPlan.objects.values_list("goals", flat=True)[:40]:
        terms.add(goals[:40])
    return terms


def test_no_page_front_desk_can_reach_shows_clinical_content(client):
    call_command("seed_demo", "--password", "clinic-demo-2026")
    assert Assessment.objects.exists() and TreatmentPlan.objects.exists()
    terms = _clinical_terms()
    client.force_login(get_user_model().objects.get(username="demo-frontdesk"))

    seen: set[str] = set()
    queue = deque(["/"])
    leaks: list[tuple[str, str]] = []
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code < 500, path
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        leaks += [(path, term) for term in terms if term in html]
        parser = _Links()
        parser.feed(html)
        for href in parser.links:
            url = urlparse(urljoin(path, href))
            if url.scheme not in ("", "http") or url.netloc not in ("", "testserver"):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if not url.path.startswith(SKIP_PREFIXES) and target not in seen:
                queue.append(target)

    assert len(seen) > 30, "the crawl should reach the calendar, patients and reminders"
    assert any(p.startswith("/patients/") for p in seen)
    assert leaks == []
