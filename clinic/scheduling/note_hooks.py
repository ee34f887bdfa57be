"""Scheduling's side of treatments.visits: the rules a visit note follows about its
visit, connected at start-up (clinic.apps.ClinicConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from treatments.visits import VisitHooks

from . import services


def _note_signing(*, appointment_id: int, acting_user: Any, ip: str | None = None) -> None:
    try:
        services.appointment_note_signing(
            appointment_id=appointment_id, acting_user=acting_user, ip=ip
        )
    except services.SchedulingError as error:
        message = error.message[:1].lower() + error.message[1:]
        raise ValidationError({"appointment": f"Not signed: {message}"}) from error


VISIT_HOOKS = VisitHooks(
    documentable=services.appointment_note_documentable,
    refusal=services.appointment_note_refusal,
    note_signing=_note_signing,
)
