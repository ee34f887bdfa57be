"""The Ottawa inclusion-criteria migration leaves signed assessments as they were signed."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import TherapistFactory

NAME = "assessment_ottawa_inclusion_criteria_and_verdicts"


def _target() -> tuple[tuple[str, str], tuple[str, str]]:
    """(this migration, the one before it), found by name so renumbering does not matter."""
    loader = MigrationExecutor(connection).loader
    (key,) = [
        key for key in loader.disk_migrations if key[0] == "patients" and key[1].endswith(NAME)
    ]
    (before,) = [dep for dep in loader.graph.node_map[key].parents if dep.key[0] == "patients"]
    return key, before.key


@pytest.mark.django_db(transaction=True)
def test_existing_assessments_keep_their_signed_xray_decision_and_get_inclusion_unknown():
    this, before = _target()
    therapist = TherapistFactory()
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps
        patient = old.get_model("patients", "Patient").objects.create(
            first_name="Ada", last_name="Old", date_of_birth=dt.date(1960, 1, 2)
        )
        signed = old.get_model("patients", "Assessment").objects.create(
            patient_id=patient.pk,
            therapist_id=therapist.pk,
            region="knee",
            side="left",
            pain_now=5,
            pain_worst=6,
            pain_best=2,
            ottawa_knee_cannot_flex_90=False,
            xray_knee_indicated=True,
            xray_indicated=True,
            status="signed",
            signed_at=timezone.now(),
            signed_by_id=therapist.pk,
        )
        executor = MigrationExecutor(connection)
        executor.migrate([this])
        new = executor.loader.project_state([this]).apps
        row = new.get_model("patients", "Assessment").objects.values().get(pk=signed.pk)
        assert row["ottawa_acute_knee_injury"] is None
        assert row["ottawa_acute_ankle_injury"] is None
        assert (row["ottawa_ankle_verdict"], row["ottawa_foot_verdict"]) == ("", "")
        assert row["ottawa_knee_verdict"] == ""
        assert row["xray_knee_indicated"] is True and row["xray_indicated"] is True
        assert row["ottawa_knee_cannot_flex_90"] is False
        assert row["status"] == "signed"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
