import pathlib

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.models import AuditEvent
from patients import audit
from patients.audit import AuditAction, audit_record

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_recording_with_no_writer_connected_refuses_and_writes_nothing(monkeypatch, therapist):
    monkeypatch.setattr(audit, "_writer", None)
    with pytest.raises(ImproperlyConfigured):
        audit_record(acting_user=therapist, action=AuditAction.VIEW)
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_action_is_refused(therapist):
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record(acting_user=therapist, action="delete")
    assert AuditEvent.objects.count() == 0


def test_only_the_clinic_writer_creates_audit_events():
    # One way to write the log: everything else calls patients.audit.audit_record.
    writers = sorted(
        str(path.relative_to(ROOT))
        for app in ("clinic", "patients", "treatments")
        for path in (ROOT / app).rglob("*.py")
        if "AuditEvent.objects.create" in path.read_text()
    )
    assert writers == ["clinic/audit/services.py"]
