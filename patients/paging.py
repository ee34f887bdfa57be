"""Numbered pages without a count: "Previous" / "Next" links and no "of N".

Django's Paginator counts every matching row on each request (``SELECT COUNT(*)``), so
the first page of a 20,000-patient registry costs a scan of the whole table. A
``NextPage`` reads one row more than it shows, which says whether a next page exists,
and never counts (docs/decisions.md, "Pages at a clinic group's size").

Deep pages still skip their offset in the database; page numbers stop at ``MAX_PAGE``
(a search narrows a long list; nobody reads page 800 of a registry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from .inputs import parse_id

MAX_PAGE = 400


@dataclass(frozen=True)
class NextPage:
    object_list: list[Any]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def __len__(self) -> int:
        return len(self.object_list)


def next_page(queryset: QuerySet[Any], number: Any, size: int) -> NextPage:
    """Page ``number`` (1 when missing or not a page number) of an ordered queryset:
    one query of ``size + 1`` rows."""
    page = min(parse_id(number) or 1, MAX_PAGE)
    start = (page - 1) * size
    rows = list(queryset[start : start + size + 1])
    return NextPage(object_list=rows[:size], number=page, has_next=len(rows) > size)
