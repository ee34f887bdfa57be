"""Fill Patient.search_name for rows written before the services kept it (e.g. by the
admin or an import), so every patient can be found by name. Data only; the
normalisation is repeated here because migrations never import app code."""

import unicodedata

from django.db import migrations


def _normalise(text):
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def backfill(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    for patient in Patient.objects.only("id", "first_name", "last_name", "search_name").iterator():
        wanted = _normalise(f"{patient.first_name} {patient.last_name}")
        if patient.search_name != wanted:
            Patient.objects.filter(pk=patient.pk).update(search_name=wanted)


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_painreport_assessment_link")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
