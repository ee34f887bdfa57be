"""Clinic operations, one module per sub-domain; every model and enum is re-exported here.

- practitioners: Practitioner, WorkingHours, TimeOff
- scheduling: Room, SchedulingSettings, AppointmentSeries, Appointment and their enums
- reminders: the Reminder outbox and its enums
- audit: AuditEvent (its AuditAction choices live in patients.audit, re-exported here)
- attention: acknowledgements of the needs-attention list
- closures: ClinicClosure, the days the whole clinic is closed
- waitlist: WaitlistEntry, SlotOffer and their enums
- reports: ReportDay, ReportCompletionDay, ReportEpisode, ReportRollup: the caseload
  reports' rollups of finished days and finished episodes

Import from ``clinic.models``; the split is for readers, Django sees one app "clinic".
The import order below is the order the models were always registered in.
"""

from .practitioners import Practitioner, TimeOff, WorkingHours
from .scheduling import (
    LIVE_APPOINTMENT_STATUSES,
    MAX_APPOINTMENT_DURATION,
    Appointment,
    AppointmentKind,
    AppointmentSeries,
    AppointmentStatus,
    Room,
    SchedulingSettings,
    overlapping,
)

from .reminders import (  # isort: skip
    APPOINTMENT_EMAIL_KINDS,
    Reminder,
    ReminderKind,
    ReminderReason,
    ReminderStatus,
)
from .audit import AuditAction, AuditEvent  # isort: skip
from .attention import AttentionAcknowledgement, AttentionReason  # isort: skip
from .closures import ClinicClosure, closed_day_label, closed_message  # isort: skip
from .reports import ReportCompletionDay, ReportDay, ReportEpisode, ReportRollup  # isort: skip
from .waitlist import (  # isort: skip
    SlotOffer,
    SlotOfferStatus,
    WaitlistEntry,
    WaitlistStatus,
)

__all__ = [
    "LIVE_APPOINTMENT_STATUSES",
    "MAX_APPOINTMENT_DURATION",
    "Appointment",
    "AttentionAcknowledgement",
    "AttentionReason",
    "AppointmentKind",
    "AppointmentSeries",
    "AppointmentStatus",
    "AuditAction",
    "AuditEvent",
    "ClinicClosure",
    "Practitioner",
    "Reminder",
    "ReportCompletionDay",
    "ReportDay",
    "ReportEpisode",
    "ReportRollup",
    "ReminderKind",
    "APPOINTMENT_EMAIL_KINDS",
    "ReminderReason",
    "ReminderStatus",
    "Room",
    "SchedulingSettings",
    "SlotOffer",
    "SlotOfferStatus",
    "TimeOff",
    "WaitlistEntry",
    "WaitlistStatus",
    "WorkingHours",
    "closed_day_label",
    "closed_message",
    "overlapping",
]
