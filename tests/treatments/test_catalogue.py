"""The seeded catalogue and the manager's catalogue pages."""

import importlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.models import AuditEvent
from patients.models import Precaution
from tests.treatments.helpers import exercise, technique
from treatments import services
from treatments.catalogue import (
    DEFAULT_PRECAUTION_RULES,
    DEFAULT_PRECAUTION_TABLE,
    catalogue_ensure,
)
from treatments.models import Exercise, PrecautionRule, Technique

pytestmark = pytest.mark.django_db


# The data migration.


def test_four_techniques_are_seeded_with_their_grades_and_descriptions():
    grades = {t.code: t.allowed_grades for t in Technique.objects.all()}
    assert grades == {
        "joint_mobilization": ["I", "II", "III", "IV"],
        "hvla_thrust": ["V"],
        "soft_tissue_mobilization": [],
        "muscle_energy": [],
    }
    assert all(len(t.description) > 40 for t in Technique.objects.all())


# docs/clinical.md §5; ranges are seeded at their lower bound.
EXPECTED_DOSES = {
    # code: (sets, reps, hold s, times/day, days/week)
    "standing-calf-stretch": (1, 3, 30, 2, 7),
    "calf-raises": (2, 10, 0, 1, 6),
    "lateral-step-downs": (3, 10, 0, 1, 7),
    "standing-side-leg-raise": (2, 10, 3, 1, 7),
    "single-leg-romanian-deadlift": (2, 8, 0, 1, 2),
    "ankle-mobilization": (1, 10, 15, 2, 7),
}


@pytest.mark.parametrize(("code", "dose"), EXPECTED_DOSES.items())
def test_six_exercises_are_seeded_with_default_doses_and_both_languages(code, dose):
    ex = exercise(code)
    assert (
        ex.default_sets,
        ex.default_reps,
        ex.default_hold_seconds,
        ex.default_times_per_day,
        ex.default_days_per_week,
    ) == dose
    assert ex.name_es and ex.active
    assert len(ex.instructions_en.splitlines()) >= 4  # step by step
    assert len(ex.instructions_es.splitlines()) == len(ex.instructions_en.splitlines())


def test_lateral_step_down_starts_on_a_10_cm_step():
    assert "10 cm" in exercise("lateral-step-downs").instructions_en
    assert "10 cm" in exercise("lateral-step-downs").instructions_es


def test_catalogue_ensure_restores_missing_rows_and_keeps_edits():
    Technique.objects.filter(code="muscle_energy").delete()  # cascades its rules
    PrecautionRule.objects.all().delete()
    Exercise.objects.filter(code="calf-raises").delete()
    edited = technique("joint_mobilization")
    edited.description = "Clinic's own words."
    edited.save()
    catalogue_ensure()
    assert Technique.objects.count() == 4
    assert PrecautionRule.objects.count() == 35
    assert Exercise.objects.filter(code="calf-raises").exists()
    assert technique("joint_mobilization").description == "Clinic's own words."


def test_catalogue_ensure_does_not_refill_a_table_the_clinic_edited():
    PrecautionRule.objects.filter(precaution="myositis").delete()
    catalogue_ensure()
    assert not PrecautionRule.objects.filter(precaution="myositis").exists()


# Who may open the catalogue pages.

PAGES = [
    ("treatments:catalogue", None),
    ("treatments:technique_edit", "technique"),
    ("treatments:precaution_table", None),
    ("treatments:precaution_table_restore", None),
    ("treatments:exercise_create", None),
    ("treatments:exercise_edit", "exercise"),
]


def _url(name, kind):
    if kind == "technique":
        return reverse(name, args=[technique("hvla_thrust").pk])
    if kind == "exercise":
        return reverse(name, args=[exercise("calf-raises").pk])
    return reverse(name)


@pytest.mark.parametrize(("name", "kind"), PAGES)
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("manager", True), ("front_desk", False), ("therapist", False)],
)
def test_catalogue_pages_by_role(client_for, role_users, name, kind, role, allowed):
    response = client_for(role_users[role]).get(_url(name, kind))
    if name == "treatments:catalogue" and role == "therapist":
        assert response.status_code == 200  # therapists read the catalogue, edit nothing
        page = response.content.decode()
        assert "Edit table" not in page and "Add exercise" not in page
        return
    assert response.status_code == (200 if allowed else 403)


