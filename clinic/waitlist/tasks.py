"""Celery entry point of the waitlist (clinic/waitlist/services.py explains the waves).
Imported by clinic.tasks, which Celery's autodiscovery finds."""

from celery import shared_task


@shared_task(
    name="clinic.tasks.sweep_waitlist_offers",
    ignore_result=True,
    acks_late=True,
    soft_time_limit=50,
    time_limit=58,
)
def sweep_waitlist_offers() -> dict:
    """Every minute (beat): expire unclaimed offers, send the next waves. Two runs at once
    are harmless (the practitioner lock and one offer per entry and slot)."""
    from clinic.waitlist.services import waitlist_offers_sweep

    return waitlist_offers_sweep().as_dict()
