"""Signal receivers wired in ClinicConfig.ready(): audit hooks and role permissions."""

from django.db import DEFAULT_DB_ALIAS

from . import services
from .models import AuditAction


def audit_login(sender, request, user, **kwargs) -> None:
    services.audit_event_record(
        actor=user, action=AuditAction.LOGIN, ip=services.client_ip(request)
    )


def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    services.audit_event_record(
        actor=None,
        actor_username=str(credentials.get("username", ""))[:150],
        action=AuditAction.LOGIN_FAILED,
        ip=services.client_ip(request),
    )


def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.audit_event_record(
            actor=user, action=AuditAction.LOGOUT, ip=services.client_ip(request)
        )


def audit_clinical_record(
    sender, *, actor, action, patient, obj, request, detail, clinical_detail="", **kwargs
) -> None:
    services.audit_event_record(
        actor=actor,
        action=action,
        patient=patient,
        obj=obj,
        ip=services.client_ip(request),
        detail=detail,
        clinical_detail=clinical_detail,
    )


def sync_role_permissions(sender, using=DEFAULT_DB_ALIAS, apps=None, **kwargs) -> None:
    # post_migrate fires once per app; do the work once, after clinic's own migrations.
    if sender.name != "clinic":
        return
    services.role_permissions_sync(using=using)