def test_catalogue_nav_entry_shows_for_managers_and_therapists_only(client_for, role_users):
    link = reverse("treatments:catalogue")
    for role, shown in (("manager", True), ("therapist", True), ("front_desk", False)):
        page = client_for(role_users[role]).get("/").content.decode()
        assert (f'href="{link}"' in page) is shown, role


def test_catalogue_page_query_count(client_for, manager, django_assert_num_queries):
    client = client_for(manager)
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 techniques,
    # 6 precaution rules, 7 exercises. (No query for the user's groups: the navigation
    # checks permissions.)
    with django_assert_num_queries(7):
        client.get(reverse("treatments:catalogue"))
    Exercise.objects.create(code="wall-sit", name="Wall sit", instructions_en="Sit.")
    with django_assert_num_queries(7):
        client.get(reverse("treatments:catalogue"))


# Manager edits.


def test_manager_edits_a_technique_description(client_for, manager):
    hvla = technique("hvla_thrust")
    response = client_for(manager).post(
        reverse("treatments:technique_edit", args=[hvla.pk]), {"description": "Our wording."}
    )
    assert response.status_code == 302
    hvla.refresh_from_db()
    assert hvla.description == "Our wording."
    assert hvla.allowed_grades == ["V"]
    assert AuditEvent.objects.filter(action="update", object_type="treatments.technique").exists()


def test_empty_or_huge_description_is_a_form_error(client_for, manager):
    hvla = technique("hvla_thrust")
    url = reverse("treatments:technique_edit", args=[hvla.pk])
    for bad in ("", "x" * 5001):
        assert (
            "description"
            in client_for(manager).post(url, {"description": bad}).context["form"].errors
        )


def _rules():
    """The table's rows as they are stored: (precaution, technique code) -> level."""
    return {
        (r.precaution, r.technique.code): r.level
        for r in PrecautionRule.objects.select_related("technique")
    }


def _all_cells():
    codes = list(Technique.objects.filter(active=True).values_list("code", flat=True))
    return [(p, t) for p in Precaution.values for t in codes]


def _table_post(changes):
    """A complete POST of the table as it stands, with ``changes`` applied."""
    current = _rules()
    data = {f"cell__{p}__{t}": current.get((p, t), "none") for p, t in _all_cells()}
    for (code, tech_code), level in changes.items():
        data[f"cell__{code}__{tech_code}"] = level
    return data


def test_manager_changes_precaution_cells(client_for, manager):
    response = client_for(manager).post(
        reverse("treatments:precaution_table"),
        _table_post(
            {
                ("myositis", "joint_mobilization"): "caution",  # new cell
                ("fracture", "joint_mobilization"): "contraindicated",  # changed
                ("dvt", "soft_tissue_mobilization"): "none",  # cleared
            }
        ),
    )
    assert response.status_code == 302
    level = _rules()
    assert level[("myositis", "joint_mobilization")] == "caution"
    assert level[("fracture", "joint_mobilization")] == "contraindicated"
    assert ("dvt", "soft_tissue_mobilization") not in level
    assert len(level) == 35


def test_each_changed_cell_is_audited_with_its_level_before_and_after(client_for, manager):
    client_for(manager).post(
        reverse("treatments:precaution_table"),
        _table_post(
            {
                ("myositis", "joint_mobilization"): "caution",
                ("osteoporosis", "hvla_thrust"): "caution",
                ("dvt", "soft_tissue_mobilization"): "none",
            }
        ),
    )
    events = AuditEvent.objects.filter(action="update", detail__startswith="precaution table")
    assert sorted(e.detail for e in events) == [
        "precaution table: hvla_thrust × osteoporosis: contraindicated → caution",
        "precaution table: joint_mobilization × myositis: none → caution",
        "precaution table: soft_tissue_mobilization × dvt: contraindicated → none",
    ]
    assert {(e.actor, e.object_type) for e in events} == {(manager, "treatments.technique")}
    hvla_event = events.get(detail__contains="osteoporosis")
    assert hvla_event.object_id == str(technique("hvla_thrust").pk)


