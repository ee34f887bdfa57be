"""No two live appointments overlap for one practitioner, room or patient, enforced by
PostgreSQL itself (btree_gist exclusion constraints). The booking service already checks
under a row lock; these catch anything that slips past it (another code path, a room or
patient shared by two practitioners booked at the same instant).

SQLite has no exclusion constraints: there the IMMEDIATE transaction mode serialises
writers instead, so this migration does nothing on it.
"""

from django.db import migrations

LIVE = "('booked', 'checked_in', 'completed')"

CONSTRAINTS = {
    "appt_no_overlap_practitioner": "practitioner_id",
    "appt_no_overlap_room": "room_id",
    "appt_no_overlap_patient": "patient_id",
}


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, column in CONSTRAINTS.items():
        # NULL room ids never compare equal, so visits without a room never clash on it.
        schema_editor.execute(
            f"ALTER TABLE clinic_appointment ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({column} WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE (status IN {LIVE})"
        )


def remove_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE clinic_appointment DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0004_scheduling_feed_token_and_settings")]

    operations = [migrations.RunPython(add_constraints, remove_constraints)]
