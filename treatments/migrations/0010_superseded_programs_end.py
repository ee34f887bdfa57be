"""A superseded program ends the day before the program that replaced it starts
(docs/decisions.md, "Home-exercise programs"). Programs superseded before this were left
without an end date and went on counting as prescribed days in the adherence report;
they get the end date the service now gives. The adherence rollup is emptied so its
next read counts every day again (clinic/reports/rollup.py), with these end dates and
with only each program's exercise days as prescribed."""

import datetime as dt
from itertools import groupby
from operator import attrgetter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations

# ReportRollup row of the completions rollup (clinic/reports/rollup.py, COMPLETIONS).
COMPLETIONS = 2


def end_superseded(apps, schema_editor):
    Program = apps.get_model("treatments", "HomeExerciseProgram")
    # Every program of each patient with a superseded one, in the order prescribed: one
    # query, read in chunks.
    patients = Program.objects.filter(status="superseded").values("patient_id")
    programs = (
        Program.objects.filter(patient_id__in=patients).order_by("patient_id", "id").iterator()
    )
    clinic_zone = ZoneInfo(settings.TIME_ZONE)
    changed = []
    for _, theirs in groupby(programs, key=attrgetter("patient_id")):
        theirs = list(theirs)
        for program, successor in zip(theirs, [*theirs[1:], None], strict=True):
            if program.status != "superseded":
                continue
            if successor is not None:
                last = max(program.start_date, successor.start_date - dt.timedelta(days=1))
            else:  # its successor is gone: it ran to the day it was superseded
                superseded_on = program.updated_at.astimezone(clinic_zone).date()
                last = max(program.start_date, superseded_on)
            if program.end_date is None or program.end_date > last:
                program.end_date = last
                changed.append(program)
    Program.objects.bulk_update(changed, ["end_date"], batch_size=500)
    ReportCompletionDay = apps.get_model("clinic", "ReportCompletionDay")
    ReportRollup = apps.get_model("clinic", "ReportRollup")
    ReportCompletionDay.objects.all().delete()
    ReportRollup.objects.filter(pk=COMPLETIONS).update(
        days_from=None, days_until=None, seen_at=None, handled=[]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0032_rollup_keeps_the_changes_it_took_in"),
        ("treatments", "0009_plan_updated_at_index"),
    ]

    operations = [migrations.RunPython(end_superseded, migrations.RunPython.noop)]
