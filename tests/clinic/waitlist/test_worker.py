"""End to end with real parts: a cancellation produces offer emails through a real Celery
worker, Redis and a loopback SMTP server; two patients follow their links at the same
instant on PostgreSQL and exactly one is booked."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client

from clinic.models import Appointment, AppointmentStatus, Reminder, WaitlistEntry

from .conftest import cancel, make_entry

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CLAIM = re.compile(r"https?://[^\s<>\"]+?(/r/w/[^\s<>\"/]+/)")


def test_a_cancellation_emails_offers_and_two_simultaneous_claims_book_once(
    require_service,
    reminder_worker,
    smtp_server,
    desk,
    visit,
    settings,  # noqa: F811
):
    require_service("postgresql")
    require_service("redis")
    first = make_entry(created_by=desk)
    second = make_entry(created_by=desk)
    reminder_worker(smtp_server)

    cancel(visit, desk)  # commits: the first wave goes out once it has

    # The visit's own patient hears of the cancellation; the two waiting patients get offers.
    received = smtp_server.wait_for(3, timeout=120)
    offered = {first.patient.email, second.patient.email}
    assert {m["To"] for m in received} == offered | {visit.patient.email}
    assert set(Reminder.objects.values_list("kind", "status")) == {
        ("waitlist_offer", "sent"),
        ("cancellation", "sent"),
    }
    messages = [m for m in received if m["To"] in offered]
    links = {}
    for message in messages:
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        (path,) = set(CLAIM.findall(text))
        assert CLAIM.findall(html) == [path]
        assert visit.practitioner.display_name in text
        links[message["To"]] = path

    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def claim(address: str) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.post(links[address])
            results[address] = (response.status_code, response.content.decode())
        except BaseException as error:  # noqa: BLE001 - any escape fails the test
            results[address] = ("unexpected", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(address,)) for address in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    codes = sorted(code for code, _html in results.values())
    assert codes == [200, 409], results
    booked = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    winner = next(a for a, (code, _html) in results.items() if code == 200)
    assert booked.patient.email == winner
    assert (booked.practitioner_id, booked.starts_at) == (visit.practitioner_id, visit.starts_at)
    loser = next(a for a in results if a != winner)
    assert "this time has been taken" in results[loser][1]
    states = dict(WaitlistEntry.objects.values_list("patient__email", "status"))
    assert states == {winner: "booked", loser: "waiting"}
