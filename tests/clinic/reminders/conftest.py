"""Real parts for the reminder tests: a loopback SMTP server and a worker environment."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from django.db import connection


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LoopbackSMTP:
    """aiosmtpd on 127.0.0.1: start/stop on a fixed port (so it can be down, then up)."""

    def __init__(self):
        self.port = free_port()
        self.envelopes = []
        self.controller = None
        self.reply = None  # e.g. "550 No such mailbox": refuse every message
        self.hold = 0  # seconds to wait before accepting a message
        self.refuse: dict[str, str] = {}  # address -> reply, e.g. "550 No such mailbox"
        self.sessions = 0  # SMTP connections opened (EHLO/HELO seen)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        self.envelopes.append(envelope)
        if self.hold:
            # The message is in, but the "250" is slow: a client killed now cannot know.
            await asyncio.sleep(self.hold)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    def wait_for(self, count: int, timeout: float = 90) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.envelopes) >= count:
                return self.messages
            time.sleep(0.2)
        raise AssertionError(f"expected {count} email(s), got {len(self.envelopes)}")


@pytest.fixture
def smtp_server():
    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down():
    """A port with nothing listening yet; ``.start()`` brings the server up on it."""
    server = LoopbackSMTP()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings):
    """Point this process's Django email at a loopback SMTP server."""

    def use(server: LoopbackSMTP) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5

    return use


def database_url() -> str:
    """The test database, as a URL a worker subprocess can open (shared with the test)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def reminder_queue(settings):
    """A private queue for this test's tasks, in this process and in its worker."""
    queue = f"test-reminders-{uuid.uuid4().hex[:8]}"
    settings.REMINDER_QUEUE = queue
    return queue


@pytest.fixture
def reminder_worker(celery_worker_process, reminder_queue, tmp_path, settings):
    """``start(smtp, beat=True, **env)``: a real worker (and beat) delivering reminders
    from the private queue to ``smtp``, on the test database."""

    def start(smtp: LoopbackSMTP, *, beat: bool = True, **env):
        worker_env = {
            "DATABASE_URL": database_url(),
            "DB_CONN_MAX_AGE": "0",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_TIMEOUT": "5",
            "REMINDER_QUEUE": reminder_queue,
            "REMINDER_DISPATCH_SECONDS": "2",
            "SITE_URL": settings.SITE_URL,
        }
        worker_env.update({key: str(value) for key, value in env.items()})
        schedule = tmp_path / f"beat-schedule-{uuid.uuid4().hex[:6]}"
        args = ["-B", "-s", str(schedule)] if beat else []
        return celery_worker_process(reminder_queue, extra_env=worker_env, extra_args=args)

    yield start
    _delete_queue(reminder_queue)


def _delete_queue(queue: str) -> None:
    """Leave no private queue (or retry messages still in it) behind in the broker."""
    from clinic.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
    except Exception:  # noqa: BLE001 - cleanup only; the broker may be gone
        pass


def wait_until(predicate, timeout: float = 60, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
