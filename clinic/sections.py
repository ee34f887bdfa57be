"""Clinic operations' sections of Today (patients/sections.py), registered from
ClinicConfig.ready(): a therapist's needs-attention list and the manager's links. Each
manager link checks its own permission; the section needs the first link's, the staff
list."""

from patients.sections import Section

from .attention.sections import load_attention


def load_manager_links(request) -> dict:
    return {}


TODAY_SECTIONS = [
    # Clinical: held by therapists only (clinic/roles.py), never front desk or managers.
    Section(
        key="needs-attention",
        title="Needs attention",
        template="clinic/attention/today.html",
        permission="clinic.view_attentionacknowledgement",
        load=load_attention,
        order=15,
    ),
    Section(
        key="manager-links",
        title="Clinic management",
        template="clinic/today/manager.html",
        permission="auth.view_user",
        load=load_manager_links,
        order=900,
    ),
]
