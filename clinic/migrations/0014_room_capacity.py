"""Rooms with capacity (docs/decisions.md, "Rooms with capacity").

- Room.capacity (default 1): how many visits a room holds at once.
- Appointment.room_exclusive (default True): whether the visit holds its room alone. Every
  room had capacity 1 until now, so every existing row is exclusive, as before.
- appt_no_overlap_room (PostgreSQL, migration 0005) now applies only to exclusive rows:
  an exclusion constraint cannot read Room.capacity, so it reads the flag the booking
  service copies onto each visit. Capacity-1 rooms stay enforced by the database exactly
  as before; shared rooms are counted by the service under a lock on the room's row.
"""

import django.core.validators
from django.db import migrations, models

LIVE = "('booked', 'checked_in', 'completed')"


def _room_constraint(schema_editor, predicate: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE clinic_appointment DROP CONSTRAINT IF EXISTS appt_no_overlap_room"
    )
    schema_editor.execute(
        "ALTER TABLE clinic_appointment ADD CONSTRAINT appt_no_overlap_room EXCLUDE USING gist "
        "(room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        f"WHERE ({predicate})"
    )


def exclusive_rooms_only(apps, schema_editor):
    _room_constraint(schema_editor, f"status IN {LIVE} AND room_exclusive")


def every_room(apps, schema_editor):
    _room_constraint(schema_editor, f"status IN {LIVE}")


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0013_attention_acknowledgement"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="room_exclusive",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="room",
            name="capacity",
            field=models.PositiveSmallIntegerField(
                default=1,
                help_text="How many visits the room holds at the same time.",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(50),
                ],
            ),
        ),
        migrations.AddConstraint(
            model_name="room",
            constraint=models.CheckConstraint(
                condition=models.Q(("capacity__gte", 1)), name="room_capacity_at_least_one"
            ),
        ),
        migrations.RunPython(exclusive_rooms_only, every_room),
    ]
