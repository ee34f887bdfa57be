"""Signal receivers wired in ClinicConfig.ready(): audit hooks and role permissions."""

from django.db import DEFAULT_DB_ALIAS

from patients.audit import AuditAction, audit_record, client_ip

from . import services


def audit_login(sender, request, user, **kwargs) -> None:
    audit_record(acting_user=user, action=AuditAction.LOGIN, ip=client_ip(request))


def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    audit_record(
        acting_user=None,
        username=str(credentials.get("username", ""))[:150],
        action=AuditAction.LOGIN_FAILED,
        ip=client_ip(request),
    )


def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(acting_user=user, action=AuditAction.LOGOUT, ip=client_ip(request))


def sync_role_permissions(sender, using=DEFAULT_DB_ALIAS, apps=None, **kwargs) -> None:
    # post_migrate fires once per app; do the work once, after clinic's own migrations.
    if sender.name != "clinic":
        return
    services.role_permissions_sync(using=using)
