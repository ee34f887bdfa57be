"""The Today page: sections per role, each with its own loader.

``clinic`` may import ``patients`` and ``treatments``, so every app's Today content is
registered here, next to the view that shows it. A loader runs a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .roles import CLINIC_MANAGER, FRONT_DESK, THERAPIST, user_roles
from .scheduling import selectors as scheduling_selectors


@dataclass(frozen=True)
class TodaySection:
    key: str
    title: str
    template: str  # rendered with ``section`` and ``data``
    roles: frozenset[str]
    load: Callable  # load(request) -> dict
    order: int = 100


SECTIONS: list[TodaySection] = [
    TodaySection(
        key="therapist-day",
        title="Your clinical day",
        template="clinic/scheduling/today_therapist.html",
        roles=frozenset({THERAPIST}),
        load=lambda request: scheduling_selectors.therapist_day(request.user),
        order=10,
    ),
    TodaySection(
        key="front-desk-day",
        title="Front desk",
        template="clinic/scheduling/today_front_desk.html",
        roles=frozenset({FRONT_DESK}),
        load=lambda request: scheduling_selectors.front_desk_day(),
        order=10,
    ),
    TodaySection(
        key="manager-links",
        title="Clinic management",
        template="clinic/today/manager.html",
        roles=frozenset({CLINIC_MANAGER}),
        load=lambda request: {},
        order=900,
    ),
]


def _load_unsigned_notes(request) -> dict:
    from treatments.selectors import unsigned_notes_for

    # 1 query: the therapist's draft notes with their patients.
    return {"notes": unsigned_notes_for(request.user)}


SECTIONS.append(
    TodaySection(
        key="unsigned-visit-notes",
        title="Visit notes to sign",
        template="treatments/today_unsigned_notes.html",
        roles=frozenset({THERAPIST}),
        load=_load_unsigned_notes,
        order=30,
    )
)


def sections_for(request) -> list[tuple[TodaySection, dict]]:
    roles = user_roles(request.user)
    if request.user.is_superuser:
        roles = {THERAPIST, FRONT_DESK, CLINIC_MANAGER}
    visible = sorted((s for s in SECTIONS if s.roles & roles), key=lambda s: (s.order, s.key))
    return [(section, section.load(request)) for section in visible]


def _therapist_drafts(request) -> dict:
    from patients.selectors import therapist_drafts

    return {"drafts": therapist_drafts(request.user)}


SECTIONS.append(
    TodaySection(
        key="assessment-drafts",
        title="Assessments to sign",
        template="patients/today_drafts.html",
        roles=frozenset({THERAPIST}),
        load=_therapist_drafts,
        order=20,
    )
)
