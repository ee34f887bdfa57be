"""A rate limit for the patient's signed links (/r/...), per token and per IP address.

Counts use the project's one request counter (clinic/ratelimit.py) in fixed windows of
REMINDER_LINK_RATE_WINDOW_SECONDS. Over either limit, the view answers 429 before
reading the token, so nothing is recorded (docs/decisions.md, "Rate limits on patient
links").
"""

from __future__ import annotations

from django.conf import settings

from clinic.ratelimit import rate_limit_hit


def over_limit(*, token: str, ip: str | None) -> bool:
    """Count this request; True if the token or the address is over its limit."""
    window = settings.REMINDER_LINK_RATE_WINDOW_SECONDS
    over = rate_limit_hit(
        scope="link-token",
        key=token,
        limit=settings.REMINDER_LINK_RATE_LIMIT_PER_TOKEN,
        period_seconds=window,
    )
    if ip:
        over = (
            rate_limit_hit(
                scope="link-ip",
                key=ip,
                limit=settings.REMINDER_LINK_RATE_LIMIT_PER_IP,
                period_seconds=window,
            )
            or over
        )
    return over
