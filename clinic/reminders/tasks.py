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
    name="clinic.tasks.send_reminders",
    ignore_result=True,
    acks_late=True,
)
def send_reminders(reminder_ids: list[int]) -> dict:
    """Claim a batch of reminders, send them over one SMTP connection, record the
    outcomes. A mail server that does not answer is not retried here: the rows wait
    (pending, with backoff) and the dispatch sweep publishes them again."""
    from clinic.reminders.services import reminders_send_batch

    return reminders_send_batch(ids=reminder_ids).as_dict()


@shared_task(name="clinic.tasks.send_reminder", ignore_result=True, acks_late=True)
def send_reminder(reminder_id: int) -> dict:
    """One reminder: messages queued before batches existed still name this task."""
    return send_reminders(reminder_ids=[reminder_id])
