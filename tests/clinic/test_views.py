import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from clinic.models import AuditEvent, Practitioner
from clinic.roles import FRONT_DESK, THERAPIST
from patients.audit import AuditAction
from tests.factories import FrontDeskFactory, TherapistFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.mark.parametrize(
    ("role", "section"),
    [
        ("therapist", "therapist-day"),
        ("front_desk", "front-desk-day"),
        ("manager", "manager-links"),
    ],
)
def test_today_shows_each_role_its_own_section(client_for, role_users, role, section):
    response = client_for(role_users[role]).get(reverse("today"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-section="{section}"' in html
    for other in {"therapist-day", "front-desk-day", "manager-links"} - {section}:
        assert f'data-section="{other}"' not in html


def test_today_sections_follow_permissions_not_group_names(client_for):
    # A clinic may grant one permission to one person (clinic/roles.py): an account in
    # no role group that holds the booking permission gets the front desk's day.
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    user = UserFactory()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="clinic", codename="add_appointment")
    )
    html = client_for(user).get(reverse("today")).content.decode()
    assert 'data-section="front-desk-day"' in html
    assert 'data-section="therapist-day"' not in html


def test_navigation_shows_staff_link_to_managers_only(client_for, role_users):
    staff_url = reverse("staff_list")
    assert staff_url in client_for(role_users["manager"]).get(reverse("today")).content.decode()
    for role in ("therapist", "front_desk"):
        assert staff_url not in client_for(role_users[role]).get(reverse("today")).content.decode()


STAFF_PAGES = ["staff_list", "staff_create"]


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_staff_pages_are_for_managers(client_for, role_users, page):
    assert client_for(role_users["manager"]).get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", STAFF_PAGES)
@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_staff_pages_are_forbidden_to_other_roles(client_for, role_users, page, role):
    response = client_for(role_users[role]).get(reverse(page))
    assert response.status_code == 403
    assert "have access to this page" in response.content.decode()


def test_staff_edit_per_role(client_for, role_users):
    url = reverse("staff_edit", args=[role_users["therapist"].pk])
    assert client_for(role_users["manager"]).get(url).status_code == 200
    assert client_for(role_users["therapist"]).get(url).status_code == 403
    assert client_for(role_users["front_desk"]).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


def test_manager_creates_a_therapist_who_becomes_bookable(client_for, manager):
    response = client_for(manager).post(
        reverse("staff_create"),
        {
            "username": "new.pt",
            "first_name": "Nina",
            "last_name": "Park",
            "email": "nina@example.org",
            "role": THERAPIST,
            "password": "Sturdy-pass-2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="new.pt")
    assert list(user.groups.values_list("name", flat=True)) == [THERAPIST]
    assert user.check_password("Sturdy-pass-2026")
    assert Practitioner.objects.get(user=user).display_name == "Nina Park"
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, actor=manager, object_id=str(user.pk)
    ).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "123", "This password is too short"),
        ("username", "frontdesk-taken", "There is already an account"),
        ("username", "bad name!", "Enter a valid username"),
        ("email", "not-an-email", "Enter a valid email address"),
        ("role", "Superhero", "Select a valid choice"),
    ],
)
def test_bad_staff_input_gets_a_form_error_and_creates_nothing(
    client_for, manager, field, value, message
):
    FrontDeskFactory(username="frontdesk-taken")
    before = User.objects.count()
    data = {
        "username": "someone",
        "first_name": "Some",
        "last_name": "One",
        "email": "someone@example.org",
        "role": FRONT_DESK,
        "password": "Sturdy-pass-2026",
    }
    data[field] = value
    response = client_for(manager).post(reverse("staff_create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == before


def test_manager_deactivates_an_account_and_it_can_no_longer_sign_in(client_for, client, manager):
    therapist = TherapistFactory()
    response = client_for(manager).post(
        reverse("staff_edit", args=[therapist.pk]),
        {"first_name": "A", "last_name": "B", "email": "", "role": THERAPIST, "is_active": ""},
    )
    assert response.status_code == 302
    therapist.refresh_from_db()
    assert not therapist.is_active
    assert not Practitioner.objects.get(user=therapist).active
    client.logout()
    client.post(reverse("login"), {"username": therapist.username, "password": "x"})
    assert "_auth_user_id" not in client.session


def test_manager_changes_a_role(client_for, manager):
    front_desk = FrontDeskFactory()
    client_for(manager).post(
        reverse("staff_edit", args=[front_desk.pk]),
        {"first_name": "A", "last_name": "B", "email": "", "role": THERAPIST, "is_active": "on"},
    )
    assert list(front_desk.groups.values_list("name", flat=True)) == [THERAPIST]


def test_manager_cannot_deactivate_themself(client_for, manager):
    response = client_for(manager).post(
        reverse("staff_edit", args=[manager.pk]),
        {
            "first_name": "M",
            "last_name": "B",
            "email": "",
            "role": "Clinic manager",
            "is_active": "",
        },
    )
    assert response.status_code == 200
    assert "cannot deactivate your own account" in response.content.decode()
    manager.refresh_from_db()
    assert manager.is_active


def test_unknown_staff_id_is_a_404(client_for, manager):
    assert client_for(manager).get(reverse("staff_edit", args=[999999])).status_code == 404


def test_staff_list_query_count_does_not_grow_with_staff(
    client_for, manager, django_assert_num_queries
):
    client = client_for(manager)
    for _ in range(3):
        TherapistFactory()
    # session, user, user permissions, group permissions (view check and navigation),
    # staff accounts, their groups (one prefetch), axes's failed attempts for all listed
    # usernames (the "Locked out" badge). The navigation checks permissions: no query
    # for the viewer's own groups.
    with django_assert_num_queries(7):
        client.get(reverse("staff_list"))
    for _ in range(10):
        FrontDeskFactory()
    with django_assert_num_queries(7):
        response = client.get(reverse("staff_list"))
    assert response.content.decode().count('href="/staff/') >= 14


def test_front_desk_today_shows_the_next_20_arrivals_and_how_many_more(client_for):
    """A busy day's arrivals are capped at 20 on Today, earliest first, with the number
    left and a link to the day's calendar (docs/decisions.md, "Pages at a clinic group's
    size")."""
    import datetime as dt

    from django.utils import timezone

    from patients.localtime import clinic_today, clinic_zone
    from tests.factories import AppointmentFactory, PractitionerFactory

    practitioner = PractitionerFactory()
    start = dt.datetime.combine(clinic_today(), dt.time(0, 0), tzinfo=clinic_zone())
    visits = [
        AppointmentFactory(
            practitioner=practitioner,
            starts_at=start + dt.timedelta(minutes=10 * n),
            ends_at=start + dt.timedelta(minutes=10 * n + 10),
        )
        for n in range(23)
    ]
    assert all(timezone.localdate(v.starts_at, clinic_zone()) == clinic_today() for v in visits)
    html = client_for(FrontDeskFactory()).get(reverse("today")).content.decode()
    shown = [v.pk for v in visits if f'data-arrival="{v.pk}"' in html]
    assert shown == [v.pk for v in visits[:20]]
    assert "3 more arrivals later today" in html
    assert reverse("scheduling:day") in html
