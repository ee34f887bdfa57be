"""Sections of the patient page contributed by other apps.

The patient page lives in ``patients``, which imports neither ``treatments`` nor
``clinic``. Those apps add their parts of the page (visit notes, programs, adherence,
appointments, reminder history) by registering a section from their AppConfig.ready().
A section is shown only to users holding its permission, so front desk never gets a
clinical section; each section's loader runs a fixed number of queries, whatever the
patient's history, so the page's query count stays constant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PatientSection:
    key: str
    title: str
    template: str  # rendered with ``section`` and ``data`` (the loader's result)
    permission: str  # "app_label.codename" the viewer must hold
    load: Callable  # load(request, patient) -> dict
    order: int = 100
    clinical: bool = True  # clinical sections are audited with the page view


_registry: dict[str, PatientSection] = {}


def register(section: PatientSection) -> None:
    _registry[section.key] = section


def sections_for(request, patient) -> list[tuple[PatientSection, dict]]:
    """The sections this user may see, in order, each with its loaded data."""
    visible = sorted(
        (s for s in _registry.values() if request.user.has_perm(s.permission)),
        key=lambda s: (s.order, s.key),
    )
    return [(section, section.load(request, patient)) for section in visible]
