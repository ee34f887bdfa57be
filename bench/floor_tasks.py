"""The floor for bench/reminders.py: a bare Celery task per email through Django's mail
API, on one SMTP connection per worker process that stays open between tasks. No
database, no templates, no claim: what a send cannot be faster than."""

from __future__ import annotations

from typing import Any

from celery import shared_task

_connection: Any = None


@shared_task(name="bench.floor_send", ignore_result=True, acks_late=True)
def floor_send(to: str) -> None:
    global _connection
    from django.core.mail import EmailMessage, get_connection

    if _connection is None:
        _connection = get_connection()
        _connection.open()
    EmailMessage(
        "Time for your home exercises",
        "Hello,\n\nthis is your reminder for today's exercises.\n",
        None,
        [to],
        connection=_connection,
    ).send()
