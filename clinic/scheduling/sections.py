"""This app's sections of the patient page and of Today (patients/sections.py),
registered from ClinicConfig.ready().

The patient page's "Appointments" shows upcoming and past visits, status only (no
clinical content, so front desk sees it too). Today shows a clinician their own visits
and front desk the clinic's day.
"""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from patients.links import path_maker, when_maker
from patients.sections import Section

from . import selectors


def load_appointments(request, patient) -> dict:
    """Queries: upcoming and past visits (one), and (for those who book) active plans."""
    data = selectors.patient_appointments(patient)
    data["upcoming_html"] = _visit_rows_html(data["upcoming"])
    data["past_html"] = _visit_rows_html(data["past"])
    data["plans"] = (
        selectors.active_plans_for(patient)
        if request.user.has_perm("clinic.add_appointment") and patient.archived_at is None
        else []
    )
    return data


def _visit_rows_html(visits: list[selectors.VisitRow]) -> SafeString:
    """The patient page's visits, one ``<tr>`` each, written once here rather than by a
    template loop of five values a row."""
    return mark_safe(  # noqa: S308 - every value is escaped or made escaped (status_html)
        "".join(
            f"<tr><td>{escape(visit.when)}</td><td>{escape(visit.kind)}</td>"
            f"<td>{escape(visit.practitioner)}</td><td>{visit.status_html}</td>"
            f'<td class="text-end"><a href="{visit.link}" '
            f'aria-label="Open visit on {escape(visit.day)}">Open</a></td></tr>'
            for visit in visits
        )
    )


def load_therapist_day(request) -> dict:
    data = selectors.therapist_day(request.user)
    data["visits_html"] = _therapist_visits_html(data["visits"])
    return data


def _therapist_visits_html(visits: list[selectors.TherapistVisit]) -> SafeString:
    """The therapist's visits of the day, one ``<li>`` each, made once per page: a path
    reversed once, times formatted here, every value escaped once (patients/links.py;
    docs/decisions.md, "Pages at a clinic group's size")."""
    patient_link = path_maker("patients:detail", 1)
    hour = when_maker("H:i")
    out = []
    for visit in visits:
        badge = selectors.status_badge(visit.status, visit.late_cancellation)
        room = f" · {escape(visit.room_name)}" if visit.room_name else ""
        out.append(
            '<li class="list-group-item d-flex justify-content-between align-items-center '
            'gap-2">\n<span><strong>'
            f"{hour(visit.starts_at)}–{hour(visit.ends_at)}</strong>\n"
            f'<a href="{patient_link(visit.patient_id)}">{escape(visit.patient_name)}'
            f'</a>\n<span class="text-muted">· {escape(visit.kind_label)}{room}'
            f"</span></span>\n{badge}\n</li>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def load_front_desk_day(request) -> dict:
    data = selectors.front_desk_day()
    data["arrivals_html"] = _arrivals_html(
        data["arrivals"], get_token(request), request.get_full_path()
    )
    return data


def _arrivals_html(arrivals: list[selectors.ListedVisit], csrf: str, back: str) -> SafeString:
    """The listed arrivals, one ``<li>`` each with its check-in (and, once late, no-show)
    form, written once here rather than by a template loop of some twenty values a row."""
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf)}">'
    back_input = f'<input type="hidden" name="next" value="{escape(back)}">'
    out = []
    for arrival in arrivals:
        visit = arrival.visit
        name = escape(visit.patient_name)
        room = f" · {escape(visit.room_name)}" if visit.room_name else ""
        late, no_show = "", ""
        if arrival.late:
            late = '<span class="badge text-bg-warning">Late</span>'
            no_show = (
                f'<form method="post" action="{escape(arrival.no_show)}">{token}{back_input}'
                '<button class="btn btn-sm btn-outline-secondary" type="submit" '
                f'aria-label="Mark {name} as a no-show">No-show</button></form>'
            )
        out.append(
            '\n  <li class="list-group-item d-flex flex-wrap justify-content-between '
            f'align-items-center gap-2" data-arrival="{visit.id}">\n'
            f"    <span><strong>{escape(arrival.time)}</strong> "
            f'<a href="{escape(arrival.link)}">{name}</a>\n'
            f'      <span class="text-muted">· {escape(arrival.kind)} · '
            f"{escape(visit.practitioner_name)}{room}</span>\n"
            f"      {late}</span>\n"
            '    <span class="d-flex gap-1">\n'
            f'      <form method="post" action="{escape(arrival.check_in)}">{token}{back_input}'
            '<button class="btn btn-sm btn-primary" type="submit" '
            f'aria-label="Check in {name}">Check in</button></form>\n'
            f"      {no_show}\n"
            "    </span>\n"
            "  </li>\n  "
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


PATIENT_SECTIONS = [
    Section(
        key="appointments",
        title="Appointments",
        template="clinic/scheduling/patient_section.html",
        permission="clinic.view_appointment",
        load=load_appointments,
        order=20,
        clinical=False,
    ),
]

TODAY_SECTIONS = [
    # A clinician's own visits: held by those who write visit notes (therapists).
    Section(
        key="therapist-day",
        title="Your clinical day",
        template="clinic/scheduling/today_therapist.html",
        permission="treatments.add_visitnote",
        load=load_therapist_day,
        order=10,
    ),
    # The clinic's day with its gaps: held by those who book (front desk).
    Section(
        key="front-desk-day",
        title="Front desk",
        template="clinic/scheduling/today_front_desk.html",
        permission="clinic.add_appointment",
        load=load_front_desk_day,
        order=10,
    ),
]
