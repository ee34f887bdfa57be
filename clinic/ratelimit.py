"""A fixed-window request counter in the default cache.

The default cache is shared by every web process in production (settings.CACHES: Redis
when REDIS_URL is set, a file-based cache on one machine otherwise), so a limit holds
however many gunicorn workers serve the requests.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


def rate_limit_hit(*, scope: str, key: str, limit: int, period_seconds: int) -> bool:
    """Count one request for ``key`` in ``scope``; True when it goes over ``limit`` per period.

    ``key`` is hashed, so an email address typed by a visitor never becomes a cache key.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    window = int(time.time() // period_seconds)
    cache_key = f"ratelimit:{scope}:{digest}:{window}"
    # add() only creates the counter; incr() is atomic on Redis.
    cache.add(cache_key, 0, timeout=period_seconds + 60)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add() and incr()
        cache.set(cache_key, 1, timeout=period_seconds + 60)
        count = 1
    return count > limit
