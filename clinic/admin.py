from django.contrib import admin

from .models import (
    Appointment,
    AppointmentSeries,
    AuditEvent,
    Practitioner,
    Reminder,
    Room,
    TimeOff,
    WorkingHours,
)


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "active"]
    list_filter = ["active"]
    inlines = [WorkingHoursInline]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "weekday", "start", "end"]
    list_select_related = ["practitioner"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "starts_at", "ends_at", "reason"]
    list_select_related = ["practitioner"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]


@admin.register(AppointmentSeries)
class AppointmentSeriesAdmin(admin.ModelAdmin):
    list_display = ["id", "patient", "practitioner", "description", "created_at"]
    list_select_related = ["patient", "practitioner"]
    raw_id_fields = ["patient", "treatment_plan"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "patient", "practitioner", "room", "kind", "status"]
    list_filter = ["status", "kind", "practitioner"]
    list_select_related = ["patient", "practitioner", "room"]
    raw_id_fields = ["patient", "series", "rescheduled_from"]
    date_hierarchy = "starts_at"


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["due_at", "kind", "patient", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient", "program", "appointment"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is never edited, not even by a superuser."""

    list_display = ["at", "actor_username", "action", "patient", "object_type", "object_id", "ip"]
    list_filter = ["action"]
    list_select_related = ["patient"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
