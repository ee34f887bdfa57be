"""At sign-in, remember in the session whether the user has a second factor."""

from .middleware import SESSION_HAS_DEVICE
from .services import mfa_has_device


def remember_second_factor(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_HAS_DEVICE] = mfa_has_device(user=user)
