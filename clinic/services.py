"""Writes for clinic operations: roles and staff accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps as global_apps
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, transaction

from patients.audit import AuditAction, audit_record

from .models import Practitioner
from .roles import ROLE_PERMISSIONS, THERAPIST

if TYPE_CHECKING:
    from django.contrib.auth.models import User


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
    acting_user: User | None = None,
) -> User:
    user = get_user_model()(
        username=username, first_name=first_name, last_name=last_name, email=email
    )
    # The forms check this first and show the messages; here so no caller (a script,
    # seed_demo) can create an account with a weak password. Raises ValidationError.
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save()
    _staff_set_role(user=user, role=role)
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        obj=user,
        detail=f"staff account, role {role}",
    )
    return user


@transaction.atomic
def staff_update(
    *,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    is_active: bool,
    acting_user: User | None = None,
) -> User:
    user.first_name = first_name
    user.last_name = last_name
    user.email = email
    user.is_active = is_active
    user.save(update_fields=["first_name", "last_name", "email", "is_active"])
    _staff_set_role(user=user, role=role)
    Practitioner.objects.filter(user=user).update(active=is_active and role == THERAPIST)
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=user,
        detail=f"role {role}, {'active' if is_active else 'deactivated'}",
    )
    return user


def _staff_set_role(*, user: User, role: str) -> None:
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
