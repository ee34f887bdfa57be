"""Benchmark: dispatch and deliver N due reminders through a real Celery worker, against
the floor (a bare Celery task per email through Django's mail API) in the same run.

    python bench/reminders.py --count 10000                       # SQLite + filesystem broker
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 python bench/reminders.py --count 10000 --concurrency 2

What it does, as production runs (DEBUG off, persistent database connections):
1. starts an aiosmtpd server on a free loopback port (in this process);
2. creates N opted-in patients, each with an active home-exercise program whose reminder
   time has just passed (bulk inserts), in the database named by DATABASE_URL (default:
   a fresh SQLite file, var/bench-reminders.sqlite3), after removing any earlier run's;
3. starts a real worker subprocess (prefork pool, --concurrency processes) on a private
   queue, and waits until it answers a ping;
4. the floor: publishes N tasks of bench/floor_tasks.py (one email each, a reused SMTP
   connection per worker process) and times them until the SMTP server has all N;
5. runs one dispatch in this process, counting its SQL queries, and waits until the
   SMTP server has received N reminders and every row is "sent".

It prints both rates (from the first publish to the last email accepted), their ratio,
dispatch time and queries per 1,000 reminders, checks nobody got two emails, and ends
with "N reminders delivered exactly once in T s = R reminders/s".
The database and broker are whatever DATABASE_URL / REDIS_URL say, so run it against
copies, never a clinic's real data: it deletes the patients it created last time.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DOMAIN = "bench.invalid"


class CountingSMTP:
    def __init__(self):
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    smtp = CountingSMTP()
    smtp_port = free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    queue = f"bench-reminders-{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": os.environ.get("DATABASE_URL")
        or f"sqlite:///{ROOT / 'var' / 'bench-reminders.sqlite3'}",
        "DEBUG": "0",
        "DB_CONN_MAX_AGE": "600",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
        "REMINDER_QUEUE": queue,
        "REMINDER_BATCH_SIZE": str(args.batch_size),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    (ROOT / "var").mkdir(exist_ok=True)
    call_command("migrate", verbosity=0)
    prepare(args.count)

    worker_log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept for the report
        prefix="bench-worker-", suffix=".log", delete=False
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "clinic",
            "worker",
            "--pool=prefork",
            f"--concurrency={args.concurrency}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--include",
            "bench.floor_tasks",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        from clinic.tasks import ping

        ping.apply_async(queue=queue).get(timeout=120)
        print(
            f"database: {connection.vendor}; broker: {settings.CELERY_BROKER_URL.split(':')[0]}; "
            f"worker: prefork x{args.concurrency}; reminders: {args.count}"
        )

        from clinic.celery import app
        from clinic.models import Reminder, ReminderStatus
        from clinic.reminders.services import reminders_dispatch

        deadline = time.monotonic() + args.timeout

        # The floor: one bare task per email.
        started = time.perf_counter()
        with app.connection_for_write() as broker:
            for i in range(args.count):
                app.send_task(
                    "bench.floor_send",
                    (f"floor{i}@{BENCH_DOMAIN}",),
                    queue=queue,
                    connection=broker,
                    ignore_result=True,
                )
        while len(smtp.recipients) < args.count and time.monotonic() < deadline:
            time.sleep(0.02)
        floor_seconds = time.perf_counter() - started
        floor_count = len(smtp.recipients)
        floor_rate = floor_count / floor_seconds
        print(
            f"floor (bare Celery task per email, reused SMTP connection): {floor_count} "
            f"emails in {floor_seconds:.1f} s = {floor_rate:.0f} emails/s"
        )
        time.sleep(1)
        smtp.recipients.clear()

        # The project: dispatch, then batches of sends.
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            result = reminders_dispatch()
        dispatched = time.perf_counter()
        dispatch_seconds = dispatched - started
        if result.created != args.count:
            print(f"expected {args.count} new reminders, dispatch created {result.created}")
            return 1

        while len(smtp.recipients) < args.count and time.monotonic() < deadline:
            time.sleep(0.02)
        delivered = time.perf_counter()
        while time.monotonic() < deadline:
            if not Reminder.objects.exclude(status=ReminderStatus.SENT).exists():
                break
            time.sleep(0.2)
        sent = Reminder.objects.filter(status=ReminderStatus.SENT).count()

        total = delivered - started
        rate = len(smtp.recipients) / total
        per_thousand = len(queries) * 1000 / args.count
        print(
            f"dispatch: {dispatch_seconds:.2f} s for {args.count} reminders "
            f"({len(queries)} queries = {per_thousand:.1f} queries per 1,000 reminders; "
            f"{args.count / dispatch_seconds:.0f} reminders/s created and enqueued)"
        )
        print(
            f"project: {len(smtp.recipients)} reminders accepted by SMTP in {total:.1f} s "
            f"from the start of dispatch = {rate:.0f} reminders/s"
        )
        print(f"ratio: project / floor = {rate / floor_rate:.2f}")
        print(f"rows marked sent: {sent}; distinct recipients: {len(set(smtp.recipients))}")
        ok = sent == args.count == len(smtp.recipients) == len(set(smtp.recipients))
        if not ok:
            print("MISMATCH: not every reminder was delivered exactly once")
            return 1
        print(
            f"{args.count} reminders delivered exactly once in {total:.1f} s "
            f"= {rate:.0f} reminders/s"
        )
        return 0
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        controller.stop()
        print(f"worker log: {worker_log.name}", file=sys.stderr)


def prepare(count: int) -> None:
    """Remove an earlier run's rows, then create ``count`` programs due right now."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from clinic.models import Reminder
    from patients.models import Patient
    from treatments.models import HomeExerciseProgram

    User = get_user_model()
    tz = "America/New_York"
    local_now = timezone.now().astimezone(ZoneInfo(tz))
    reminder_time = (local_now - dt.timedelta(minutes=1)).time().replace(second=0, microsecond=0)
    with transaction.atomic():
        old = Patient.objects.filter(email__endswith=f"@{BENCH_DOMAIN}")
        Reminder.objects.filter(patient__in=old).delete()
        HomeExerciseProgram.objects.filter(patient__in=old).delete()
        old.delete()
        therapist, _ = User.objects.get_or_create(username="bench-therapist")
        run = uuid.uuid4().hex[:6]
        Patient.objects.bulk_create(
            [
                Patient(
                    first_name=f"Bench{i}",
                    last_name="Patient",
                    date_of_birth=dt.date(1970, 1, 1),
                    email=f"p{i}-{run}@{BENCH_DOMAIN}",
                    timezone=tz,
                    reminders_opt_in=True,
                )
                for i in range(count)
            ],
            batch_size=2000,
        )
        patients = Patient.objects.filter(email__endswith=f"-{run}@{BENCH_DOMAIN}")
        HomeExerciseProgram.objects.bulk_create(
            [
                HomeExerciseProgram(
                    patient_id=patient_id,
                    prescribed_by=therapist,
                    start_date=local_now.date() - dt.timedelta(days=1),
                    reminder_time=reminder_time,
                )
                for patient_id in patients.values_list("id", flat=True)
            ],
            batch_size=2000,
        )


if __name__ == "__main__":
    sys.exit(main())
