"""The visit a note documents: the scheduling rules a visit note follows.

A visit note may point to a booked visit (``VisitNote.appointment``, the schema's one
upward link, declared by name: docs/design.md, "Layout"). Which visits a note may
document, and what signing the note does to its visit, are scheduling rules, and
``treatments`` imports nothing from ``clinic``. So, like the audit writer behind
``patients.audit.audit_record``, this module owns the hook and ``clinic`` connects its
implementation at start-up (``clinic.apps.ClinicConfig.ready``); using it with none
connected is an error rather than a silent "anything goes".

The rules (docs/decisions.md, "Notes follow the visit"):

- a note cannot be created for, linked to or signed against a cancelled or no-show visit;
- signing a note for a checked-in visit completes the visit, in the same transaction,
  audited as any status change;
- the note form offers the patient's visits of today first, then of the past days
  (newest first), then the next few days: never a cancelled or no-show one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q


@dataclass(frozen=True)
class VisitHooks:
    # The visits a note may document, as a filter on the appointment model.
    documentable: Callable[[], Q]
    # Why a note may not document this visit ("" when it may).
    refusal: Callable[[Any], str]
    # Called inside the signing transaction, before the note is signed: locks the visit,
    # refuses (ValidationError) when it can no longer be documented, and completes a
    # checked-in visit (audited).
    note_signing: Callable[..., None]


_hooks: VisitHooks | None = None


def visit_hooks_connect(hooks: VisitHooks) -> None:
    """Install the scheduling side's rules (the clinic app does this once, at start-up)."""
    global _hooks
    _hooks = hooks


def visit_hooks() -> VisitHooks:
    if _hooks is None:
        raise ImproperlyConfigured("No visit hooks are connected (clinic.apps.ClinicConfig).")
    return _hooks
