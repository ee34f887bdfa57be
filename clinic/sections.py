"""Clinic operations' section of Today (patients/sections.py), registered from
ClinicConfig.ready(): the manager's links. Each link checks its own permission; the
section needs the first link's, the staff list."""

from patients.sections import Section


def load_manager_links(request) -> dict:
    return {}


TODAY_SECTIONS = [
    Section(
        key="manager-links",
        title="Clinic management",
        template="clinic/today/manager.html",
        permission="auth.view_user",
        load=load_manager_links,
        order=900,
    ),
]
