"""Bounded time windows (clinic/models/scheduling.py ``overlapping``).

- appt_at_most_four_hours: a visit lasts at most MAX_APPOINTMENT_DURATION (4 h), which
  window queries rely on for their lower bound on starts_at. The booking service refuses
  longer visits on every database; PostgreSQL also checks it itself. SQLite is left
  without it: there a check on datetime arithmetic needs a function Django registers per
  connection, which the sqlite3 shell and backups do not have.
- timeoff_practitioner_end_idx: time off touching a window (see TimeOff.Meta).
"""

from django.db import migrations, models

MAX_HOURS = 4


def add_duration_check(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM clinic_appointment "
            f"WHERE ends_at > starts_at + interval '{MAX_HOURS} hours'"
        )
        (longer,) = cursor.fetchone()
    if longer:
        raise RuntimeError(
            f"{longer} appointment(s) last longer than {MAX_HOURS} hours; shorten or split "
            "them before migrating (the calendar's window queries assume none does)."
        )
    schema_editor.execute(
        "ALTER TABLE clinic_appointment ADD CONSTRAINT appt_at_most_four_hours "
        f"CHECK (ends_at <= starts_at + interval '{MAX_HOURS} hours')"
    )


def remove_duration_check(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE clinic_appointment DROP CONSTRAINT IF EXISTS appt_at_most_four_hours"
    )


class Migration(migrations.Migration):
    dependencies = [("clinic", "0010_reminder_reason_expired_unconfirmed")]

    operations = [
        migrations.AddIndex(
            model_name="timeoff",
            index=models.Index(
                fields=["practitioner", "ends_at"], name="timeoff_practitioner_end_idx"
            ),
        ),
        migrations.RunPython(add_duration_check, remove_duration_check),
    ]
