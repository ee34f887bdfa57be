"""PainReport.local_date: the patient's local day of an email check-in, backfilled.

For each patient and local day the latest email check-in gets the date; earlier ones of
the same day keep NULL, so the unique constraint of the next migration holds without
deleting any report (they stay on the chart's history; docs/decisions.md, "One pain
report per day from email links").
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import migrations, models


def _zone(name):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def backfill(apps, schema_editor):
    PainReport = apps.get_model("patients", "PainReport")
    rows = (
        PainReport.objects.filter(source="email_link", local_date__isnull=True)
        .select_related("patient")
        .order_by("-reported_at", "-id")
    )
    seen = set()
    latest = {}
    for report in rows.iterator(chunk_size=2000):
        day = report.reported_at.astimezone(_zone(report.patient.timezone)).date()
        key = (report.patient_id, day)
        if key in seen:
            continue
        seen.add(key)
        latest.setdefault(day, []).append(report.id)
    for day, ids in latest.items():
        for start in range(0, len(ids), 1000):
            PainReport.objects.filter(id__in=ids[start : start + 1000]).update(local_date=day)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_assessment_ottawa_inclusion_criteria_and_verdicts"),
    ]

    operations = [
        migrations.AddField(
            model_name="painreport",
            name="local_date",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
