"""Celery entry points. Tasks take ids, re-fetch, and call a service.

The housekeeping tasks live here; each sub-domain's tasks live beside it and are imported
below, because Celery's autodiscovery imports only ``<app>.tasks`` (here: clinic.tasks).
"""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

from clinic.reminders.tasks import dispatch_reminders, send_reminder, send_reminders
from clinic.waitlist.tasks import sweep_waitlist_offers

__all__ = [
    "clear_expired_sessions",
    "dispatch_reminders",
    "ping",
    "send_reminder",
    "send_reminders",
    "sweep_waitlist_offers",
]


@shared_task(name="clinic.tasks.ping")
def ping() -> str:
    """Answers "pong": proves a worker is up and talking to the broker and result backend."""
    return "pong"


@shared_task(name="clinic.tasks.clear_expired_sessions")
def clear_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