def test_saving_an_unchanged_table_writes_no_event(client_for, manager):
    response = client_for(manager).post(reverse("treatments:precaution_table"), _table_post({}))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(detail__startswith="precaution table").exists()


def test_post_without_cells_is_a_form_error_and_keeps_every_rule(client_for, manager):
    before = _rules()
    response = client_for(manager).post(reverse("treatments:precaution_table"), {"x": "1"})
    assert response.status_code == 200
    assert "40 of 40 cells have no valid level" in response.context["form"].non_field_errors()[0]
    assert "Choose a level for Suspected or recent fracture / " in response.content.decode()
    assert _rules() == before
    assert len(before) == 35
    assert not AuditEvent.objects.filter(detail__startswith="precaution table").exists()


def test_hvla_stays_contraindicated_for_a_fracture_after_a_bodiless_post(client_for, manager):
    from tests.factories import AssessmentFactory
    from treatments.selectors import restrictions_for_assessment

    client_for(manager).post(reverse("treatments:precaution_table"), {"x": "1"})
    assessment = AssessmentFactory(precautions=["fracture"])
    assert restrictions_for_assessment(assessment)["hvla_thrust"].level == "contraindicated"


@pytest.mark.parametrize("missing", [("fracture", "hvla_thrust"), ("myositis", "muscle_energy")])
@pytest.mark.parametrize("value", [None, "", "forbidden"])
def test_a_missing_blank_or_unknown_cell_is_an_error_never_none(
    client_for, manager, missing, value
):
    before = _rules()
    data = _table_post({("dvt", "hvla_thrust"): "caution"})  # a real change alongside
    name = f"cell__{missing[0]}__{missing[1]}"
    if value is None:
        del data[name]
    else:
        data[name] = value
    response = client_for(manager).post(reverse("treatments:precaution_table"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [name, "__all__"]
    assert "1 of 40 cells have no valid level" in form.non_field_errors()[0]
    assert _rules() == before


def test_service_refuses_an_incomplete_table(manager):
    before = _rules()
    with pytest.raises(ValidationError, match="40 cells missing"):
        services.precaution_table_update(cells={}, acting_user=manager)
    cells = {(p, t): before.get((p, t), "none") for p, t in _all_cells()}
    del cells[("fracture", "hvla_thrust")]
    with pytest.raises(ValidationError, match=r"1 cells missing \(fracture × hvla_thrust\)"):
        services.precaution_table_update(cells=cells, acting_user=manager)
    assert _rules() == before


@pytest.mark.parametrize("level", ["", "forbidden", None])
def test_service_refuses_a_cell_without_a_valid_level(manager, level):
    before = _rules()
    cells = {(p, t): before.get((p, t), "none") for p, t in _all_cells()}
    cells[("myositis", "joint_mobilization")] = "caution"
    cells[("fracture", "hvla_thrust")] = level
    with pytest.raises(ValidationError, match="Unknown level"):
        services.precaution_table_update(cells=cells, acting_user=manager)
    assert _rules() == before


def test_service_refuses_unknown_cells(manager):
    before = _rules()
    cells = {(p, t): before.get((p, t), "none") for p, t in _all_cells()}
    cells[("pregnancy", "hvla_thrust")] = "caution"
    with pytest.raises(ValidationError, match="1 unknown cells"):
        services.precaution_table_update(cells=cells, acting_user=manager)
    assert _rules() == before


@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_only_managers_change_the_table(client_for, role_users, role):
    response = client_for(role_users[role]).post(
        reverse("treatments:precaution_table"), _table_post({("dvt", "hvla_thrust"): "none"})
    )
    assert response.status_code == 403
    assert _rules() == DEFAULT_PRECAUTION_RULES


# The published defaults (docs/clinical.md §4).


def test_migration_seeds_exactly_the_published_default_table():
    seed = importlib.import_module(
        "treatments.migrations.0002_seed_technique_and_exercise_catalogue"
    )
    assert seed.DEFAULT_PRECAUTION_RULES == DEFAULT_PRECAUTION_RULES
    assert _rules() == DEFAULT_PRECAUTION_RULES


def test_published_table_has_every_precaution_and_technique():
    assert {p for p, _ in DEFAULT_PRECAUTION_TABLE} == set(Precaution.values)
    assert {t for _, t in DEFAULT_PRECAUTION_TABLE} == set(
        Technique.objects.values_list("code", flat=True)
    )
    assert len(DEFAULT_PRECAUTION_TABLE) == 40


def _edit_table():
    PrecautionRule.objects.filter(precaution="fracture", technique__code="hvla_thrust").update(
        level="caution"
    )
    PrecautionRule.objects.filter(precaution="myositis").delete()
    PrecautionRule.objects.create(
        precaution="myositis", technique=technique("hvla_thrust"), level="caution"
    )


def test_manager_restores_the_published_defaults(client_for, manager):
    _edit_table()
    response = client_for(manager).post(
        reverse("treatments:precaution_table_restore"), {"confirm": "on"}
    )
    assert response.status_code == 302
    assert _rules() == DEFAULT_PRECAUTION_RULES
    events = AuditEvent.objects.filter(detail__startswith="published default restored")
    assert sorted(e.detail for e in events) == [
        "published default restored: hvla_thrust × fracture: caution → contraindicated",
        "published default restored: hvla_thrust × myositis: caution → none",
        "published default restored: muscle_energy × myositis: none → contraindicated",
        "published default restored: soft_tissue_mobilization × myositis: none → caution",
    ]
    assert {e.actor for e in events} == {manager}


def test_restore_refills_an_emptied_table(manager):
    PrecautionRule.objects.all().delete()
    assert services.precaution_table_restore_defaults(acting_user=manager) == 35
    assert _rules() == DEFAULT_PRECAUTION_RULES
    assert services.precaution_table_restore_defaults(acting_user=manager) == 0


def test_restore_without_confirmation_changes_nothing(client_for, manager):
    _edit_table()
    before = _rules()
    response = client_for(manager).post(reverse("treatments:precaution_table_restore"), {})
    assert response.status_code == 200
    assert "Tick the box to confirm" in response.content.decode()
    assert _rules() == before
    assert not AuditEvent.objects.filter(detail__startswith="published default").exists()


def test_restore_page_lists_what_would_change(client_for, manager):
    _edit_table()
    response = client_for(manager).get(reverse("treatments:precaution_table_restore"))
    page = response.content.decode()
    assert "these 4 cells back to the published default table" in page
    assert page.count("<tr><td>Myositis</td>") == 3


@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_only_managers_restore_the_defaults(client_for, role_users, role):
    _edit_table()
    before = _rules()
    response = client_for(role_users[role]).post(
        reverse("treatments:precaution_table_restore"), {"confirm": "on"}
    )
    assert response.status_code == 403
    assert _rules() == before


def test_restore_sends_anonymous_visitors_to_login(client):
    _edit_table()
    before = _rules()
    response = client.post(reverse("treatments:precaution_table_restore"), {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert _rules() == before


@pytest.mark.parametrize("name", ["treatments:catalogue", "treatments:precaution_table"])
def test_pages_show_where_the_table_differs_from_the_published_defaults(client_for, manager, name):
    client = client_for(manager)
    assert "matches the published defaults" in client.get(reverse(name)).content.decode()
    _edit_table()
    page = client.get(reverse(name)).content.decode()
    assert "4 cells differ from the published defaults" in page
    assert page.count('class="table-info"') == 4
    assert "Published default: contraindicated" in page
    assert "Published default: no restriction" in page
    assert reverse("treatments:precaution_table_restore") in page


def test_therapist_sees_differences_but_no_restore_link(client_for, therapist):
    _edit_table()
    page = client_for(therapist).get(reverse("treatments:catalogue")).content.decode()
    assert "4 cells differ from the published defaults" in page
    assert reverse("treatments:precaution_table_restore") not in page


def test_precaution_pages_query_counts(client_for, manager, django_assert_num_queries):
    client = client_for(manager)
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 active techniques,
    # 6 precaution rules. (No query for the user's groups.)
    with django_assert_num_queries(6):
        client.get(reverse("treatments:precaution_table"))
    with django_assert_num_queries(6):
        client.get(reverse("treatments:precaution_table_restore"))


def _exercise_post(**overrides):
    data = {
        "code": "wall-sit",
        "name": "Wall sit",
        "name_es": "Sentadilla en la pared",
        "instructions_en": "Lean on a wall.\nSlide down.",
        "instructions_es": "Apóyese en la pared.\nDeslícese hacia abajo.",
        "default_sets": "2",
        "default_reps": "5",
        "default_hold_seconds": "20",
        "default_times_per_day": "1",
        "default_days_per_week": "5",
    }
    data.update(overrides)
    return data


def test_manager_adds_an_exercise(client_for, manager):
    response = client_for(manager).post(reverse("treatments:exercise_create"), _exercise_post())
    assert response.status_code == 302
    ex = exercise("wall-sit")
    assert (ex.default_hold_seconds, ex.default_days_per_week, ex.active) == (20, 5, True)
    assert AuditEvent.objects.filter(action="create", object_type="treatments.exercise").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("default_sets", "0"),
        ("default_reps", "1000"),
        ("default_hold_seconds", "-1"),
        ("default_days_per_week", "8"),
        ("code", "calf-raises"),
        ("code", "not a slug"),
        ("name", ""),
    ],
)
def test_bad_exercise_input_is_a_form_error(client_for, manager, field, value):
    before = Exercise.objects.count()
    response = client_for(manager).post(
        reverse("treatments:exercise_create"), _exercise_post(**{field: value})
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Exercise.objects.count() == before


def test_manager_edits_an_exercise(client_for, manager):
    ex = exercise("calf-raises")
    data = _exercise_post(name="Heel raises")
    del data["code"]
    client_for(manager).post(reverse("treatments:exercise_edit", args=[ex.pk]), data)
    ex.refresh_from_db()
    assert (ex.name, ex.code) == ("Heel raises", "calf-raises")


def test_retired_exercise_leaves_the_builder_but_stays_on_programs(client_for, manager, therapist):
    from tests.factories import ExercisePrescriptionFactory

    ex = exercise("calf-raises")
    prescription = ExercisePrescriptionFactory(exercise=ex)
    client_for(manager).post(reverse("treatments:exercise_toggle", args=[ex.pk]))
    ex.refresh_from_db()
    assert ex.active is False
    assert AuditEvent.objects.filter(detail="retired").exists()
    builder = client_for(therapist).get(
        reverse("treatments:program_create", args=[prescription.program.patient_id])
    )
    rows = builder.context["formset"].initial
    # Still on the patient's current program; not offered to anyone else.
    assert [r["exercise"].code for r in rows].count("calf-raises") == 1
    from tests.factories import PatientFactory

    other = client_for(therapist).get(
        reverse("treatments:program_create", args=[PatientFactory().pk])
    )
    assert "calf-raises" not in [r["exercise"].code for r in other.context["formset"].initial]
    client_for(manager).post(reverse("treatments:exercise_toggle", args=[ex.pk]))
    ex.refresh_from_db()
    assert ex.active is True


@pytest.mark.parametrize("role", ["therapist", "front_desk"])
def test_only_managers_retire_exercises(client_for, role_users, role):
    ex = exercise("calf-raises")
    response = client_for(role_users[role]).post(
        reverse("treatments:exercise_toggle", args=[ex.pk])
    )
    assert response.status_code == 403
    ex.refresh_from_db()
    assert ex.active


def test_retiring_sends_anonymous_visitors_to_login(client):
    ex = exercise("calf-raises")
    response = client.post(reverse("treatments:exercise_toggle", args=[ex.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    ex.refresh_from_db()
    assert ex.active


def test_empty_post_to_the_table_is_a_form_error(client_for, manager):
    response = client_for(manager).post(reverse("treatments:precaution_table"), {})
    assert response.status_code == 200
    assert "40 of 40 cells have no valid level" in response.content.decode()
    assert _rules() == DEFAULT_PRECAUTION_RULES
