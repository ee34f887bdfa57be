"""The audit log's rows: stored only by clinic/audit/services.py (via patients.audit)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from patients.audit import AuditAction


class AuditEvent(models.Model):
    """Who did what to which patient's record, when and from where (45 CFR 164.312(b))."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The username as typed, kept for failed logins (no user) and after renames.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # What anyone allowed to read the log may see: never clinical values or free text.
    detail = models.CharField(max_length=500, blank=True)
    # Clinical values and free text (override reasons, amended fields): shown on the log
    # and in its export only to users holding CLINICAL_DETAIL_PERMISSION (clinic/audit).
    clinical_detail = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # The audit log reads pages by seeking on (at, id), newest first, with at most
        # one of these equality filters (clinic/audit/selectors.py audit_page).
        indexes = [
            # Audit log unfiltered or by date range: ORDER BY at DESC, id DESC with
            # "at <= cursor AND (at < cursor OR id < cursor id)" and the date bounds.
            models.Index(fields=["at", "id"], name="audit_at_id_idx"),
            # Filter by patient: WHERE patient_id = %s ORDER BY at DESC (the log, the
            # patient page's "Audit log" link, and the export of one patient's events).
            models.Index(fields=["patient", "at"], name="audit_patient_at_idx"),
            # Filter by user: WHERE actor_id = %s ORDER BY at DESC.
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
            # Filter by action: WHERE action = %s ORDER BY at DESC (exports, failed
            # logins, access denied).
            models.Index(fields=["action", "at"], name="audit_action_at_idx"),
        ]
        permissions = [("export_auditevent", "Can export the audit log")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action}"
