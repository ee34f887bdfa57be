"""Reads for the registry and the clinical record."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import Patient


def get_patient_for_user(user, patient_id: int) -> Patient:
    """The access-checked getter for patients: staff who may view patients, or 403/404."""
    if not user.has_perm("patients.view_patient"):
        raise PermissionDenied
    return get_object_or_404(Patient, pk=patient_id)
