import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("role", "heading"),
    [
        ("therapist", "Your clinical day"),
        ("front_desk", "Front desk"),
        ("manager", "Clinic management"),
    ],
)
def test_each_role_signs_in_and_lands_on_its_today_page(page, login, role_users, role, heading):
    login(role_users[role])
    expect(page).to_have_url(page.url.split("/accounts")[0].rstrip("/") + "/")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    # Bootstrap is served locally: its stylesheet applied means no CDN was needed.
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
    staff_link = page.get_by_role("navigation").get_by_role("link", name="Staff", exact=True)
    if role == "manager":
        expect(staff_link).to_be_visible()
    else:
        expect(staff_link).to_have_count(0)


def test_wrong_password_shows_an_error_and_stays_signed_out(page, login, therapist):
    login(therapist, password="not-the-password")
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_sign_out_from_the_menu(page, login, front_desk):
    login(front_desk)
    page.get_by_role("button", name=front_desk.get_full_name()).click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
