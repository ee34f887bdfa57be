"""Until the second factor is given, a signed-in session reaches only the two-step pages.

One check for every URL (admin included), so a password alone reaches no page and no
view can forget it. Placed after django-otp's OTPMiddleware, which provides
``request.user.is_verified()``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse

# Set at sign-in (clinic.mfa.receivers) when the user has a second factor, so the
# check costs no query on each request when STAFF_MFA_REQUIRED is off.
SESSION_HAS_DEVICE = "mfa_has_device"


def second_factor_needed(request) -> bool:
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return False
    return settings.STAFF_MFA_REQUIRED or bool(request.session.get(SESSION_HAS_DEVICE))


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if second_factor_needed(request):
            allowed = {reverse("mfa_verify"), reverse("mfa_enrol"), reverse("logout")}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                target = reverse("mfa_verify")
                if request.method == "GET":
                    target += "?" + urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(target)
        return self.get_response(request)
