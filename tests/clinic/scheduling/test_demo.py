import datetime as dt

import pytest
from django.utils import timezone

from clinic.models import Appointment, AppointmentStatus, Room, WorkingHours
from clinic.scheduling.availability import overlaps
from clinic.scheduling.demo import seed_schedule
from tests.factories import FrontDeskFactory, PatientFactory, TherapistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return {
        "demo-therapist": TherapistFactory(),
        "demo-therapist2": TherapistFactory(),
        "demo-frontdesk": FrontDeskFactory(),
    }


def _snapshot():
    return list(
        Appointment.objects.order_by("starts_at", "practitioner_id").values_list(
            "patient_id", "practitioner_id", "starts_at", "ends_at", "status", "kind"
        )
    )


def test_seed_schedule_fills_past_and_coming_weeks_without_overlaps(staff):
    PatientFactory(archived_at=timezone.now(), last_name="Archived")
    patients = [PatientFactory() for _ in range(15)]
    seed_schedule(staff)
    visits = list(Appointment.objects.all())
    assert WorkingHours.objects.count() == 10  # Mon-Fri for two therapists
    assert Room.objects.count() == 3
    assert not Appointment.objects.filter(patient__last_name="Archived").exists()
    now = timezone.now()
    past = [v for v in visits if v.ends_at <= now]
    future = [v for v in visits if v.starts_at > now]
    assert len(past) > 100 and len(future) > 20
    assert min(v.starts_at for v in visits) >= now - dt.timedelta(days=57)
    assert max(v.starts_at for v in visits) <= now + dt.timedelta(days=15)
    past_statuses = {v.status for v in past}
    assert past_statuses == {
        AppointmentStatus.COMPLETED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    }
    assert {v.status for v in future} <= {AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED}
    assert any(v.late_cancellation for v in visits)
    live = [v for v in visits if v.is_live]
    for key in ("practitioner_id", "patient_id", "room_id"):
        for i, a in enumerate(live):
            for b in live[i + 1 :]:
                if getattr(a, key) == getattr(b, key) and getattr(a, key) is not None:
                    assert not overlaps(a.starts_at, a.ends_at, b.starts_at, b.ends_at), key
    assert {v.patient_id for v in visits} <= {p.pk for p in patients}


def test_seed_schedule_is_idempotent_and_deterministic(staff):
    for _ in range(8):
        PatientFactory()
    seed_schedule(staff)
    first = _snapshot()
    seed_schedule(staff)
    assert _snapshot() == first
    Appointment.objects.all().delete()
    seed_schedule(staff)
    assert _snapshot() == first


def test_seed_schedule_without_patients_only_sets_hours_and_rooms(staff):
    seed_schedule(staff)
    assert not Appointment.objects.exists()
    assert WorkingHours.objects.count() == 10
