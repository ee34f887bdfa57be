"""Two-step sign-in pages: the second-factor step, enrolment, and the manager's reset."""

from __future__ import annotations

from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from clinic.views import _get_staff_for_user
from patients.audit import client_ip

from . import services
from .forms import OneTimeCodeForm
from .middleware import SESSION_HAS_DEVICE

THROTTLED = "Too many wrong codes. Wait a minute, then try again."


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("today")


def _with_next(request, name: str) -> str:
    url = reverse(name)
    next_url = request.GET.get("next")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return url


def _mark_verified(request, device) -> None:
    otp_login(request, device)
    request.session[SESSION_HAS_DEVICE] = True


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """The second step of signing in: a code from the app, or a recovery code."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not services.mfa_has_device(user=request.user):
        return redirect(_with_next(request, "mfa_enrol"))
    recovery = request.GET.get("recovery") == "1" or request.POST.get("recovery") == "1"
    form = OneTimeCodeForm(request.POST or None)
    if recovery:
        form.fields["code"].label = "Recovery code"
        form.fields["code"].help_text = "One of the recovery codes you saved at enrolment."
        form.fields["code"].widget.attrs["inputmode"] = "text"
    if request.method == "POST" and form.is_valid():
        result = services.mfa_verify(
            user=request.user, token=form.cleaned_data["code"], ip=client_ip(request)
        )
        if result.device is not None:
            _mark_verified(request, result.device)
            if not isinstance(result.device, services.TOTPDevice):
                messages.warning(
                    request,
                    "You signed in with a recovery code; it cannot be used again. "
                    "If you lost your phone, ask the clinic manager to reset your "
                    "two-step sign-in.",
                )
            return redirect(_next_url(request))
        form.add_error("code", THROTTLED if result.throttled else "That code is not right.")
    return render(
        request,
        "registration/mfa_verify.html",
        {"form": form, "recovery": recovery, "next": _next_url(request)},
    )


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol(request):
    """Set up an authenticator app: scan, confirm with a code, then see recovery codes once."""
    if services.mfa_has_device(user=request.user):
        # Never a second enrolment on a password alone: that would bypass the factor.
        if not request.user.is_verified():
            return redirect(_with_next(request, "mfa_verify"))
        messages.info(request, "Two-step sign-in is already on for your account.")
        return redirect("mfa_status")
    device = services.mfa_enrolment_device(user=request.user)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.mfa_enrol_confirm(
            user=request.user,
            device_id=device.pk,
            token=form.cleaned_data["code"],
            ip=client_ip(request),
        )
        if result.device is not None:
            _mark_verified(request, result.device)
            return render(
                request,
                "registration/mfa_recovery_codes.html",
                {"codes": result.recovery_codes, "next": _next_url(request)},
            )
        form.add_error("code", THROTTLED if result.throttled else "That code is not right.")
    return render(
        request,
        "registration/mfa_enrol.html",
        {
            "form": form,
            # Generated here from the device's own URL: no user text reaches the SVG.
            "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308
            "secret": services.mfa_secret_base32(device=device),
            "next": _next_url(request),
        },
    )


@login_required
def mfa_status(request):
    """The account menu's "Two-step sign-in": whether it is on, and the way to turn it on."""
    return render(
        request,
        "registration/mfa_status.html",
        {"enabled": services.mfa_has_device(user=request.user)},
    )


@login_required
@permission_required("auth.change_user", raise_exception=True)
@require_POST
def staff_mfa_reset(request, user_id: int):
    user = _get_staff_for_user(request.user, user_id)
    services.mfa_reset(user=user, acting_user=request.user, ip=client_ip(request))
    messages.success(
        request,
        f"Two-step sign-in reset for {user.username}: they set it up again at their next sign-in.",
    )
    return redirect("staff_edit", user_id=user.pk)
