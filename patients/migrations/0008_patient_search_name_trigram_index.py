# The registry's name search on PostgreSQL: a trigram GIN index on the normalised name.
#
# It serves patients.selectors.patient_search, whose name query is one
#   search_name LIKE '%word%'
# per word typed ("jose gar" -> '%jose%' AND '%gar%'), ordered by last and first name.
# A B-tree index cannot serve a LIKE with a leading wildcard, so without this index
# every search reads the whole registry; pg_trgm's GIN index finds the rows holding the
# word's trigrams (words of three letters or more; shorter ones filter those rows).
#
# PostgreSQL only: the extension and the index are created by SQL here and are not part
# of the model's state, so SQLite (development, the default test run) is untouched and
# keeps searching with a scan, which is fine at its size. Creating the extension needs
# a role allowed to (the database owner on PostgreSQL 13+, pg_trgm being trusted).

from django.db import migrations

INDEX = "patient_search_name_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON patients_patient "
        "USING gin (search_name gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other database objects may use it.
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0007_painreport_one_email_link_per_local_day"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
