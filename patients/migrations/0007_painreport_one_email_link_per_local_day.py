# A separate migration from the backfill, so the constraint is built after the data
# changes have committed (PostgreSQL refuses some ALTER TABLEs after updates in one
# transaction).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0006_painreport_local_date_backfill"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="painreport",
            constraint=models.UniqueConstraint(
                condition=models.Q(("source", "email_link")),
                fields=("patient", "local_date"),
                name="painreport_one_email_link_per_local_day",
            ),
        ),
    ]
