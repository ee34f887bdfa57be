"""The send task in batches: one claim, one SMTP connection, outcomes in bulk, and each
row's own outcome when the mail server answers for one address only."""

import base64
import datetime as dt
import re
import subprocess
import threading
from email import message_from_bytes, policy

import dkim
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.utils import timezone

from clinic.models import Reminder, ReminderStatus
from clinic.reminders import services

from .helpers import program_due


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids: len(ids))


def _due(n: int) -> list[Reminder]:
    now = timezone.now()
    rows = []
    for _ in range(n):
        program = program_due(at=dt.time(0, 0), start=now.date() - dt.timedelta(days=7))
        rows.append(
            Reminder.objects.create(
                kind="exercise",
                patient=program.patient,
                program=program,
                due_at=now - dt.timedelta(minutes=1),
                key=f"exercise:{program.id}:{now.date()}",
            )
        )
    return rows


def _ids(rows):
    return [row.id for row in rows]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 12])
def test_a_batch_is_one_claim_one_read_one_update_and_one_smtp_connection(
    smtp_server, smtp_settings, settings, django_assert_num_queries, size
):
    smtp_settings(smtp_server)
    settings.REMINDER_RECORD_EVERY = 100
    rows = _due(size)
    # 1 the claim (UPDATE … RETURNING), 2 the rows with patient and program, 3 one UPDATE
    # marking every one of them sent.
    with django_assert_num_queries(3):
        result = services.reminders_send_batch(ids=_ids(rows))
    assert result.as_dict() == {"claimed": size, "sent": size}
    assert smtp_server.sessions == 1
    assert sorted(e.rcpt_tos[0] for e in smtp_server.envelopes) == sorted(
        row.patient.email for row in rows
    )
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    assert not Reminder.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_redelivered_batch_sends_nothing(smtp_server, smtp_settings):
    smtp_settings(smtp_server)
    ids = _ids(_due(4))
    services.reminders_send_batch(ids=ids)
    assert services.reminders_send_batch(ids=ids).claimed == 0
    assert len(smtp_server.envelopes) == 4


@pytest.mark.django_db
def test_one_refused_address_fails_that_row_only(smtp_server, smtp_settings):
    smtp_settings(smtp_server)
    rows = _due(3)
    smtp_server.refuse[rows[1].patient.email] = "550 5.1.1 No such mailbox"
    smtp_server.refuse[rows[2].patient.email] = "452 4.2.2 Mailbox full, try later"
    result = services.reminders_send_batch(ids=_ids(rows))
    assert result.as_dict() == {"claimed": 3, "sent": 1, "failed": 1, "retry": 1}
    sent, refused, full = (Reminder.objects.get(id=row.id) for row in rows)
    assert sent.status == ReminderStatus.SENT
    assert (refused.status, refused.reason) == ("failed", "address_refused")
    assert "No such mailbox" in refused.last_error
    assert (full.status, full.reason) == ("pending", "mail_server")  # 4xx: it waits
    assert full.next_attempt_at > timezone.now()
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [[rows[0].patient.email]]


@pytest.mark.django_db
def test_running_out_of_time_gives_back_the_rows_not_started(
    smtp_server, smtp_settings, monkeypatch
):
    smtp_settings(smtp_server)
    rows = _due(5)
    from django.core.mail.backends.smtp import EmailBackend

    real_send = EmailBackend.send_messages
    calls = []

    def send_then_time_out(backend, messages):
        calls.append(messages)
        if len(calls) == 3:
            raise SoftTimeLimitExceeded
        return real_send(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_then_time_out)
    with pytest.raises(SoftTimeLimitExceeded):
        services.reminders_send_batch(ids=_ids(rows))
    statuses = [Reminder.objects.get(id=row.id).status for row in rows]
    # Two went out and are recorded; the third was being handed over (in doubt: it stays
    # "sending", at most once); the last two were never started and wait for a dispatch.
    assert statuses == ["sent", "sent", "sending", "pending", "pending"]
    assert Reminder.objects.get(id=rows[3].id).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_two_tasks_with_the_same_batch_at_once_send_each_reminder_once(
    require_service, smtp_server, smtp_settings
):
    require_service("postgresql")
    smtp_settings(smtp_server)
    ids = _ids(_due(30))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(services.reminders_send_batch(ids=ids).claimed)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(results) == 30
    recipients = [e.rcpt_tos[0] for e in smtp_server.envelopes]
    assert len(recipients) == len(set(recipients)) == 30


def _rsa_key(tmp_path) -> tuple[str, bytes]:
    """A fresh 2048-bit key: the private PEM, and the public key as DNS would carry it."""
    private = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(private), "2048"], check=True, capture_output=True
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(private), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return private.read_text(), base64.b64encode(public)


@pytest.mark.django_db
def test_dkim_signature_verifies_and_covers_the_unsubscribe_headers(
    smtp_server, smtp_settings, settings, tmp_path
):
    smtp_settings(smtp_server)
    private, public = _rsa_key(tmp_path)
    settings.DKIM_SELECTOR = "reminders"
    settings.DKIM_DOMAIN = "clinic.example"
    settings.DKIM_PRIVATE_KEY = private
    settings.EMAIL_MESSAGE_ID_DOMAIN = "clinic.example"
    services.reminders_send_batch(ids=_ids(_due(1)))
    raw = smtp_server.envelopes[0].content
    asked = []

    def dns(name, timeout=5):
        asked.append(name)
        return b"v=DKIM1; k=rsa; p=" + public

    assert dkim.verify(raw, dnsfunc=dns) is True
    assert asked == [b"reminders._domainkey.clinic.example."]
    message = message_from_bytes(raw, policy=policy.default)
    signed = re.search(r"h=([^;]+);", " ".join(str(message["DKIM-Signature"]).split()))
    covered = {name.strip().lower() for name in signed.group(1).split(":")}
    assert {"from", "subject", "list-unsubscribe", "list-unsubscribe-post"} <= covered
    assert message["Message-ID"].strip().endswith("@clinic.example>")
    # A relay that swaps the one-click link breaks the signature.
    tampered = raw.replace(b"/r/u/", b"/r/x/", 1)
    assert tampered != raw
    assert dkim.verify(tampered, dnsfunc=dns) is False


@pytest.mark.django_db
def test_without_dkim_settings_no_signature_and_message_id_on_the_sender_domain(
    smtp_server, smtp_settings, settings
):
    smtp_settings(smtp_server)
    settings.DKIM_PRIVATE_KEY = ""
    settings.EMAIL_MESSAGE_ID_DOMAIN = ""
    settings.DEFAULT_FROM_EMAIL = '"Riverside" <reminders@riverside-pt.example>'
    services.reminders_send_batch(ids=_ids(_due(1)))
    message = message_from_bytes(smtp_server.envelopes[0].content, policy=policy.default)
    assert message["DKIM-Signature"] is None
    assert message["Message-ID"].strip().endswith("@riverside-pt.example>")
