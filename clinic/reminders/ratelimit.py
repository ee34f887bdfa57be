"""A rate limit for the patient's signed links (/r/...), per token and per IP address.

Counts live in Django's cache (fixed windows of REMINDER_LINK_RATE_WINDOW_SECONDS). Over
either limit, the view answers 429 before reading the token, so nothing is recorded
(docs/decisions.md, "Rate limits on patient links"). The cache must be shared by all web
processes for the limit to be exact; with a per-process cache each process counts alone.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "clinic.reminders.link.rate."


def _hit(key: str, window: int) -> int:
    """Count one request under ``key``; returns the count in the current window."""
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def over_limit(*, token: str, ip: str | None) -> bool:
    """Count this request; True if the token or the address is over its limit."""
    window = settings.REMINDER_LINK_RATE_WINDOW_SECONDS
    token_key = KEY_PREFIX + "t." + hashlib.sha256(token.encode()).hexdigest()[:32]
    over = _hit(token_key, window) > settings.REMINDER_LINK_RATE_LIMIT_PER_TOKEN
    if ip:
        ip_key = KEY_PREFIX + "ip." + hashlib.sha256(ip.encode()).hexdigest()[:32]
        over = _hit(ip_key, window) > settings.REMINDER_LINK_RATE_LIMIT_PER_IP or over
    return over
