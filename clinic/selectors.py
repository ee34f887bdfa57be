"""Reads for clinic operations pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone

from .roles import ROLES

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def staff_list() -> QuerySet[User]:
    """Staff accounts with their role groups (two queries, however many accounts)."""
    from django.contrib.auth.models import Group

    return (
        get_user_model()
        .objects.filter(is_superuser=False)
        .prefetch_related(Prefetch("groups", queryset=Group.objects.only("id", "name")))
        .order_by("-is_active", "last_name", "first_name", "username")
    )


def staff_role(user: User) -> str:
    """The user's role; uses prefetched groups when the caller prefetched them."""
    names = {g.name for g in user.groups.all()}
    return next((role for role in ROLES if role in names), "")


def staff_locked_out_usernames(usernames: list[str]) -> set[str]:
    """Which of ``usernames`` django-axes currently locks out, in one query.

    Axes locks per username and client address (settings.AXES_LOCKOUT_PARAMETERS): a pair
    is locked once its failures within the cool-off window reach AXES_FAILURE_LIMIT. An
    account counts as locked out when any address is locked out of it.
    """
    if not usernames:
        return set()
    attempts = AccessAttempt.objects.filter(username__in=usernames)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    locked = (
        attempts.values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .values_list("username", flat=True)
    )
    return set(locked)
