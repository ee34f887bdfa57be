"""Create the three role groups. Their permissions are kept in step with
clinic/roles.py by a post_migrate hook, so later migrations' permissions reach them."""

from django.db import migrations

ROLES = ["Therapist", "Front desk", "Clinic manager"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("clinic", "0002_links_to_patients_and_programs"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
