"""Create the clinic's first manager: a normal account in the "Clinic manager" group.

A clinic runs on its roles, never on a superuser: the manager this creates adds the rest
of the staff on the Staff page, and everything they do is checked and audited like any
other account. The account is created by ``clinic.services.staff_create`` (audited) after
the same checks as the Staff page's form (username free, names present, email valid,
password accepted by AUTH_PASSWORD_VALIDATORS).

The password comes from --password, else the CLINIC_MANAGER_PASSWORD environment
variable (for scripts: it stays out of the shell history and the process list), else an
interactive prompt; without a terminal and without either, the command refuses.
"""

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from clinic import services
from clinic.forms import StaffCreateForm
from clinic.roles import CLINIC_MANAGER

PASSWORD_ENV = "CLINIC_MANAGER_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a clinic manager (a normal account in the 'Clinic manager' group, not a "
        "superuser). Password: --password, the CLINIC_MANAGER_PASSWORD environment "
        "variable, or a prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True, help="Used to sign in.")
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password",
            help=f"Visible in the shell history; prefer {PASSWORD_ENV} or the prompt.",
        )

    def handle(self, *args, **options):
        password = options["password"] or os.environ.get(PASSWORD_ENV) or self._prompt()
        form = StaffCreateForm(
            data={
                "username": options["username"],
                "first_name": options["first_name"],
                "last_name": options["last_name"],
                "email": options["email"],
                "role": CLINIC_MANAGER,
                "password": password,
            }
        )
        if not form.is_valid():
            problems = [
                f"{'' if field == '__all__' else field.replace('_', '-') + ': '}{message}"
                for field, messages in form.errors.items()
                for message in messages
            ]
            raise CommandError("No account created.\n" + "\n".join(problems))
        user = services.staff_create(**form.cleaned_data)
        self.stdout.write(
            self.style.SUCCESS(
                f"Clinic manager {user.username!r} created. Sign in and add the staff on the "
                "Staff page."
            )
        )

    def _prompt(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError(
                f"No password: pass --password or set {PASSWORD_ENV} (no terminal to ask on)."
            )
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ. No account created.")
        if not first:
            raise CommandError("The password is empty. No account created.")
        return first
