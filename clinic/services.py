"""Writes for clinic operations: the audit log, roles and staff accounts."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, models, transaction

from .models import AuditAction, AuditEvent, Practitioner
from .roles import ROLE_PERMISSIONS, THERAPIST

User = get_user_model()


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


# Actions whose detail is clinical by nature: an override names the patient's flags and
# the therapist's reason, an amendment the clinical fields changed. Whatever a caller
# passes as ``detail`` for them is stored as clinical detail, so a writer that forgets
# ``clinical_detail`` still cannot show clinical text to the manager.
CLINICAL_DETAIL_ACTIONS = frozenset({AuditAction.OVERRIDE, AuditAction.AMEND})


def audit_event_record(
    *,
    actor,
    action: str,
    patient=None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    ip: str | None = None,
    detail: str = "",
    clinical_detail: str = "",
    actor_username: str = "",
) -> AuditEvent:
    """Write one audit event.

    ``detail`` is read by everyone who reads the log (the clinic manager): a non-clinical
    summary only. Clinical values and free text go in ``clinical_detail``, which the log
    shows only to users with clinical permission (docs/decisions.md, audit log).
    """
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}")
    if action in CLINICAL_DETAIL_ACTIONS and detail:
        clinical_detail = "\n".join(text for text in (detail, clinical_detail) if text)
        detail = ""
    if actor is not None and not actor.is_authenticated:
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=actor_username or (actor.get_username() if actor else ""),
        action=action,
        patient=patient,
        object_type=object_type,
        object_id=object_id[:64],
        ip=ip,
        detail=detail[:500],
        clinical_detail=clinical_detail,
    )


def role_permissions_sync(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Give each role group exactly the permissions ROLE_PERMISSIONS lists."""
    # Permissions are created per app after migrate; make sure they all exist first.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    by_name = {}
    for perm in Permission.objects.using(using).select_related("content_type"):
        by_name[f"{perm.content_type.app_label}.{perm.codename}"] = perm
    missing = wanted - by_name.keys()
    if missing:
        raise LookupError(f"Role permissions that do not exist: {sorted(missing)}")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set([by_name[p] for p in perms])


@transaction.atomic
def staff_create(
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    password: str,
    created_by=None,
) -> User:
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_password(password)
    user.save()
    _staff_set_role(user=user, role=role)
    audit_event_record(
        actor=created_by, action=AuditAction.CREATE, obj=user, detail=f"staff account, role {role}"
    )
    return user


@transaction.atomic
def staff_update(
    *,
    user,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    is_active: bool,
    updated_by=None,
):
    user.first_name = first_name
    user.last_name = last_name
    user.email = email
    user.is_active = is_active
    user.save(update_fields=["first_name", "last_name", "email", "is_active"])
    _staff_set_role(user=user, role=role)
    Practitioner.objects.filter(user=user).update(active=is_active and role == THERAPIST)
    audit_event_record(
        actor=updated_by,
        action=AuditAction.UPDATE,
        obj=user,
        detail=f"role {role}, {'active' if is_active else 'deactivated'}",
    )
    return user


def _staff_set_role(*, user, role: str) -> None:
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"Unknown role {role!r}")
    user.groups.set([Group.objects.get(name=role)])
    if role == THERAPIST:
        # Every therapist can be booked: keep a practitioner record for them.
        name = user.get_full_name() or user.get_username()
        practitioner, created = Practitioner.objects.get_or_create(
            user=user, defaults={"display_name": name}
        )
        if not created and not practitioner.active and user.is_active:
            practitioner.active = True
            practitioner.save(update_fields=["active"])
