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

from .audit import audit_view


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


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


def _patient_path(model, depth: int = 2) -> str | None:
    """The lookup from ``model`` to the patient its rows belong to, or None if none.

    ``"self"`` for the patient itself; ``"patient"`` for a row with a patient; one hop
    further for rows of a record (an amendment's assessment, a technique's note).
    """
    if model._meta.label_lower == "patients.patient":
        return "self"
    foreign_keys = [f for f in model._meta.concrete_fields if f.many_to_one]
    for field in foreign_keys:
        if field.related_model._meta.label_lower == "patients.patient":
            return field.name
    if depth > 1:
        for field in foreign_keys:
            below = _patient_path(field.related_model, depth - 1)
            if below not in (None, "self"):
                return f"{field.name}__{below}"
    return None


def _patient_of(obj, path: str):
    if path == "self":
        return obj
    for name in path.split("__"):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only, and opening a patient's rows is audited like any other clinical view.

    The app audits every view of a patient's record (docs/decisions.md, "What is
    audited"); a superuser reading the same rows here is no exception. Rows that belong
    to no patient (rooms, working hours) are not audited, nor is the audit log itself
    (``audit_views = False``).
    """

    audit_views = True

    def _audited(self) -> bool:
        return self.audit_views and _patient_path(self.model) is not None

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if self._audited() and response.status_code == 200:
            plural = self.model._meta.verbose_name_plural
            audit_view(request, patient=None, obj=None, detail=f"admin list of {plural}")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if self._audited() and response.status_code == 200:
            obj = self.get_object(request, object_id)
            if obj is not None:
                patient = _patient_of(obj, _patient_path(self.model))
                audit_view(request, patient=patient, obj=obj, detail="admin")
        return response
