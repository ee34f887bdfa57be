"""seed_scale: the benchmark's data obeys every booking rule and keeps its proportions."""

import datetime as dt
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinic.management.commands.seed_scale import (
    BENCH_FRONT_DESK,
    BENCH_MANAGER,
    BENCH_THERAPIST,
    LONG_HISTORY_NAME,
    PER_BASE,
    scaled,
)
from clinic.models import (
    LIVE_APPOINTMENT_STATUSES,
    Appointment,
    AuditEvent,
    Practitioner,
    Reminder,
    ReportEpisode,
    ReportRollup,
    Room,
    TimeOff,
    WorkingHours,
)
from clinic.reports import rollup
from clinic.roles import CLINIC_MANAGER, FRONT_DESK, THERAPIST
from patients.localtime import clinic_zone
from patients.models import Assessment, PainReport, Patient, RecordStatus
from treatments.models import ExerciseCompletion, HomeExerciseProgram, TreatmentPlan, VisitNote

pytestmark = pytest.mark.django_db

User = get_user_model()
PATIENTS = 48


@pytest.fixture
def seeded():
    call_command("seed_scale", "--patients", str(PATIENTS))
    return Patient.objects.get(first_name=LONG_HISTORY_NAME[0], last_name=LONG_HISTORY_NAME[1])


def _no_overlap(rows, key) -> list:
    """Pairs of live appointments sharing ``key`` whose times overlap."""
    by_key = defaultdict(list)
    for row in rows:
        if getattr(row, key) is not None:
            by_key[getattr(row, key)].append(row)
    clashes = []
    for items in by_key.values():
        items.sort(key=lambda a: a.starts_at)
        for before, after in zip(items, items[1:], strict=False):
            if after.starts_at < before.ends_at:
                clashes.append((before.pk, after.pk))
    return clashes


def test_live_visits_never_overlap_and_sit_inside_working_hours(seeded):
    live = list(Appointment.objects.filter(status__in=LIVE_APPOINTMENT_STATUSES))
    assert len(live) > 500
    assert _no_overlap(live, "practitioner_id") == []
    assert _no_overlap(live, "room_id") == []
    assert _no_overlap(live, "patient_id") == []
    hours = defaultdict(list)
    for row in WorkingHours.objects.all():
        hours[(row.practitioner_id, row.weekday)].append((row.start, row.end))
    time_off = defaultdict(list)
    for row in TimeOff.objects.all():
        time_off[row.practitioner_id].append((row.starts_at, row.ends_at))
    zone = clinic_zone()
    for visit in live:
        start, end = visit.starts_at.astimezone(zone), visit.ends_at.astimezone(zone)
        assert start.date() == end.date()
        assert any(
            s <= start.time() and end.time() <= e
            for s, e in hours[(visit.practitioner_id, start.weekday())]
        ), visit
        assert not any(
            s < visit.ends_at and visit.starts_at < e for s, e in time_off[visit.practitioner_id]
        ), visit
    assert Room.objects.count() == 6
    assert Practitioner.objects.filter(active=True).count() == 12
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert {"completed", "cancelled", "no_show", "booked"} <= statuses


def test_rows_per_patient_follow_the_measured_proportions(seeded):
    """Away from the long-history patient, each kind of row is near its share of the
    measured data (scaled to the patient count): none is missing or wildly off."""
    others = Patient.objects.exclude(pk=seeded.pk)
    counts = {
        "appointments": Appointment.objects.filter(patient__in=others).count(),
        "assessments": Assessment.objects.filter(patient__in=others).count(),
        "visit_notes": VisitNote.objects.filter(patient__in=others).count(),
        "pain_reports": PainReport.objects.filter(patient__in=others).count(),
        "completions": ExerciseCompletion.objects.filter(program__patient__in=others).count(),
        "reminders": Reminder.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }
    assert set(counts) == set(PER_BASE)
    for name, count in counts.items():
        expected = scaled(name, PATIENTS)
        assert 0.4 * expected <= count <= 1.6 * expected, (name, count, expected)
    assert Patient.objects.count() == PATIENTS
    # Spread over the patients, not piled on a few.
    seen = Appointment.objects.values("patient").distinct().count()
    assert seen >= 0.9 * PATIENTS


def test_a_third_speak_spanish_and_names_carry_accents(seeded):
    spanish = Patient.objects.filter(preferred_language="es").count()
    assert spanish == len(range(0, PATIENTS, 3))
    assert Patient.objects.exclude(search_name="").count() == PATIENTS
    accented = [p for p in Patient.objects.all() if p.full_name != p.search_name.title()]
    assert accented  # "Núñez", "García", ... stored with accents, searched without
    assert any(ch in "áéíóúñÁÉÍÓÚÑü" for p in accented for ch in p.full_name)


