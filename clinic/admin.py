"""Django admin: a read-only window on every model, superusers included.

A clinic works through the app's pages, whose services check roles, keep scheduling
consistent and write the audit log; the admin does none of that (it once let a superuser
rewrite a signed visit note with no amendment and no AuditEvent). So every model
registered here is read-only (``patients.admin_readonly``), including:

- django.contrib.auth's User and Group. Staff accounts are created, given their role and
  deactivated on the Staff pages (audited); the first manager comes from
  ``manage.py create_manager``; people change their own password on the Password page, and
  a forgotten one is reset with ``manage.py changepassword``. Role groups and their
  permissions are set by ``clinic.roles`` after every migrate, so an edit here would be
  silently undone; an admin edit of ``is_superuser`` or of single permissions would
  bypass the audit log.
- django-otp's devices (authenticator apps and recovery codes) are not in the admin at
  all: their secrets must not be shown, and a device added here would let whoever adds
  it pass someone's second factor. Staff enrol on their own page; the manager resets a
  second factor on the Staff page (audited).
- django-axes' login-attempt records: they are the security log of failed sign-ins.
  A lockout ends by itself after AXES_COOLOFF_MINUTES; ``manage.py axes_reset_username``
  ends it early.
"""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from patients.admin_readonly import ReadOnlyAdminMixin, ReadOnlyModelAdmin, ReadOnlyTabularInline

from .models import (
    Appointment,
    AppointmentSeries,
    AuditEvent,
    ClinicClosure,
    Practitioner,
    Reminder,
    Room,
    TimeOff,
    WorkingHours,
)


class WorkingHoursInline(ReadOnlyTabularInline):
    model = WorkingHours


@admin.register(Practitioner)
class PractitionerAdmin(ReadOnlyModelAdmin):
    list_display = ["display_name", "user", "active"]
    list_filter = ["active"]
    inlines = [WorkingHoursInline]


@admin.register(WorkingHours)
class WorkingHoursAdmin(ReadOnlyModelAdmin):
    list_display = ["practitioner", "weekday", "start", "end"]
    list_select_related = ["practitioner"]


@admin.register(TimeOff)
class TimeOffAdmin(ReadOnlyModelAdmin):
    list_display = ["practitioner", "starts_at", "ends_at", "reason"]
    list_select_related = ["practitioner"]


@admin.register(ClinicClosure)
class ClinicClosureAdmin(ReadOnlyModelAdmin):
    list_display = ["starts_on", "ends_on", "reason", "created_by"]
    list_select_related = ["created_by"]


@admin.register(Room)
class RoomAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "capacity", "active"]


@admin.register(AppointmentSeries)
class AppointmentSeriesAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "patient", "practitioner", "description", "created_at"]
    list_select_related = ["patient", "practitioner"]
    raw_id_fields = ["patient", "treatment_plan"]


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyModelAdmin):
    list_display = ["starts_at", "patient", "practitioner", "room", "kind", "status"]
    list_filter = ["status", "kind", "practitioner"]
    list_select_related = ["patient", "practitioner", "room"]
    raw_id_fields = ["patient", "series", "rescheduled_from"]
    date_hierarchy = "starts_at"


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyModelAdmin):
    list_display = ["due_at", "kind", "patient", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient", "program", "appointment"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """Read-only: the audit log is never edited, not even by a superuser."""

    audit_views = False  # reading the log is not a view of a patient's record

    list_display = ["at", "actor_username", "action", "patient", "object_type", "object_id", "ip"]
    list_filter = ["action"]
    list_select_related = ["patient"]


# Third-party models: the same admin pages, read-only.

User = get_user_model()


def _register_read_only(model, base_admin) -> None:
    """Replace ``model``'s registration (if its app made one) with a read-only version.

    The apps holding these models come before ``clinic`` in INSTALLED_APPS, so their admin
    modules have registered them by the time this one runs.
    """
    if not admin.site.is_registered(model):
        return
    read_only = type(f"ReadOnly{base_admin.__name__}", (ReadOnlyAdminMixin, base_admin), {})
    admin.site.unregister(model)
    admin.site.register(model, read_only)


_register_read_only(User, UserAdmin)
_register_read_only(Group, GroupAdmin)
_register_read_only(AccessAttempt, AccessAttemptAdmin)
_register_read_only(AccessLog, AccessLogAdmin)
_register_read_only(AccessFailureLog, AccessFailureLogAdmin)


for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)
