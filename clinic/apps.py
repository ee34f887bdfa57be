from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinic"
    verbose_name = "Clinic operations"

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from patients.signals import clinical_record_event

        from . import receivers
        from .celery import ensure_broker_folders

        # Imported for their patient-page section registrations.
        from .reminders import sections as reminder_sections  # noqa: F401
        from .scheduling import sections as scheduling_sections  # noqa: F401

        ensure_broker_folders()

        # The audit log owns these hooks: logins, failed logins, logouts and every
        # clinical-record event announced by patients and treatments.
        auth_signals.user_logged_in.connect(receivers.audit_login, dispatch_uid="audit_login")
        auth_signals.user_login_failed.connect(
            receivers.audit_login_failed, dispatch_uid="audit_login_failed"
        )
        auth_signals.user_logged_out.connect(receivers.audit_logout, dispatch_uid="audit_logout")
        clinical_record_event.connect(
            receivers.audit_clinical_record, dispatch_uid="audit_clinical_record"
        )
        post_migrate.connect(receivers.sync_role_permissions, dispatch_uid="sync_role_permissions")
