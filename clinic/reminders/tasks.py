"""Celery entry points of the reminders (clinic/reminders/services.py explains the delivery
guarantees). Tasks take ids, re-fetch, and call a service.

The registered names keep their old "clinic.tasks." prefix on purpose: beat's schedule and
messages already queued in a running clinic name the tasks, not the module. Celery's
autodiscovery imports only clinic.tasks, which imports this module.
"""

from celery import shared_task


@shared_task(
    name="clinic.tasks.dispatch_reminders",
    ignore_result=True,
    acks_late=True,
    soft_time_limit=50,
    time_limit=58,
)
def dispatch_reminders() -> dict:
    """Every minute (beat): create the due Reminder rows and enqueue their sends.

    Two runs at once are harmless (unique keys), so a late or doubled beat tick is too.
    """
    from clinic.reminders.services import reminders_dispatch

    return reminders_dispatch().as_dict()


@shared_task(
    bind=True,
    name="clinic.tasks.send_reminder",
    ignore_result=True,
    acks_late=True,
    max_retries=None,  # the row's attempts counter decides (REMINDER_MAX_ATTEMPTS)
    soft_time_limit=60,
    time_limit=90,
)
def send_reminder(self, reminder_id: int) -> str:
    """Claim the reminder, send it, record the outcome; retries SMTP errors with backoff."""
    from celery.exceptions import Reject

    from clinic.reminders.services import reminder_mark_not_enqueued, reminder_send

    result = reminder_send(reminder_id=reminder_id)
    if result.outcome == "retry":
        try:
            raise self.retry(countdown=result.retry_in)  # same queue: delivery_info
        except Reject:
            # The broker is down: the row is pending, the next dispatch enqueues it again.
            reminder_mark_not_enqueued(reminder_id=reminder_id)
    return result.outcome
