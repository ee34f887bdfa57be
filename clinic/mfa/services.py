"""Two-step sign-in (docs/decisions.md, staff sign-in): TOTP devices and recovery codes.

Built on django-otp: one TOTPDevice (an authenticator app) and one StaticDevice holding
the one-time recovery codes per user. Views call these and then ``django_otp.login`` to
mark the session verified; OTPMiddleware then answers ``request.user.is_verified()``.
Failed codes are throttled by django-otp itself (OTP_TOTP_THROTTLE_FACTOR,
OTP_STATIC_THROTTLE_FACTOR: each failure doubles the wait before the next try).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from patients.audit import AuditAction, audit_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def mfa_has_device(*, user: User) -> bool:
    """Whether ``user`` finished enrolment (has a confirmed second factor)."""
    return bool(user_has_device(user, confirmed=True))


def mfa_enrolment_device(*, user: User) -> TOTPDevice:
    """The unconfirmed TOTP device ``user`` is enrolling with (created on first call).

    The same secret is shown until it is confirmed, so reloading the page does not
    invalidate what the app already scanned.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def mfa_secret_base32(*, device: TOTPDevice) -> str:
    """The secret as authenticator apps accept it when typed in (base32, no padding)."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class EnrolmentResult:
    device: TOTPDevice | None
    recovery_codes: list[str]
    throttled: bool = False


@transaction.atomic
def mfa_enrol_confirm(
    *, user: User, device_id: int, token: str, ip: str | None = None
) -> EnrolmentResult:
    """Confirm ``user``'s pending TOTP device with a code from their app.

    On success the device is confirmed, any other device of the user is removed (one
    authenticator per person), fresh recovery codes are created and returned (shown
    once), and the enrolment is audited. A wrong code changes nothing but the device's
    throttle and is audited as a failed sign-in step.
    """
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, pk=device_id, confirmed=False)
        .first()
    )
    if device is None:
        return EnrolmentResult(device=None, recovery_codes=[])
    allowed, _ = device.verify_is_allowed()
    if not allowed or not device.verify_token(token):
        audit_record(
            acting_user=user,
            action=AuditAction.LOGIN_FAILED,
            ip=ip,
            detail="two-step sign-in: wrong code at enrolment",
        )
        return EnrolmentResult(device=None, recovery_codes=[], throttled=not allowed)
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_replace(user=user)
    audit_record(
        acting_user=user,
        action=AuditAction.UPDATE,
        obj=user,
        ip=ip,
        detail="two-step sign-in enrolled (authenticator app and recovery codes)",
    )
    return EnrolmentResult(device=device, recovery_codes=codes)


def _recovery_codes_replace(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


@dataclass(frozen=True)
class VerifyResult:
    device: Any
    throttled: bool = False


def mfa_verify(*, user: User, token: str, ip: str | None = None) -> VerifyResult:
    """Check a sign-in code: first the authenticator app's, then a recovery code.

    A recovery code is deleted as it is used (django-otp's StaticDevice), and the
    devices are locked for the check, so two requests cannot both spend one code.
    Success, recovery-code use and failure are all audited.
    """
    token = "".join(token.split()).lower()
    # An app code is 6 digits, a recovery code 8 letters and digits: each is checked only
    # against its own kind, so signing in with the app never counts as a failed recovery
    # code (which would throttle the recovery codes a little more at every sign-in).
    kind: type[Any] = TOTPDevice if len(token) == 6 and token.isdigit() else StaticDevice
    throttled = False
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if not isinstance(device, kind):
                continue
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                throttled = True
                continue
            if device.verify_token(token):
                if isinstance(device, StaticDevice):
                    left = device.token_set.count()
                    detail = f"two-step sign-in with a recovery code ({left} left)"
                else:
                    detail = "two-step sign-in with the authenticator app"
                audit_record(acting_user=user, action=AuditAction.LOGIN, ip=ip, detail=detail)
                return VerifyResult(device=device)
    audit_record(
        acting_user=user,
        action=AuditAction.LOGIN_FAILED,
        ip=ip,
        detail="two-step sign-in: wrong code" + (" (throttled)" if throttled else ""),
    )
    return VerifyResult(device=None, throttled=throttled)


@transaction.atomic
def mfa_reset(*, user: User, acting_user: User, ip: str | None = None) -> int:
    """Remove ``user``'s second factor: they enrol again at their next sign-in.

    Returns how many devices were removed; audited either way.
    """
    removed = int(TOTPDevice.objects.filter(user=user).count())
    removed += int(StaticDevice.objects.filter(user=user).count())
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=user,
        ip=ip,
        detail="two-step sign-in reset by the clinic manager",
    )
    return removed
