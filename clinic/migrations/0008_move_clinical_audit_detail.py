"""Move the clinical text older audit events carried in ``detail`` to ``clinical_detail``.

Before this, override events stored "<technique> planned despite: <flags>. Reason: <free
text>" and amendment events the names of the clinical fields changed, both in ``detail``,
which the audit log shows to the clinic manager. Those are the only actions whose detail
was clinical (the others describe forms, scheduling or staff changes), so every event of
those two actions is moved whole; nothing is deleted. Data only: the column is added by
0007.
"""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Substr

CLINICAL_ACTIONS = ["override", "amend"]


def move_clinical_detail(apps, schema_editor):
    AuditEvent = apps.get_model("clinic", "AuditEvent")
    AuditEvent.objects.filter(action__in=CLINICAL_ACTIONS).exclude(detail="").update(
        clinical_detail=F("detail"), detail=""
    )


def restore_detail(apps, schema_editor):
    AuditEvent = apps.get_model("clinic", "AuditEvent")
    AuditEvent.objects.filter(action__in=CLINICAL_ACTIONS, detail="").exclude(
        clinical_detail=""
    ).update(detail=Substr("clinical_detail", 1, 500), clinical_detail="")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0007_auditevent_clinical_detail_and_access_denied")]

    operations = [migrations.RunPython(move_clinical_detail, restore_detail)]
