"""Home-exercise programs: builder, dose validation, supersession, handout, adherence."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from tests.factories import ExerciseCompletionFactory, PatientFactory, TherapistFactory
from tests.treatments.helpers import day, exercise, program_post
from treatments import services
from treatments.models import (
    CompletionSource,
    ExercisePrescription,
    HomeExerciseProgram,
    ProgramStatus,
)
from treatments.selectors import adherence_compute

pytestmark = pytest.mark.django_db


def _url(patient):
    return reverse("treatments:program_create", args=[patient.pk])


def _program(patient=None, therapist=None, codes=("calf-raises", "standing-calf-stretch"), **kw):
    return services.home_exercise_program_create(
        patient=patient or PatientFactory(),
        acting_user=therapist or TherapistFactory(),
        start_date=kw.pop("start_date", timezone.localdate()),
        end_date=kw.pop("end_date", None),
        reminder_time=dt.time(18, 0),
        reminder_days=kw.pop("reminder_days", [0, 1, 2, 3, 4, 5, 6]),
        reminders_enabled=True,
        items=[
            {
                "exercise": exercise(code),
                "sets": 2,
                "reps": 10,
                "hold_seconds": 0,
                "times_per_day": 1,
                "days_per_week": 7,
                "notes": "",
            }
            for code in codes
        ],
    )


# Roles.


@pytest.mark.parametrize(
    ("role", "status"), [("therapist", 200), ("front_desk", 403), ("manager", 403)]
)
def test_program_pages_are_for_therapists_only(client_for, role_users, role, status):
    program = _program()
    client = client_for(role_users[role])
    for url in (
        _url(program.patient),
        reverse("treatments:program_detail", args=[program.pk]),
        reverse("treatments:program_handout", args=[program.pk]),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 403:
            assert "Calf raises" not in response.content.decode()


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_non_therapists_cannot_prescribe_or_end(client_for, role_users, role):
    program = _program()
    client = client_for(role_users[role])
    assert (
        client.post(_url(program.patient), program_post([{"exercise": "calf-raises"}])).status_code
        == 403
    )
    assert client.post(reverse("treatments:program_end", args=[program.pk])).status_code == 403
    assert HomeExerciseProgram.objects.get().status == ProgramStatus.ACTIVE


# Builder.


def test_builder_offers_every_active_exercise_with_default_doses(client_for, therapist):
    patient = PatientFactory()
    response = client_for(therapist).get(_url(patient))
    rows = response.context["formset"].initial
    assert len(rows) == 6
    stretch = next(r for r in rows if r["exercise"].code == "standing-calf-stretch")
    assert (
        stretch["sets"],
        stretch["reps"],
        stretch["hold_seconds"],
        stretch["times_per_day"],
    ) == (1, 3, 30, 2)
    assert not any(r["include"] for r in rows)


def test_therapist_builds_a_program_in_their_own_order(client_for, therapist):
    patient = PatientFactory()
    data = program_post(
        [
            # Listed alphabetically on the page (ankle first); the therapist puts calf first.
            {"exercise": "calf-raises", "order": 1, "sets": 3, "reps": 12, "notes": "Slowly."},
            {"exercise": "ankle-mobilization", "order": 5, "hold_seconds": 20},
        ],
        end_date=day(30).isoformat(),
        reminder_time="07:30",
    )
    response = client_for(therapist).post(_url(patient), data)
    program = HomeExerciseProgram.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("treatments:program_detail", args=[program.pk])
    assert (program.prescribed_by, program.status, program.end_date) == (
        therapist,
        "active",
        day(30),
    )
    assert program.reminder_days == [0, 2, 4]
    assert program.reminder_time == dt.time(7, 30)
    assert program.reminders_enabled is True
    rows = list(
        program.prescriptions.values_list(
            "exercise__code", "position", "sets", "reps", "hold_seconds", "notes"
        )
    )
    assert rows == [
        ("calf-raises", 1, 3, 12, 0, "Slowly."),
        ("ankle-mobilization", 2, 1, 10, 20, ""),
    ]
    assert AuditEvent.objects.filter(
        action="create", object_type="treatments.homeexerciseprogram"
    ).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sets", "0"),
        ("reps", "1000"),
        ("hold_seconds", "-5"),
        ("times_per_day", "0"),
        ("days_per_week", "8"),
        ("sets", "two"),
        ("reps", ""),
    ],
)
def test_bad_doses_are_form_errors_and_nothing_is_saved(client_for, therapist, field, value):
    patient = PatientFactory()
    data = program_post([{"exercise": "calf-raises", field: value}])
    response = client_for(therapist).post(_url(patient), data)
    assert response.status_code == 200
    errors = [form.errors for form in response.context["formset"].forms if form.errors]
    assert errors and field in errors[0]
    assert not HomeExerciseProgram.objects.exists()


def test_service_refuses_bad_doses_too():
    with pytest.raises(ValidationError, match="sets"):
        services.home_exercise_program_create(
            patient=PatientFactory(),
            acting_user=TherapistFactory(),
            start_date=timezone.localdate(),
            end_date=None,
            reminder_time=dt.time(18),
            reminder_days=[0],
            reminders_enabled=False,
            items=[{"exercise": exercise("calf-raises"), "sets": 0, "reps": 10}],
        )
    assert not HomeExerciseProgram.objects.exists()


def test_end_date_before_start_is_refused(client_for, therapist):
    patient = PatientFactory()
    data = program_post(
        [{"exercise": "calf-raises"}], start_date=day(5).isoformat(), end_date=day(1).isoformat()
    )
    response = client_for(therapist).post(_url(patient), data)
    assert "end_date" in response.context["form"].errors
    assert not HomeExerciseProgram.objects.exists()


def test_no_exercise_or_no_day_chosen_is_refused(client_for, therapist):
    patient = PatientFactory()
    client = client_for(therapist)
    none = client.post(_url(patient), program_post([]))
    assert "Choose at least one exercise." in none.context["formset"].non_form_errors()
    no_days = client.post(
        _url(patient), program_post([{"exercise": "calf-raises"}], reminder_days=[])
    )
    assert "reminder_days" in no_days.context["form"].errors
    assert not HomeExerciseProgram.objects.exists()


def test_an_exercise_of_the_catalogue_cannot_be_replaced_by_an_unknown_id(client_for, therapist):
    patient = PatientFactory()
    data = program_post([{"exercise": "calf-raises"}])
    data["rx-0-exercise"] = "999999"
    data["rx-0-include"] = "on"
    response = client_for(therapist).post(_url(patient), data)
    assert response.status_code == 200
    assert not HomeExerciseProgram.objects.exists()


def test_archived_patient_gets_no_program(client_for, therapist):
    patient = PatientFactory(archived_at=timezone.now())
    response = client_for(therapist).post(
        _url(patient), program_post([{"exercise": "calf-raises"}])
    )
    assert response.status_code == 409
    assert not HomeExerciseProgram.objects.exists()


# Supersession.


def test_a_new_program_supersedes_the_active_one(client_for, therapist):
    patient = PatientFactory()
    old = _program(patient=patient, start_date=day(-20))
    client = client_for(therapist)
    builder = client.get(_url(patient))
    prefilled = [r["exercise"].code for r in builder.context["formset"].initial if r["include"]]
    assert prefilled == ["calf-raises", "standing-calf-stretch"]
    client.post(_url(patient), program_post([{"exercise": "lateral-step-downs"}]))
    old.refresh_from_db()
    new = HomeExerciseProgram.objects.get(status=ProgramStatus.ACTIVE)
    assert old.status == ProgramStatus.SUPERSEDED
    assert new.pk != old.pk
    assert old.prescriptions.count() == 2  # history keeps what was prescribed
    page = client.get(reverse("treatments:program_detail", args=[new.pk])).content.decode()
    assert "Superseded" in page


@pytest.mark.parametrize(
    ("old_start", "old_end", "new_start", "old_last"),
    [
        (-20, None, -5, -6),  # runs to the day before the new one starts
        (-20, None, 0, -1),  # replaced at today's visit
        (-3, None, -5, -3),  # the new one starts first: its own start, the day then shared
        (-3, None, -3, -3),  # the same start: likewise
        (-20, -10, -5, -10),  # an end date already before that is kept
        (-20, 5, 0, -1),  # a later one is brought forward
    ],
)
def test_a_superseded_program_ends_the_day_before_the_new_one_starts(
    old_start, old_end, new_start, old_last
):
    patient = PatientFactory()
    old = _program(
        patient=patient,
        start_date=day(old_start),
        end_date=None if old_end is None else day(old_end),
    )
    _program(patient=patient, start_date=day(new_start))
    old.refresh_from_db()
    assert old.status == ProgramStatus.SUPERSEDED
    assert old.end_date == day(old_last)


def test_the_database_allows_one_active_program_per_patient():
    program = _program()
    with pytest.raises(IntegrityError), transaction.atomic():
        HomeExerciseProgram.objects.create(
            patient=program.patient,
            prescribed_by=program.prescribed_by,
            start_date=program.start_date,
        )


def test_a_failed_new_program_leaves_the_old_one_active():
    old = _program()
    with pytest.raises(ValidationError):
        _program(patient=old.patient, codes=())
    old.refresh_from_db()
    assert old.status == ProgramStatus.ACTIVE


def test_ending_a_program(client_for, therapist):
    program = _program(start_date=day(-3))
    client_for(therapist).post(reverse("treatments:program_end", args=[program.pk]))
    program.refresh_from_db()
    assert program.status == ProgramStatus.ENDED
    assert program.end_date == timezone.localdate()


# Handout.


def test_handout_in_english(client_for, therapist, settings):
    settings.CLINIC_NAME = "Riverside Physical Therapy"
    settings.CLINIC_PHONE = "+1 555 010 0100"
    program = _program(patient=PatientFactory(preferred_language="en", first_name="Ana"))
    response = client_for(therapist).get(reverse("treatments:program_handout", args=[program.pk]))
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Your home exercise program" in page
    assert "Calf raises" in page and "2 sets of 10, once a day, every day" in page
    assert "Rise slowly onto the balls of both feet" in page
    assert "Riverside Physical Therapy" in page and "+1 555 010 0100" in page
    assert "PEACE" in page and "LOVE" in page
    assert "10–20 minutes" in page and "Do not use heat on a new injury" in page
    assert "every 6–12 months" in page
    assert "cycle or swim instead" in page
    assert AuditEvent.objects.filter(
        action="export", object_id=str(program.pk), detail__contains="(en)"
    ).exists()


def test_handout_in_spanish_for_a_spanish_speaking_patient(client_for, therapist):
    program = _program(
        patient=PatientFactory(preferred_language="es"), codes=("standing-calf-stretch",)
    )
    page = (
        client_for(therapist)
        .get(reverse("treatments:program_handout", args=[program.pk]))
        .content.decode()
    )
    assert '<html lang="es">' in page
    assert "Su programa de ejercicios en casa" in page
    assert "Estiramiento de pantorrilla de pie" in page
    assert "2 series de 10 repeticiones, 1 vez al día, todos los días" in page
    assert "Póngase de frente a una pared" in page
    assert "No aplique calor en una lesión reciente" in page
    assert "cada 6–12 meses" in page
    assert "Your home exercise program" not in page


def test_handout_language_can_be_chosen_and_unknown_languages_fall_back(client_for, therapist):
    program = _program(patient=PatientFactory(preferred_language="en"))
    client = client_for(therapist)
    url = reverse("treatments:program_handout", args=[program.pk])
    assert "Elevaciones de talones" in client.get(url + "?lang=es").content.decode()
    assert "Calf raises" in client.get(url + "?lang=xx").content.decode()


def test_handout_shows_hold_and_therapist_notes(client_for, therapist):
    patient = PatientFactory(preferred_language="es")
    client = client_for(therapist)
    client.post(
        _url(patient),
        program_post([{"exercise": "standing-side-leg-raise", "notes": "Con apoyo."}]),
    )
    program = HomeExerciseProgram.objects.get()
    page = client.get(reverse("treatments:program_handout", args=[program.pk])).content.decode()
    assert "mantener 3 segundos" in page
    assert "Con apoyo." in page
    assert "lunes, miércoles, viernes" in page


# Adherence.


def test_adherence_counts_prescribed_weekdays_within_dates_up_to_today():
    today = dt.date(2026, 11, 20)  # a Friday
    result = adherence_compute(
        start_date=dt.date(2026, 11, 9),  # Monday
        end_date=None,
        weekdays=[0, 2, 4],  # Mon, Wed, Fri
        completed={dt.date(2026, 11, 9), dt.date(2026, 11, 13), dt.date(2026, 11, 14)},
        today=today,
    )
    # Prescribed: 9, 11, 13, 16, 18, 20 Nov = 6; done on 9 and 13 (14th is a Saturday).
    assert (result.prescribed_days, result.done_days, result.percent) == (6, 2, 33)
    states = {d.date: d.state for d in result.days}
    assert len(result.days) == 28
    assert result.days[-1].date == today
    assert states[dt.date(2026, 11, 8)] == "outside"
    assert states[dt.date(2026, 11, 14)] == "done-extra"
    assert states[dt.date(2026, 11, 11)] == "missed"
    assert states[dt.date(2026, 11, 10)] == "rest"


def test_adherence_stops_at_the_end_date_and_handles_no_prescribed_days():
    result = adherence_compute(
        start_date=dt.date(2026, 11, 1),
        end_date=dt.date(2026, 11, 3),
        weekdays=list(range(7)),
        completed={dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)},
        today=dt.date(2026, 11, 20),
    )
    assert (result.prescribed_days, result.percent) == (3, 100)
    future = adherence_compute(
        start_date=dt.date(2026, 12, 1),
        end_date=None,
        weekdays=[0],
        completed=set(),
        today=dt.date(2026, 11, 20),
    )
    assert future.percent is None


def test_adherence_window_is_the_last_four_weeks():
    today = dt.date(2026, 11, 28)
    result = adherence_compute(
        start_date=dt.date(2026, 9, 1),
        end_date=None,
        weekdays=list(range(7)),
        completed={dt.date(2026, 10, 31), dt.date(2026, 11, 1)},  # 28 and 27 days ago
        today=today,
    )
    assert (result.prescribed_days, result.done_days) == (28, 1)


def test_program_page_shows_adherence(client_for, therapist):
    program = _program(start_date=day(-6))
    for offset in (-6, -5, -4):
        services.exercise_completion_record(
            program=program, on_date=day(offset), source=CompletionSource.EMAIL_LINK
        )
    response = client_for(therapist).get(reverse("treatments:program_detail", args=[program.pk]))
    adherence = response.context["adherence"]
    assert (adherence.prescribed_days, adherence.done_days) == (7, 3)
    assert "43%" in response.content.decode()


# Audit and query counts.


def test_viewing_a_program_is_audited(client_for, therapist):
    program = _program()
    client_for(therapist).get(reverse("treatments:program_detail", args=[program.pk]))
    assert AuditEvent.objects.filter(
        action="view", object_type="treatments.homeexerciseprogram"
    ).exists()


def test_program_page_query_count_is_constant(client_for, therapist, django_assert_num_queries):
    patient = PatientFactory()
    small = _program(patient=patient, codes=("calf-raises",), start_date=day(-30))
    big = _program(
        patient=patient,
        codes=("calf-raises", "standing-calf-stretch", "lateral-step-downs", "ankle-mobilization"),
        start_date=day(-30),
    )
    for offset in range(-20, 0):
        ExerciseCompletionFactory(program=big, date=day(offset))
    client = client_for(therapist)
    for program in (small, big):
        # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 program with
        # patient and prescriber, 6 prescriptions with exercises, 7 audit insert (view),
        # 8 completions in the 4-week window, 9 program history. (No query for the
        # user's groups: the navigation checks permissions.)
        with django_assert_num_queries(9):
            assert (
                client.get(reverse("treatments:program_detail", args=[program.pk])).status_code
                == 200
            )


def test_handout_query_count_is_constant(client_for, therapist, django_assert_num_queries):
    small = _program(codes=("calf-raises",))
    big = _program(
        codes=("calf-raises", "standing-calf-stretch", "lateral-step-downs", "ankle-mobilization")
    )
    client = client_for(therapist)
    for program in (small, big):
        # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 program,
        # 6 prescriptions with exercises, 7 audit insert (export). (The clinic context
        # processor no longer reads the user's groups.)
        with django_assert_num_queries(7):
            client.get(reverse("treatments:program_handout", args=[program.pk]))


def test_prescription_rows_are_kept_in_position_order():
    program = _program(codes=("lateral-step-downs", "calf-raises"))
    assert list(
        ExercisePrescription.objects.filter(program=program).values_list(
            "exercise__code", flat=True
        )
    ) == [
        "lateral-step-downs",
        "calf-raises",
    ]


def test_opening_the_builder_on_a_current_program_is_audited(client_for, therapist):
    program = _program()
    client_for(therapist).get(_url(program.patient))
    assert AuditEvent.objects.filter(
        action="view", object_id=str(program.pk), detail="program builder"
    ).exists()