def test_the_long_history_patient_and_the_bench_accounts(seeded):
    points = (
        Assessment.objects.filter(patient=seeded).count()
        + PainReport.objects.filter(patient=seeded).count()
    )
    assert 420 <= points <= 560
    assert Appointment.objects.filter(patient=seeded).count() >= 200
    assert VisitNote.objects.filter(patient=seeded).count() >= 200
    therapist = User.objects.get(username=BENCH_THERAPIST)
    assert Assessment.objects.filter(patient=seeded, therapist=therapist).count() >= 50
    assert Assessment.objects.filter(status=RecordStatus.SIGNED).exists()
    assert Assessment.objects.filter(status=RecordStatus.DRAFT).exists()
    assert Assessment.objects.exclude(lefs_total=None).exists()
    roles = {
        name: User.objects.get(username=name).groups.get().name
        for name in (BENCH_THERAPIST, BENCH_FRONT_DESK, BENCH_MANAGER)
    }
    assert roles == {
        BENCH_THERAPIST: THERAPIST,
        BENCH_FRONT_DESK: FRONT_DESK,
        BENCH_MANAGER: CLINIC_MANAGER,
    }
    assert Practitioner.objects.filter(user=therapist).exists()
    assert set(Reminder.objects.values_list("status", flat=True)) >= {"sent", "failed", "pending"}


def test_rows_were_last_saved_when_their_clinic_saved_them_not_at_seeding(seeded):
    """bulk_create stamps ``updated_at`` with the moment of seeding: left so, the report
    rollups would take every plan and visit for one changed a minute ago."""
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    for model in (Appointment, Assessment, VisitNote, TreatmentPlan, HomeExerciseProgram):
        rows = model.objects.count()
        assert rows and model.objects.filter(updated_at__gte=recent).count() < rows / 10, model
    assert Reminder.objects.filter(updated_at__gte=recent).count() < Reminder.objects.count() / 2
    marked = Appointment.objects.filter(status="completed").first()
    assert marked.updated_at == marked.ends_at
    rollup.refresh_episodes(now=timezone.now())
    state = ReportRollup.objects.get(pk=rollup.EPISODES)
    changed = rollup._to_work_out(state, timezone.now())[0]
    assert len(changed) < TreatmentPlan.objects.count() / 10


def test_is_deterministic_refuses_a_database_with_patients_and_resets(seeded):
    first = list(
        # A cancelled visit shares its slot with the one that replaced it: order fully, or
        # PostgreSQL may return the two in either order.
        Appointment.objects.order_by(
            "starts_at", "practitioner__display_name", "status", "patient__email"
        ).values_list("starts_at", "patient__email", "status")[:200]
    )
    with pytest.raises(CommandError, match="already has patients"):
        call_command("seed_scale", "--patients", "12")
    assert Patient.objects.count() == PATIENTS
    call_command("seed_scale", "--patients", str(PATIENTS), "--reset")
    again = list(
        # A cancelled visit shares its slot with the one that replaced it: order fully, or
        # PostgreSQL may return the two in either order.
        Appointment.objects.order_by(
            "starts_at", "practitioner__display_name", "status", "patient__email"
        ).values_list("starts_at", "patient__email", "status")[:200]
    )
    assert again == first
    assert Patient.objects.count() == PATIENTS
    # The rollups counted the deleted rows: a reset starts them again.
    assert not ReportRollup.objects.exists() and not ReportEpisode.objects.exists()
    assert User.objects.filter(username=BENCH_THERAPIST).count() == 1


def test_today_is_inside_the_seeded_range():
    call_command("seed_scale", "--patients", "12")
    today = dt.date.today()
    assert Appointment.objects.filter(starts_at__date__gt=today).exists()
    assert Appointment.objects.filter(starts_at__date__lt=today - dt.timedelta(days=600)).exists()


def test_nothing_is_stamped_after_the_moment_of_seeding(monkeypatch):
    """Seeded mid-morning, just after visits ended: a record signed or saved "later"
    than the clock would read to the report rollups as a change still to come, worked
    out again on every read until the clock caught up (clinic/reports/rollup.py)."""
    moment = dt.datetime(2026, 11, 18, 10, 5, tzinfo=clinic_zone())  # a Wednesday
    monkeypatch.setattr(timezone, "now", lambda: moment)
    call_command("seed_scale", "--patients", "200")
    just_ended = Appointment.objects.filter(
        status="completed", ends_at__gt=moment - dt.timedelta(minutes=20), ends_at__lte=moment
    )
    assert just_ended.exists(), "visits whose records would be signed after the moment"
    stamps = {
        Appointment: ("created_at", "updated_at", "cancelled_at"),
        Assessment: ("created_at", "updated_at", "signed_at"),
        VisitNote: ("created_at", "updated_at", "signed_at"),
        TreatmentPlan: ("created_at", "updated_at"),
        HomeExerciseProgram: ("created_at", "updated_at"),
        ExerciseCompletion: ("created_at",),
        PainReport: ("reported_at",),
        Reminder: ("created_at", "updated_at", "sent_at"),
        # The patients' records; the staff accounts are made on the real clock.
        AuditEvent: ("at",),
    }
    for model, fields in stamps.items():
        rows = model.objects.filter(patient__isnull=False) if model is AuditEvent else model.objects
        for name in fields:
            late = rows.filter(**{f"{name}__gt": moment})
            assert not late.exists(), (model.__name__, name, late.values_list(name, flat=True)[:3])
