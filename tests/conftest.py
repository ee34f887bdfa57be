"""Fixtures shared by the whole suite.

Services: tests that need PostgreSQL, Redis or Chromium ask for them through
``require_service``. Locally a missing service skips the test; with REQUIRE_SERVICES=1
(as CI runs) it fails it, so a green CI run means they really ran.
"""

import datetime as dt
import os
import shutil
import signal
import socket
import uuid
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests import factories

# Playwright's sync API runs an event loop in the test thread; Django would otherwise
# refuse the ORM calls that tests make next to it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes"}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def require_service():
    """``require_service("postgresql" | "redis" | "chromium")``."""

    def check(name: str) -> None:
        if name == "postgresql":
            if connection.vendor != "postgresql":
                _missing("this test needs PostgreSQL (set DATABASE_URL)")
        elif name == "redis":
            if not settings.REDIS_URL:
                _missing("this test needs Redis (set REDIS_URL)")
            if not _reachable(settings.REDIS_URL):
                _missing(f"Redis at {settings.REDIS_URL} does not answer")
        elif name == "chromium":
            if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
                _missing(f"Chromium is not installed at {CHROMIUM}")
        else:
            raise ValueError(name)

    return check


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    """Each test starts with an empty cache of its own: rate-limit counters
    (clinic/ratelimit.py, clinic/reminders/ratelimit.py) must not carry over from one
    test to the next. Not ``cache.clear()``: with REDIS_URL the project's cache is the
    broker's Redis database, and clearing it would flush Celery's queues too. The tests
    that need the real, shared backend set ``settings.CACHES`` themselves."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def therapist(db):
    return factories.TherapistFactory()


@pytest.fixture
def front_desk(db):
    return factories.FrontDeskFactory()


@pytest.fixture
def manager(db):
    return factories.ManagerFactory()


@pytest.fixture
def role_users(therapist, front_desk, manager):
    return {"therapist": therapist, "front_desk": front_desk, "manager": manager}


@pytest.fixture
def client_for(client):
    """``client_for(user)``: the test client signed in as ``user`` (or anonymous for None)."""

    def login(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return login


@pytest.fixture
def celery_worker_process(tmp_path):
    """Start a real Celery worker (solo pool) in a subprocess, consuming a private queue.

    Returns ``start(queue, extra_env=None) -> subprocess.Popen``; every worker started is
    stopped when the test ends, with its whole process group (a worker started with -B
    runs beat in a child process, which outlives a worker killed on its own). It uses the
    same broker and result backend as the test process: kombu's filesystem transport by
    default, Redis when REDIS_URL is set.
    """
    import subprocess
    import sys

    started = []

    def start(queue: str, extra_env: dict | None = None, extra_args: list | None = None):
        env = dict(os.environ)
        env.update(extra_env or {})
        log = open(tmp_path / f"worker-{queue}.log", "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "clinic",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                *(extra_args or []),
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown can end it whole
        )
        started.append((proc, log))
        return proc

    yield start

    for proc, log in started:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(proc.pid, signal.SIGKILL)  # beat's child too, and anything stuck
        proc.wait()
        log.close()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass  # the whole group has already gone


@pytest.fixture(autouse=True)
def _treatment_catalogue(request):
    """Restore the seeded technique/exercise catalogue for transactional (browser) tests.

    Their database flush removes the rows the data migration created; the data itself
    comes from that migration (treatments.catalogue), so there is one copy of it.
    """
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from treatments.catalogue import catalogue_ensure

    catalogue_ensure()


@pytest.fixture
def clinic_noon(monkeypatch):
    """Stops the clock at today's noon in the clinic's zone.

    For same-day rules (check-in only on the visit's day, Today's arrivals): a visit "in
    ten minutes" stays on today's date whatever hour the suite runs at. Every
    ``timezone.now()``/``timezone.localdate()`` call sees the stopped clock.
    """
    tz = timezone.get_current_timezone()
    noon = dt.datetime.combine(timezone.now().astimezone(tz).date(), dt.time(12), tzinfo=tz)
    fixed = noon.astimezone(dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: fixed)
    return fixed
