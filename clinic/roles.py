"""Roles are Django groups carrying permissions.

The groups themselves are created by a migration (``clinic/migrations/
0003_create_role_groups.py``); the permissions each role holds are listed here and
re-applied after every ``migrate`` (``clinic.receivers.sync_role_permissions``) so that
a permission added by a later migration reaches its role without another data
migration. Group names are for assigning a role (staff accounts, seeding); every
decision about what a user may see or do checks a permission: views with
``permission_required``, templates with ``perms``, the patient page's and Today's
sections with ``user.has_perm`` (patients/sections.py). So a clinic can grant a single
permission to one person if it must.
"""

THERAPIST = "Therapist"
FRONT_DESK = "Front desk"
CLINIC_MANAGER = "Clinic manager"
ROLES = [THERAPIST, FRONT_DESK, CLINIC_MANAGER]

# "app_label.codename" for each role. Front desk gets no clinical permission at all:
# no assessments, pain reports, plans, notes or programs (minimum necessary).
ROLE_PERMISSIONS: dict[str, list[str]] = {
    THERAPIST: [
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
        "patients.view_assessment",
        "patients.add_assessment",
        "patients.change_assessment",
        "patients.sign_assessment",
        "patients.add_assessmentaddendum",
        "patients.view_painreport",
        "patients.add_painreport",
        "treatments.view_technique",
        "treatments.view_precautionrule",
        "treatments.view_treatmentplan",
        "treatments.add_treatmentplan",
        "treatments.change_treatmentplan",
        "treatments.view_visitnote",
        "treatments.add_visitnote",
        "treatments.change_visitnote",
        "treatments.sign_visitnote",
        "treatments.add_visitnoteaddendum",
        "treatments.view_exercise",
        "treatments.view_homeexerciseprogram",
        "treatments.add_homeexerciseprogram",
        "treatments.change_homeexerciseprogram",
        "treatments.view_exercisecompletion",
        "treatments.add_exercisecompletion",
        "clinic.view_appointment",
        "clinic.view_practitioner",
        "clinic.view_room",
        "clinic.view_attentionacknowledgement",
        "clinic.add_attentionacknowledgement",
        "clinic.view_waitlistentry",
        "clinic.add_waitlistentry",
        "clinic.view_caseload_reports",
    ],
    FRONT_DESK: [
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
        "clinic.view_practitioner",
        "clinic.view_room",
        "clinic.view_appointment",
        "clinic.add_appointment",
        "clinic.change_appointment",
        "clinic.view_reminder",
        "clinic.change_reminder",
        # The stranded-visit worklists of closures and time off: the front desk moves
        # or cancels those visits (nothing clinical is on them).
        "clinic.view_clinicclosure",
        "clinic.view_timeoff",
        "clinic.view_waitlistentry",
        "clinic.add_waitlistentry",
        "clinic.change_waitlistentry",
    ],
    CLINIC_MANAGER: [
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "patients.view_patient",
        "clinic.view_practitioner",
        "clinic.add_practitioner",
        "clinic.change_practitioner",
        "clinic.view_workinghours",
        "clinic.add_workinghours",
        "clinic.change_workinghours",
        "clinic.delete_workinghours",
        "clinic.view_timeoff",
        "clinic.add_timeoff",
        "clinic.change_timeoff",
        "clinic.delete_timeoff",
        "clinic.view_clinicclosure",
        "clinic.add_clinicclosure",
        "clinic.change_clinicclosure",
        "clinic.delete_clinicclosure",
        "clinic.view_room",
        "clinic.add_room",
        "clinic.change_room",
        "clinic.view_schedulingsettings",
        "clinic.change_schedulingsettings",
        "clinic.view_appointment",
        "clinic.view_reminder",
        "clinic.change_reminder",
        "clinic.view_auditevent",
        "clinic.export_auditevent",
        "clinic.view_waitlistentry",
        "clinic.view_caseload_reports",
        "treatments.view_technique",
        "treatments.change_technique",
        "treatments.view_precautionrule",
        "treatments.add_precautionrule",
        "treatments.change_precautionrule",
        "treatments.delete_precautionrule",
        "treatments.view_exercise",
        "treatments.add_exercise",
        "treatments.change_exercise",
    ],
}
