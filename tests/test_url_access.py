"""Every URL the app serves refuses anonymous visitors and staff without a role.

Per-view tests cover each role; this walks the URL configuration itself, so a view added
later without its login or permission check fails here.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Open by design: the login page and "Forgot password?" with its reset steps, the links
# in reminder emails and the iCalendar feed, which carry a signed token or a secret
# instead of a login (tested in their own suites).
PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "scheduling:feed",
}
PUBLIC_NAMESPACES = {"reminder_links"}


def _routes(patterns=None, namespace=None):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin"):
                continue
            yield from _routes(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            if name in PUBLIC or namespace in PUBLIC_NAMESPACES:
                continue
            arguments = re.findall(r"<(?:int:)?(\w+)>", str(entry.pattern))
            yield name, {argument: 1 for argument in arguments}


ROUTES = sorted(_routes())


def test_the_walk_finds_every_area():
    names = {name for name, _ in ROUTES}
    for expected in (
        "today",
        "patients:detail",
        "treatments:note_sign",
        "scheduling:book",
        "reminders:retry",
        "waitlist:list",
        "waitlist:book",
        "audit:export",
        "staff_edit",
        "reports:outcomes",
        "reports:outcomes_patients",
    ):
        assert expected in names


@pytest.mark.parametrize(("name", "kwargs"), ROUTES, ids=[name for name, _ in ROUTES])
def test_anonymous_visitors_are_sent_to_login(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    for method in (client.get, client.post):
        response = method(url)
        if response.status_code == 405:
            continue  # the method is not served at all, for anyone
        assert response.status_code == 302, (name, method.__name__)
        assert response["Location"].startswith(reverse("login")), name


# Every signed-in account may use its own Today page, password and two-step sign-in pages.
ROLE_FREE = {"today", "logout", "password_change", "password_change_done"}
ROLE_FREE |= {"mfa_status", "mfa_verify", "mfa_enrol"}
ROLE_ROUTES = [(name, kwargs) for name, kwargs in ROUTES if name not in ROLE_FREE]


@pytest.mark.parametrize(("name", "kwargs"), ROLE_ROUTES, ids=[name for name, _ in ROLE_ROUTES])
def test_staff_without_a_role_are_refused(client, name, kwargs):
    client.force_login(UserFactory())
    url = reverse(name, kwargs=kwargs)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code in (403, 405), (name, method.__name__, response.status_code)


# Clinic closures and the stranded-visit worklists, per role: the manager manages
# closures; the front desk, who moves the stranded visits, reads the lists and
# worklists; therapists see closures on the calendar only.
def test_closure_and_worklist_pages_per_role(client, role_users):
    import datetime as dt

    from django.utils import timezone

    from clinic.models import ClinicClosure, TimeOff
    from tests.factories import PractitionerFactory

    day = timezone.localdate() + dt.timedelta(days=10)
    closure = ClinicClosure.objects.create(starts_on=day, ends_on=day, reason="Holiday")
    start = timezone.now() + dt.timedelta(days=3)
    off = TimeOff.objects.create(
        practitioner=PractitionerFactory(), starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    pages = {
        "scheduling:closures": ([], {"manager", "front_desk"}),
        "scheduling:closure_create": ([], {"manager"}),
        "scheduling:closure_edit": ([closure.pk], {"manager"}),
        "scheduling:closure_visits": ([closure.pk], {"manager", "front_desk"}),
        "scheduling:time_off_list": ([], {"manager", "front_desk"}),
        "scheduling:time_off_visits": ([off.pk], {"manager", "front_desk"}),
    }
    for name, (args, allowed) in pages.items():
        url = reverse(name, args=args)
        client.logout()
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name
        for role, user in role_users.items():
            client.force_login(user)
            status = client.get(url).status_code
            assert status == (200 if role in allowed else 403), (name, role, status)
    # Removing a closure is the manager's too: the front desk's POST changes nothing.
    client.force_login(role_users["front_desk"])
    url = reverse("scheduling:closure_edit", args=[closure.pk])
    assert client.post(url, {"action": "delete"}).status_code == 403
    assert ClinicClosure.objects.filter(pk=closure.pk).exists()


# The waitlist (clinic/waitlist): what each role may open (GET) or do (POST). Allowed is
# 200 for a page and a redirect for an action; forbidden is 403.
WAITLIST_ACCESS = {
    # name: (method, {role: allowed})
    "waitlist:list": ("get", {"therapist": True, "front_desk": True, "manager": True}),
    "waitlist:add": ("get", {"therapist": True, "front_desk": True, "manager": False}),
    "waitlist:book": ("get", {"therapist": False, "front_desk": True, "manager": False}),
    "waitlist:withdraw": ("post", {"therapist": False, "front_desk": True, "manager": False}),
}


def test_every_waitlist_url_has_its_roles_listed():
    names = {name for name, _ in ROUTES if name.startswith("waitlist:")}
    assert names == set(WAITLIST_ACCESS)


@pytest.mark.parametrize("role", ["therapist", "front_desk", "manager"])
@pytest.mark.parametrize("name", sorted(WAITLIST_ACCESS))
def test_waitlist_urls_per_role(client, role_users, role, name):
    from clinic.models import WaitlistEntry
    from tests.factories import PatientFactory

    entry = WaitlistEntry.objects.create(
        patient=PatientFactory(),
        kind="follow_up",
        earliest_date="2030-01-01",
        latest_date="2030-02-01",
        window_start="08:00",
        window_end="18:00",
        created_by=role_users["front_desk"],
    )
    method, allowed = WAITLIST_ACCESS[name]
    kwargs = {"entry_id": entry.pk} if name in ("waitlist:book", "waitlist:withdraw") else {}
    client.force_login(role_users[role])
    response = getattr(client, method)(reverse(name, kwargs=kwargs))
    if allowed[role]:
        assert response.status_code == (200 if method == "get" else 302), (name, role)
    else:
        assert response.status_code == 403, (name, role)


# The caseload reports, per role (clinic/reports/views.py): managers and therapists read
# counts and rates; only a therapist opens their own patients behind them; front desk
# reads none. Each report's CSV follows its page.
REPORT_ACCESS = {
    "reports:outcomes": ("therapist", "manager"),
    "reports:outcomes_csv": ("therapist", "manager"),
    "reports:outcomes_patients": ("therapist",),
    "reports:attendance": ("therapist", "manager"),
    "reports:attendance_csv": ("therapist", "manager"),
    "reports:utilisation": ("therapist", "manager"),
    "reports:utilisation_csv": ("therapist", "manager"),
    "reports:adherence": ("therapist", "manager"),
    "reports:adherence_csv": ("therapist", "manager"),
}


def test_the_report_table_covers_every_report_url():
    assert {name for name, _ in ROUTES if name.startswith("reports:")} == set(REPORT_ACCESS)


@pytest.mark.parametrize("name", sorted(REPORT_ACCESS))
def test_each_role_is_allowed_or_refused_each_report(client, role_users, name):
    url = reverse(name)
    for role, user in role_users.items():
        client.force_login(user)
        expected = 200 if role in REPORT_ACCESS[name] else 403
        assert client.get(url).status_code == expected, (name, role)
        assert client.post(url).status_code == (405 if expected == 200 else 403), (name, role)
