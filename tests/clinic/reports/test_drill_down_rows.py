"""The outcomes table's and the drill-down's rows, printed as one string built once
(clinic/reports/views.py, ``_outcome_rows_html`` and ``_patient_rows_html``): the same
cells the templates printed, names escaped, and no URL look-up per row."""

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from clinic.reports import selectors, views
from tests.clinic.reports.helpers import PARAMS, START, episode
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

DRILL = "reports:outcomes_patients"
DAY = START + dt.timedelta(days=7)


def test_rows_carry_the_link_figures_and_an_escaped_name(client_for, therapist):
    patient = PatientFactory(first_name="<b>Ana</b>", last_name="O'Neil & Co")
    reached = episode(
        therapist,
        patient=patient,
        start=DAY,
        lefs_total=40,
        follow_ups=[(14, {"lefs_total": 49})],
    )
    episode(therapist, start=DAY, lefs_total=30, follow_ups=[(7, {"lefs_total": 26})])
    episode(therapist, start=DAY, lefs_total=None)

    body = client_for(therapist).get(reverse(DRILL), PARAMS).content.decode()

    assert "<b>Ana</b>" not in body
    assert "&lt;b&gt;Ana&lt;/b&gt; O&#x27;Neil &amp; Co" in body
    link = reverse("patients:outcomes", args=[reached.patient_id])
    assert f'<tr data-patient="{reached.patient_id}">' in body
    assert f'<a href="{link}">' in body
    assert f"<td>{DAY.day} {DAY:%b} {DAY.year}</td>" in body
    assert '<td class="text-end">+9</td>' in body and "<td>Yes</td>" in body
    assert '<td class="text-end">14.0</td>' in body
    assert '<td class="text-end">-4</td>' in body and "<td>No</td>" in body
    assert "<td>Not measured again</td>" in body


@pytest.mark.parametrize("patients", [1, 6])
def test_the_patient_link_is_reversed_once_whatever_the_rows(client_for, therapist, patients):
    for _ in range(patients):
        episode(therapist, start=DAY, lefs_total=40, follow_ups=[(14, {"lefs_total": 50})])
    client = client_for(therapist)
    with mock.patch.object(views, "reverse", wraps=views.reverse) as counted:
        response = client.get(reverse(DRILL), PARAMS)
    assert len(response.context["rows"]) == patients
    assert [call.args[0] for call in counted.call_args_list] == ["patients:outcomes"]


def test_the_outcomes_table_escapes_the_therapists_name(client_for, manager, therapist):
    therapist.practitioner.display_name = "<i>Kim</i> & Co"
    therapist.practitioner.save()
    episode(therapist, start=DAY, lefs_total=40, follow_ups=[(14, {"lefs_total": 50})])

    body = client_for(manager).get(reverse("reports:outcomes"), PARAMS).content.decode()

    assert "<i>Kim</i>" not in body
    assert f'data-therapist="{therapist.pk}">' in body
    assert '<th scope="row" colspan="3">&lt;i&gt;Kim&lt;/i&gt; &amp; Co</th>' in body
    assert "fewer than 5 measured" in body  # one measured episode: no median for a manager


def test_a_long_drill_down_pages_by_name_and_keeps_the_period(client_for, therapist, monkeypatch):
    monkeypatch.setattr(selectors, "EPISODES_PER_PAGE", 2)
    names = ["Abel", "Baker", "Cohen", "Diaz", "Evans"]
    for name in names:
        episode(
            therapist,
            patient=PatientFactory(last_name=name),
            start=DAY,
            lefs_total=40,
            follow_ups=[(14, {"lefs_total": 50})],
        )
    client = client_for(therapist)
    shown = []
    for number in (1, 2, 3):
        response = client.get(reverse(DRILL), {**PARAMS, "page": number})
        page = response.context["page"]
        shown += [row.name.split()[-1] for row in response.context["rows"]]
        assert page.has_next == (number < 3)
        body = response.content.decode()
        if page.has_next:
            assert f"page={number + 1}" in body and "date_from=" in body
    assert shown == names
    # Each page's audit event names only the patients it showed.
    assert "page 3: 1 episodes" in AuditEvent.objects.order_by("-id").first().detail
    # A page past the end says so rather than failing; a bad page number is page 1.
    assert client.get(reverse(DRILL), {**PARAMS, "page": 9}).status_code == 200
    response = client.get(reverse(DRILL), {**PARAMS, "page": "x"})
    assert response.context["page"].number == 1
