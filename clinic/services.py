"""Writes for clinic operations: roles and staff accounts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from axes.utils import reset as axes_reset
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import DEFAULT_DB_ALIAS, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from patients.audit import AuditAction, audit_record

from .models import Practitioner
from .ratelimit import rate_limit_hit
from .roles import ROLE_PERMISSIONS, THERAPIST

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


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


# Staff account recovery ----------------------------------------------------------------


@transaction.atomic
def staff_unlock(*, user: User, acting_user: User, ip: str | None) -> int:
    """Clear django-axes's failed attempts for ``user``, from every address; audited.

    Returns how many attempt records were removed (0 when the account was not locked).
    """
    cleared: int = axes_reset(username=user.get_username())
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UNLOCK,
        obj=user,
        ip=ip,
        detail=f"sign-in lockout cleared ({cleared} attempt records)",
    )
    return cleared


def staff_password_reset_send(*, user: User, acting_user: User, ip: str | None) -> None:
    """Email ``user`` a password-reset link, at the manager's request; audited.

    Refuses (ValidationError) an account that is deactivated or has no email address.
    """
    if not user.is_active:
        raise ValidationError("This account is deactivated: reactivate it before a reset.")
    if not user.email:
        raise ValidationError(
            "This account has no email address: add one on its edit page, or give the "
            "person a new password in person."
        )
    _password_reset_email_send(user=user)
    audit_record(
        acting_user=acting_user,
        action=AuditAction.PASSWORD_RESET,
        obj=user,
        ip=ip,
        detail="reset email sent by the clinic manager",
    )


def password_reset_request(*, email: str, ip: str | None) -> int:
    """A "Forgot password?" request: email a reset link to the active accounts with
    ``email``, within the rate limits; audited. Returns how many emails went out.

    The caller shows the same page whatever this returns (docs/decisions.md): the visitor
    never learns whether the address belongs to an account or whether a limit was hit.
    Both limits count every request, known address or not.
    """
    period = 3600
    ip_limited = rate_limit_hit(
        scope="password-reset-ip",
        key=ip or "unknown",
        limit=settings.PASSWORD_RESET_PER_IP_PER_HOUR,
        period_seconds=period,
    )
    address_limited = rate_limit_hit(
        scope="password-reset-address",
        key=email.strip().lower(),
        limit=settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR,
        period_seconds=period,
    )
    users = list(PasswordResetForm().get_users(email))
    if not users:
        audit_record(
            acting_user=None,
            action=AuditAction.PASSWORD_RESET,
            ip=ip,
            detail=f"reset requested for {email[:254]}, no active account; nothing sent",
        )
        return 0
    sent = 0
    for user in users:
        if ip_limited or address_limited:
            which = "address" if address_limited else "client address"
            outcome = f"rate limit per {which} reached; nothing sent"
        else:
            try:
                _password_reset_email_send(user=user)
            except OSError:  # smtplib's errors included: the visitor sees the same page
                logger.exception("Password reset email to user %s failed", user.pk)
                outcome = "the email could not be sent"
            else:
                sent += 1
                outcome = "email sent"
        audit_record(
            acting_user=None,
            action=AuditAction.PASSWORD_RESET,
            obj=user,
            ip=ip,
            detail=f"reset requested on the sign-in page; {outcome}",
        )
    return sent


@transaction.atomic
def password_reset_complete(*, user: User, password: str, ip: str | None) -> None:
    """Set the password chosen through a reset link (already validated against
    AUTH_PASSWORD_VALIDATORS by the form), and clear the account's sign-in lockout so a
    locked-out person really gets back in; audited.
    """
    user.set_password(password)
    user.save(update_fields=["password"])
    cleared: int = axes_reset(username=user.get_username())
    audit_record(
        acting_user=user,
        action=AuditAction.PASSWORD_RESET,
        obj=user,
        ip=ip,
        detail=f"new password set through a reset link; lockout cleared ({cleared} records)",
    )


def _password_reset_email_send(*, user: User) -> None:
    # The link is built on SITE_URL, never on the request's Host header, so a forged Host
    # cannot point the link at another site. The email carries the link and the clinic's
    # name only: no username, nothing about the account.
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {"clinic_name": settings.CLINIC_NAME, "reset_url": f"{settings.SITE_URL}{path}"}
    subject = render_to_string("registration/password_reset_subject.txt", context)
    body = render_to_string("registration/password_reset_email.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])
