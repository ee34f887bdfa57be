"""The patient page's rows are written in Python (the assessment timeline, plans, notes,
visits, adherence days; patients/links.py): each says what the template loop it replaced
said, in English and in Spanish. The templates below are those loops, kept here as the
reference."""

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone, translation

from clinic.scheduling import selectors as scheduling_selectors
from clinic.scheduling.sections import _visit_rows_html
from patients import selectors, services
from patients.models import Assessment
from patients.sections import assessment_timeline
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    PractitionerFactory,
    TherapistFactory,
    TreatmentPlanFactory,
    VisitNoteFactory,
)
from tests.markup import assert_same_markup
from tests.treatments.helpers import signed_assessment, technique
from treatments import selectors as treatment_selectors
from treatments.models import PlannedTechnique, PlanStatus, VisitNote
from treatments.sections import note_rows, plan_items

pytestmark = pytest.mark.django_db

TIMELINE = """{% for a in assessments %}
  <li class="border-start border-3 ps-3 mb-3 {% if a.is_signed %}border-success{% else %}border-warning{% endif %}" data-assessment="{{ a.pk }}">
    <div class="d-flex flex-wrap gap-2 align-items-baseline">
      <a class="fw-semibold" href="{% url 'patients:assessment_detail' a.patient_id a.pk %}">{{ a.get_kind_display }}</a>
      <span class="text-muted">{{ a.assessed_at|date:"j M Y, H:i" }} · {{ a.get_region_display }}, {{ a.get_side_display|lower }} · {{ a.therapist.get_full_name|default:a.therapist.username }}</span>
      {% if a.is_signed %}<span class="badge text-bg-success">Signed</span>{% else %}<span class="badge text-bg-warning">Draft</span>{% endif %}
      {% if a.amendment_count %}<span class="badge text-bg-info">{{ a.amendment_count }} amendment{{ a.amendment_count|pluralize }}</span>{% endif %}
      {% if a.xray_indicated %}<span class="badge text-bg-danger">X-ray indicated (Ottawa)</span>{% endif %}
    </div>
    <div class="small">Pain now {{ a.pain_now }}/10{% if a.lefs_total is not None %} · LEFS {{ a.lefs_total }}/80 ({{ a.lefs_percent }}%){% endif %}{% if a.suspected_cause_labels %} · {{ a.suspected_cause_labels|join:", " }}{% endif %}</div>
    {% if a.precaution_labels %}<div class="small text-danger">Precautions: {{ a.precaution_labels|join:", " }}</div>{% endif %}
  </li>
{% endfor %}"""  # noqa: E501

PLANS = """{% for plan in plans %}
  <li class="mb-2" data-plan="{{ plan.pk }}">
    <a href="{% url 'treatments:plan_detail' plan.pk %}">Plan from {{ plan.start_date|date:"j M Y" }}</a>
    <span class="badge {% if plan.status == 'active' %}text-bg-success{% else %}text-bg-secondary{% endif %}">{{ plan.get_status_display }}</span>
    <span class="text-muted small">· {{ plan.visits_per_week }}×/week for {{ plan.weeks }} weeks · {{ plan.therapist.get_full_name|default:plan.therapist.username }}</span>
    {% if plan.techniques.all %}
    <div class="small">
      {% for pt in plan.techniques.all %}{{ pt.technique.name }}{% if pt.grade %} {{ pt.grade }}{% endif %} ({{ pt.target }}){% if pt.override_reason %} <span class="badge text-bg-danger">override</span>{% elif pt.restriction == "caution" %} <span class="badge text-bg-warning">caution</span>{% endif %}{% if not forloop.last %}; {% endif %}{% endfor %}
    </div>
    {% endif %}
  </li>
{% endfor %}"""  # noqa: E501

NOTES = """{% for note in notes %}
  <tr data-note="{{ note.pk }}">
    <td><a href="{% url 'treatments:note_detail' note.pk %}">{{ note.visited_at|date:"D j M Y, H:i" }}</a></td>
    <td>{{ note.therapist.get_full_name|default:note.therapist.username }}</td>
    <td>{{ note.pain_before|default_if_none:"–" }} → {{ note.pain_after|default_if_none:"–" }}</td>
    <td>{% if note.status == "signed" %}<span class="badge text-bg-success">Signed</span>{% else %}<span class="badge text-bg-warning">Draft</span>{% endif %}</td>
  </tr>
{% endfor %}"""  # noqa: E501

VISITS = """{% for visit in visits %}<tr><td>{{ visit.when }}</td><td>{{ visit.kind }}</td><td>{{ visit.practitioner }}</td><td>{{ visit.status_html }}</td><td class="text-end"><a href="{{ visit.link }}" aria-label="Open visit on {{ visit.day }}">Open</a></td></tr>{% endfor %}"""  # noqa: E501

