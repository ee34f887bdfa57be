"""Reads for clinic operations pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

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
