"""The one way to write the audit log: ``audit_record``, with ``AuditAction``.

Every view, create, update, sign, amendment and export of a clinical record, every
sign-in and every change clinic staff make is audited. The log's table belongs to the
clinic app, but ``patients`` imports neither ``clinic`` nor ``treatments`` (dependencies
flow one way), so the function and its actions live here, where every app can import
them, and the clinic app connects the writer that stores the row when it starts
(``clinic.audit.services.audit_event_write``). The row is written synchronously, in the
caller's transaction: a service that changes a record and audits it is
``@transaction.atomic``, so both are committed together or not at all. Recording with no
writer connected is an error, never a silent gap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import HttpRequest
from ipware import get_client_ip

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    from .models import Patient


class AuditAction(models.TextChoices):
    VIEW = "view", "View"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    SIGN = "sign", "Sign"
    AMEND = "amend", "Amend"
    EXPORT = "export", "Export"
    OVERRIDE = "override", "Override"
    # A refused (403) request for a clinical page: who tried, which record the URL named.
    ACCESS_DENIED = "access_denied", "Access denied"
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOGOUT = "logout", "Logout"
    # Staff account recovery (clinic/services.py): their own actions, not "update", so the
    # audit log can be filtered for them when an account is taken over or locked out.
    UNLOCK = "unlock", "Unlock"
    PASSWORD_RESET = "password_reset", "Password reset"


# Actions whose detail is clinical by nature: an override names the patient's flags and
# the therapist's reason, an amendment the clinical fields changed. Whatever a caller
# passes as ``detail`` for them is stored as clinical detail, so a caller that forgets
# ``clinical_detail`` still cannot show clinical text to the manager.
CLINICAL_DETAIL_ACTIONS = frozenset({AuditAction.OVERRIDE, AuditAction.AMEND})


class AuditWriter(Protocol):
    def __call__(
        self,
        *,
        acting_user: Any,
        username: str,
        action: str,
        patient: Patient | None,
        object_type: str,
        object_id: str,
        ip: str | None,
        detail: str,
        clinical_detail: str,
    ) -> Any: ...


_writer: AuditWriter | None = None


def audit_writer_connect(writer: AuditWriter) -> None:
    """Make ``writer`` store every event (the clinic app does this once, at start-up)."""
    global _writer
    _writer = writer


def audit_record(
    *,
    acting_user: AbstractBaseUser | AnonymousUser | None,
    action: str,
    patient: Patient | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    ip: str | None = None,
    detail: str = "",
    clinical_detail: str = "",
    username: str = "",
) -> Any:
    """Write one audit event: ``acting_user`` did ``action`` on ``obj`` (or on the record
    named by ``object_type`` and ``object_id``) belonging to ``patient``, from ``ip``.

    ``detail`` is shown to everyone who reads the audit log, the clinic manager included:
    a non-clinical summary ("edit form", "plan completed"). Clinical values and free text
    (override reasons, which clinical fields changed) go in ``clinical_detail``, shown
    only to users with clinical permission (docs/decisions.md, audit log). ``username``
    is the name as typed, for a failed sign-in that has no user. Returns the stored event.
    """
    if _writer is None:
        raise ImproperlyConfigured("No audit writer is connected (clinic.apps.ClinicConfig).")
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}")
    if action in CLINICAL_DETAIL_ACTIONS and detail:
        clinical_detail = "\n".join(text for text in (detail, clinical_detail) if text)
        detail = ""
    if acting_user is not None and not acting_user.is_authenticated:
        acting_user = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return _writer(
        acting_user=acting_user,
        username=username or (acting_user.get_username() if acting_user else ""),
        action=action,
        patient=patient,
        object_type=object_type,
        object_id=object_id[:64],
        ip=ip,
        detail=detail[:500],
        clinical_detail=clinical_detail,
    )


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, for the audit log and for django-axes's lockout.

    Views pass it to services as ``ip``; ``AXES_CLIENT_IP_CALLABLE`` points here, so the
    lockout and the log always agree on who a request came from.

    ``PROXY_COUNT`` is the number of trusted reverse proxies in front of the app. With 0
    (the default) only the socket's address counts and X-Forwarded-For is ignored: a
    client could write anything there. Behind N proxies that each append the address
    they received the request from (nginx's ``$proxy_add_x_forwarded_for``), the client
    is the N-th entry from the right of X-Forwarded-For; the last proxy is REMOTE_ADDR,
    so django-ipware, which counts the proxies listed *after* the client, is given N - 1.
    ``strict=False`` counts from the right, so entries a client prepends are skipped
    rather than making the header unusable.
    """
    if request is None:
        return None
    remote_addr: str | None = request.META.get("REMOTE_ADDR") or None
    proxy_count: int = getattr(settings, "PROXY_COUNT", 0)
    if proxy_count <= 0:
        return remote_addr
    ip, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=proxy_count - 1,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    # No usable header (a request that reached the app without passing the proxy):
    # the socket's address is all there is.
    return ip or remote_addr


def audit_view(
    request: HttpRequest, *, patient: Patient | None, obj: models.Model | None, detail: str = ""
) -> Any:
    """A page showed ``obj`` of ``patient``'s record to the signed-in user: audit the view.

    For views only (services never take a request): the one way a page records that it
    displayed clinical content, forms pre-filled from a record included.
    """
    return audit_record(
        acting_user=request.user,
        action=AuditAction.VIEW,
        patient=patient,
        obj=obj,
        ip=client_ip(request),
        detail=detail,
    )
