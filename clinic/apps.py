from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinic"
    verbose_name = "Clinic operations"

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from patients.audit import audit_writer_connect
        from patients.sections import patient_page, today_page

        from . import receivers, sections
        from .audit.services import audit_event_write
        from .celery import ensure_broker_folders
        from .reminders import sections as reminder_sections
        from .scheduling import sections as scheduling_sections

        ensure_broker_folders()

        patient_page.register(
            *scheduling_sections.PATIENT_SECTIONS, *reminder_sections.PATIENT_SECTIONS
        )
        today_page.register(*scheduling_sections.TODAY_SECTIONS, *sections.TODAY_SECTIONS)

        # The audit log owns these hooks: logins, failed logins, logouts, and the writer
        # behind patients.audit.audit_record, which every app calls.
        audit_writer_connect(audit_event_write)
        # Visit notes follow the visit: treatments owns the hook, scheduling the rules.
        from treatments.visits import visit_hooks_connect

        from .scheduling.note_hooks import VISIT_HOOKS

        visit_hooks_connect(VISIT_HOOKS)
        auth_signals.user_logged_in.connect(receivers.audit_login, dispatch_uid="audit_login")
        auth_signals.user_login_failed.connect(
            receivers.audit_login_failed, dispatch_uid="audit_login_failed"
        )
        auth_signals.user_logged_out.connect(receivers.audit_logout, dispatch_uid="audit_logout")
        from .mfa import receivers as mfa_receivers

        auth_signals.user_logged_in.connect(
            mfa_receivers.remember_second_factor, dispatch_uid="mfa_remember_second_factor"
        )
        post_migrate.connect(receivers.sync_role_permissions, dispatch_uid="sync_role_permissions")

        # The reports' median on SQLite (PostgreSQL has percentile_cont).
        from django.db.backends.signals import connection_created

        from .reports.db import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="reports_sqlite")
