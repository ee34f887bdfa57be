"""Demo data for a first run: staff accounts for each role, then each feature's own data.

Idempotent: running it again creates nothing twice; it only resets the demo passwords
when --password is given.
"""

import secrets

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic import services
from clinic.roles import CLINIC_MANAGER, FRONT_DESK, THERAPIST

User = get_user_model()

DEMO_STAFF = [
    ("demo-therapist", "Alex", "Rivera", THERAPIST),
    ("demo-therapist2", "Sam", "Okafor", THERAPIST),
    ("demo-frontdesk", "Jordan", "Lee", FRONT_DESK),
    ("demo-manager", "Morgan", "Blake", CLINIC_MANAGER),
]


class Command(BaseCommand):
    help = "Create demo staff, patients, visits and programs (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for every demo account (default: random).")

    @transaction.atomic
    def handle(self, *args, password=None, **options):
        chosen = password or secrets.token_urlsafe(12)
        try:
            password_validation.validate_password(chosen)
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from error
        staff = {}
        for username, first, last, role in DEMO_STAFF:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = services.staff_create(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.org",
                    role=role,
                    password=chosen,
                )
                created = True
            else:
                created = False
                if password:
                    user.set_password(password)
                    user.save(update_fields=["password"])
            staff[username] = user
            if created or password:
                self.stdout.write(f"  {username:<16} {role:<15} password: {chosen}")
            else:
                self.stdout.write(f"  {username:<16} {role:<15} (exists; password unchanged)")
        self.seed_features(staff)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def seed_features(self, staff) -> None:
        """Each feature adds its own demo data here, in dependency order."""
        from clinic.reminders.demo import seed_reminders
        from clinic.scheduling.demo import seed_schedule
        from patients.demo import seed_patients
        from treatments.demo import seed_treatments

        created = seed_patients(staff)
        self.stdout.write(f"  {len(created)} demo patients added")
        seed_treatments(staff)
        # Scheduling goes after patients and treatments: it books visits for their patients.
        seed_schedule(staff)
        seed_reminders(staff)  # last: it uses the patients and programs seeded above