DAYS = """{% for day in adherence.days %}<li class="adherence-day adherence-{{ day.state }}" title="{{ day.label }}"><span class="visually-hidden">{{ day.label }}</span></li>{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["en", "es"])
def test_timeline_rows_say_what_the_template_said(therapist, values, language):
    patient = PatientFactory()
    nameless = TherapistFactory(first_name="", last_name="")
    now = timezone.now()
    found = {
        "assessed_at": now - dt.timedelta(days=3),
        "suspected_causes": ["other", "arthritis"],
        "suspected_cause_other": "<b>Sprain</b> & more",
        "precautions": ["fracture", "dvt"],
    }
    amended = services.assessment_create(
        patient=patient, acting_user=therapist, values=values(**found)
    )
    services.assessment_sign(assessment=amended, acting_user=therapist)
    for pain in (3, 4):
        services.assessment_amend(
            assessment=amended,
            values=values(**found, pain_now=pain),
            reason="Typo",
            acting_user=therapist,
        )
    Assessment.objects.filter(pk=amended.pk).update(xray_indicated=True, lefs_total=50)
    once = services.assessment_create(
        patient=patient, acting_user=therapist, values=values(assessed_at=now - dt.timedelta(2))
    )
    services.assessment_sign(assessment=once, acting_user=therapist)
    services.assessment_amend(
        assessment=once,
        values=values(assessed_at=now - dt.timedelta(days=2), pain_now=6),
        reason="Typo",
        acting_user=therapist,
    )
    draft = services.assessment_create(
        patient=patient,
        acting_user=nameless,
        values=values(kind="reassessment", region="ankle", side="bilateral", precautions=[]),
    )
    Assessment.objects.filter(pk=draft.pk).update(lefs_total=None)
    # The template read the assessments as the list once did: model instances.
    assessments = (
        Assessment.objects.filter(patient=patient)
        .annotate(amendment_count=Count("amendments"))
        .order_by("-assessed_at", "-id")
    )
    with translation.override(language):
        rows, _ = selectors.recent_assessments(patient)
        written = assessment_timeline(rows)
        assert_same_markup(TIMELINE, {"assessments": assessments}, written)
        listed = selectors.timeline_rows(selectors.patient_assessments(patient))
        assert assessment_timeline(listed) == written
    assert "2 amendments" in written and "1 amendment<" in written and "Draft" in written
    assert "&lt;b&gt;Sprain&lt;/b&gt; &amp; more" in written
    assert ("62,5%" if language == "es" else "62.5%") in written


@pytest.mark.parametrize("language", ["en", "es"])
def test_plan_items_say_what_the_template_said(language):
    assessment = signed_assessment()
    bare = TreatmentPlanFactory(assessment=assessment, status=PlanStatus.COMPLETED)
    planned = TreatmentPlanFactory(assessment=assessment)
    PlannedTechnique.objects.create(
        plan=planned, technique=technique("joint_mobilization"), grade="II", target="<Knee>"
    )
    PlannedTechnique.objects.create(
        plan=planned,
        technique=technique("muscle_energy"),
        target="Hip",
        restriction="caution",
    )
    PlannedTechnique.objects.create(
        plan=planned,
        technique=technique("joint_mobilization"),
        grade="III",
        target="Ankle",
        restriction="contraindicated",
        override_reason="Discussed & agreed",
    )
    with translation.override(language):
        rows = treatment_selectors.plans_for_patient(assessment.patient, limit=11)
        written = plan_items(rows)
        plans = list(treatment_selectors.patient_plans(assessment.patient))
        assert_same_markup(PLANS, {"plans": plans}, written)
    assert [plan.id for plan in rows] == [plan.pk for plan in plans]
    assert {bare.pk, planned.pk} == {plan.id for plan in rows}
    assert "&lt;Knee&gt;" in written and "override" in written and "caution" in written


@pytest.mark.parametrize("language", ["en", "es"])
def test_note_rows_say_what_the_template_said(language):
    patient = PatientFactory()
    nameless = TherapistFactory(first_name="", last_name="")
    VisitNoteFactory(patient=patient, pain_before=None, pain_after=3)
    VisitNoteFactory(
        patient=patient,
        therapist=nameless,
        pain_before=6,
        pain_after=None,
        status="signed",
        visited_at=timezone.now() - dt.timedelta(days=1),
    )
    notes = VisitNote.objects.filter(patient=patient).order_by("-visited_at", "-id")
    with translation.override(language):
        written = note_rows(treatment_selectors.notes_for_patient(patient, limit=11))
        assert_same_markup(NOTES, {"notes": notes}, written)
        listed = treatment_selectors.note_row_values(treatment_selectors.patient_notes(patient))
        assert note_rows(listed) == written


@pytest.mark.parametrize("language", ["en", "es"])
def test_visit_rows_say_what_the_template_said(language):
    patient = PatientFactory()
    practitioner = PractitionerFactory(display_name="Dr <Rivera> & Co")
    now = timezone.now()
    AppointmentFactory(patient=patient, practitioner=practitioner)
    AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        starts_at=now - dt.timedelta(days=2),
        status="cancelled",
        late_cancellation=True,
    )
    with translation.override(language):
        data = scheduling_selectors.patient_appointments(patient)
        for visits in (data["upcoming"], data["past"]):
            assert len(visits) == 1
            assert_same_markup(VISITS, {"visits": visits}, _visit_rows_html(visits))


def test_adherence_days_say_what_the_template_said():
    today = timezone.localdate()
    adherence = treatment_selectors.adherence_compute(
        start_date=today - dt.timedelta(days=10),
        end_date=None,
        weekdays=[0, 2, 4],
        completed={today - dt.timedelta(days=n) for n in (1, 2, 3)},
        today=today,
    )
    assert_same_markup(DAYS, {"adherence": adherence}, adherence.days_html)
