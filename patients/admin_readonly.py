"""Read-only Django admin, shared by every app (patients is the app the others may import).

The clinic's records change only through the app's pages and services: they validate,
keep signed records locked (changes become amendments that keep the original), compute
derived fields and write the audit log. The admin does none of that, so a superuser who
edited a signed visit note there left no amendment and no AuditEvent. Every model the
project registers in the admin therefore uses these classes: the admin can list and show
rows (useful to support the clinic), never add, change or delete them, and offers no
bulk actions (Django's "delete selected", or a third-party app's own).
"""

from django.contrib import admin


class ReadOnlyAdminMixin:
    """No add, change or delete for anyone, superusers included; viewing stays allowed."""

    def has_add_permission(self, request, obj=None):  # obj: inlines pass the parent
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        # Actions run writes outside the permission checks above (a bulk delete, or a
        # third-party "clean up" action), so a read-only admin has none.
        return {}


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
