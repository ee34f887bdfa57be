"""iCalendar (RFC 5545) output for appointments. No clinical content ever goes in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress

from clinic.models import Appointment


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Clinic dashboard//EN")
    calendar.add("version", "2.0")
    return calendar


def appointment_event(appointment: Appointment, *, summary: str, uid: str | None = None) -> Event:
    event = Event()
    event.add(
        "uid", uid or f"appointment-{appointment.pk}@{settings.CLINIC_NAME.replace(' ', '-')}"
    )
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
    # The patient's calendar entry for this visit (the UID and SEQUENCE of its emails):
    # a file handed out at the desk and the emails update one entry, never make two.
    event = appointment_event(
        appointment, summary=f"Appointment at {settings.CLINIC_NAME}", uid=appointment.calendar_uid
    )
    event.add("sequence", appointment.ics_sequence)
    calendar.add_component(event)
    return calendar.to_ical()


def patient_invitation_ics(
    appointments: Sequence[Appointment],
    *,
    cancel: bool,
    summary: Callable[[Appointment], str],
    description: str,
    organizer: str,
    attendee: str,
) -> bytes:
    """The patient's calendar entries (RFC 5546 iTIP), one event per visit:
    METHOD:REQUEST to add or update them, METHOD:CANCEL to remove them. One UID for a
    visit across moves (a move books a new row that keeps it, ``Appointment.ics_uid``)
    and a SEQUENCE that rises with each change, so the calendar replaces its copy
    instead of adding a second one.

    ``organizer`` is the clinic's sending address and ``attendee`` the patient's: mail
    clients act on a REQUEST or CANCEL only from its organizer to an attendee."""
    calendar = _calendar()
    calendar.add("method", "CANCEL" if cancel else "REQUEST")
    for appointment in appointments:
        event = appointment_event(
            appointment, summary=summary(appointment), uid=appointment.calendar_uid
        )
        event.pop("location")
        event.add("location", settings.CLINIC_ADDRESS)
        event.pop("status")
        event.add("status", "CANCELLED" if cancel else "CONFIRMED")
        event.add("sequence", appointment.ics_sequence)
        event.add("description", description)
        event.add(
            "organizer",
            vCalAddress(f"mailto:{organizer}"),
            parameters={"CN": settings.CLINIC_NAME},
        )
        event.add(
            "attendee",
            vCalAddress(f"mailto:{attendee}"),
            parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"},
        )
        calendar.add_component(event)
    return calendar.to_ical()


def _short_name(patient) -> str:
    # First name and initial: enough for the therapist, little for a third-party calendar.
    return f"{patient.first_name} {patient.last_name[:1]}.".strip()


def practitioner_feed_ics(practitioner, appointments) -> bytes:
    """A practitioner's private subscription feed: time, patient's short name, kind of
    visit, room and status. Never clinical content."""
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{settings.CLINIC_NAME}: {practitioner.display_name}")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    # Ask subscribed apps to refresh often (RFC 7986), old Outlook via X-PUBLISHED-TTL.
    calendar.add("refresh-interval", dt.timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    for appointment in appointments:
        summary = f"{_short_name(appointment.patient)} · {appointment.get_kind_display()}"
        if appointment.status == "no_show":
            summary += " (no-show)"
        event = appointment_event(appointment, summary=summary)
        if appointment.room_id:
            event.pop("location")
            event.add("location", f"{settings.CLINIC_NAME}, {appointment.room.name}")
        event.add("description", f"Status: {appointment.get_status_display()}")
        # Lets subscribed calendars notice a change (a move, a cancellation).
        event.add("last-modified", appointment.updated_at.astimezone(dt.UTC))
        calendar.add_component(event)
    return calendar.to_ical()
