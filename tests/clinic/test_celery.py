import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings

from clinic.celery import app
from clinic.tasks import ping


def test_celery_reads_its_configuration_from_django_settings():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert "clinic.tasks.ping" in app.tasks


def test_beat_schedule_names_only_registered_tasks():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


# Beat's schedule and messages already queued in a running clinic name tasks by these
# strings: moving a task to another module must not change them.
STABLE_TASK_NAMES = {
    "clinic.tasks.clear_expired_sessions",
    "clinic.tasks.dispatch_reminders",
    "clinic.tasks.ping",
    "clinic.tasks.send_reminder",
    "clinic.tasks.send_reminders",
    "clinic.tasks.sweep_waitlist_offers",
}

ROOT = Path(__file__).resolve().parents[2]


def test_a_fresh_worker_process_registers_every_task_under_its_stable_name():
    # A new interpreter, as a worker starts: only what autodiscovery imports is registered
    # (this test process may have imported the task modules some other way).
    script = (
        "import django; django.setup()\n"
        "from clinic.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print('\\n'.join(sorted(n for n in app.tasks if not n.startswith('celery.'))))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clinic.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == STABLE_TASK_NAMES


def test_a_real_worker_answers_ping(celery_worker_process, require_service):
    if os.environ.get("REQUIRE_SERVICES"):
        # On CI the broker and the result backend are Redis.
        require_service("redis")
    queue = f"test-ping-{uuid.uuid4().hex[:8]}"
    worker = celery_worker_process(queue)
    result = ping.apply_async(queue=queue)
    assert result.get(timeout=90) == "pong"
    assert worker.poll() is None
