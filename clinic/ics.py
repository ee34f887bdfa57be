"""iCalendar (RFC 5545) output for appointments. No clinical content ever goes in."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from .models import Appointment


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Clinic dashboard//EN")
    calendar.add("version", "2.0")
    return calendar


def appointment_event(appointment: Appointment, *, summary: str) -> Event:
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@{settings.CLINIC_NAME.replace(' ', '-')}")
    event.add("dtstamp", timezone.now())
    # UTC instants: correct on both sides of a daylight-saving change.
    event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
    event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
    event.add("summary", summary)
    event.add("location", settings.CLINIC_NAME)
    event.add("status", "CANCELLED" if not appointment.is_live else "CONFIRMED")
    return event


def appointment_ics(appointment: Appointment) -> bytes:
    """One appointment as an .ics file for the patient: the clinic's name and the time."""
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    calendar.add_component(
        appointment_event(appointment, summary=f"Appointment at {settings.CLINIC_NAME}")
    )
    return calendar.to_ical()
