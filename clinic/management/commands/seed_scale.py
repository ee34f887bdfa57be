"""Seed a clinic group's worth of data for the page benchmark (bench/pages.py).

    python manage.py seed_scale --patients 20000

Proportions per patient follow the measurements in the scale issue (at 20,000 patients:
about 200,000 appointments, 50,000 assessments, 60,000 visit notes, 300,000 exercise
completions, 100,000 pain reports, 200,000 reminders and 500,000 audit events), scaled
by N / 20,000; the long-history patient's rows (hundreds of visits and notes, ~480
outcome points) come on top. Rows are written with bulk_create in batches, in one transaction, and
every database constraint applies to them (PostgreSQL's no-overlap exclusion
constraints on appointments included): visits are packed into each practitioner's
working hours, outside their time off, one room and one visit per patient at a time.

Deterministic: the same --patients and --seed give the same rows (dates are relative to
today). Refuses to run on a database that already has patients unless --reset, which
first deletes every patient, clinical record, appointment, reminder, practitioner, room
and audit event (and the staff accounts this command creates). Never point it at a
clinic's real data.

Known accounts for the benchmark (each in its role group): ``bench-therapist`` (a
practitioner, treating the long-history patient), ``bench-frontdesk`` and
``bench-manager``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Case, F, Q, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from clinic import services as staff_services
from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentSeries,
    AppointmentStatus,
    AttentionAcknowledgement,
    AuditAction,
    AuditEvent,
    Practitioner,
    Reminder,
    ReminderKind,
    ReminderStatus,
    ReportCompletionDay,
    ReportDay,
    ReportEpisode,
    ReportRollup,
    Room,
    SlotOffer,
    TimeOff,
    WaitlistEntry,
    WorkingHours,
)
from clinic.reminders.services import appointment_key, exercise_key
from clinic.roles import CLINIC_MANAGER, FRONT_DESK, THERAPIST
from clinic.scheduling.demo import CANCEL_REASONS
from patients import clinical
from patients.demo import CASES, COURSES, _assessment_values
from patients.localtime import clinic_today, clinic_zone, local_datetime
from patients.models import (
    Assessment,
    AssessmentAddendum,
    AssessmentAmendment,
    AssessmentKind,
    PainReport,
    PainSource,
    Patient,
    QuestionnaireResponse,
    RecordStatus,
)
from treatments.catalogue import catalogue_ensure
from treatments.demo import _NOTES, _PLAN_CHOICES
from treatments.models import (
    AppliedTechnique,
    CompletionSource,
    Exercise,
    ExerciseCompletion,
    ExercisePrescription,
    HomeExerciseProgram,
    PlannedTechnique,
    PlanStatus,
    ProgramStatus,
    Technique,
    TreatmentPlan,
    VisitNote,
    VisitNoteAddendum,
    VisitNoteAmendment,
)

User = get_user_model()

BASE_PATIENTS = 20_000
# Rows at BASE_PATIENTS patients; each is scaled by N / BASE_PATIENTS.
PER_BASE = {
    "appointments": 200_501,
    "assessments": 50_072,
    "visit_notes": 60_038,
    "completions": 300_098,
    "pain_reports": 100_180,
    "reminders": 200_000,
    "audit_events": 500_311,
}
PRACTITIONERS = 12
ROOMS = [
    "Treatment room 1",
    "Treatment room 2",
    "Treatment room 3",
    "Treatment room 4",
    "Gym",
    "Hydrotherapy",
]
PAST_DAYS, FUTURE_DAYS = 700, 28
EPISODE_DAYS = (60, 120)  # how long a patient is under care
STEP = 15  # minutes: visits start on the quarter hour, gaps are whole steps
# Working hours: a clinic group open every day, each practitioner on long shifts.
WEEKDAY_HOURS = (dt.time(7, 0), dt.time(20, 0))
WEEKEND_HOURS = (dt.time(8, 0), dt.time(20, 0))
# Share of visits that were booked, then cancelled (the slot was given to someone else).
CANCELLED_SHARE = 0.12
NO_SHOW_SHARE = 0.05
# The long-history patient: a visit on about half the days, ~480 outcome points.
LONG_HISTORY_ASSESSMENTS = 60
LONG_HISTORY_PAIN_REPORTS = 420  # including one per signed assessment
BATCH = 2000

BENCH_THERAPIST = "bench-therapist"
BENCH_FRONT_DESK = "bench-frontdesk"
BENCH_MANAGER = "bench-manager"
SEED_USER_PREFIXES = ("bench-", "scale-")
LONG_HISTORY_NAME = ("Ángela", "Núñez Ortega")

FIRST_ES = [
    "José", "María", "Lucía", "Sofía", "Martín", "Andrés", "Inés", "Raúl", "Jesús", "Begoña",
    "Íñigo", "Álvaro", "Ramón", "Nuria", "Germán", "Mónica", "Tomás", "Verónica", "Óscar",
    "Camila", "Valentina", "Mateo", "Ximena", "Joaquín", "Rocío", "Dolores", "Agustín",
]  # fmt: skip
LAST_ES = [
    "García", "Hernández", "Martínez", "López", "Rodríguez", "Pérez", "Gómez", "Sánchez",
    "Ramírez", "Núñez", "Jiménez", "Muñoz", "Álvarez", "Domínguez", "Vázquez", "Ibáñez",
    "Peña", "Cortés", "Gutiérrez", "Ordóñez", "Báez", "Fernández", "Suárez", "Chávez",
]  # fmt: skip
FIRST_EN = [
    "Emily", "Daniel", "Hannah", "Michael", "Olivia", "James", "Grace", "William", "Chloé",
    "Zoë", "Noah", "Amelia", "Liam", "Ava", "Ethan", "Isla", "Jack", "Renée", "Noël",
    "Aoife", "Siobhán", "Björn", "François", "Léa", "Mia", "Oliver", "Ruby", "Henry",
]  # fmt: skip
LAST_EN = [
    "Carter", "Brooks", "Nguyen", "O'Brien", "Schmidt", "Bennett", "Whitaker", "Foster",
    "Müller", "Brontë", "Løvland", "Kowalczyk", "Dvořák", "Smith", "Johnson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Hall",
]  # fmt: skip
STAFF_NAMES = [
    ("Alex", "Rivera"), ("Sam", "Okafor"), ("Mónica", "Ibáñez"), ("Priya", "Raman"),
    ("Tomás", "Quiñones"), ("Erin", "McAllister"), ("Joaquín", "Peña"), ("Hélène", "Dubois"),
    ("Kwame", "Mensah"), ("Zoë", "Lindqvist"), ("Raúl", "Domínguez"), ("Megan", "Hart"),
]  # fmt: skip
MINUTES = {
    AppointmentKind.INITIAL_EVALUATION: 60,
    AppointmentKind.REASSESSMENT: 45,
    AppointmentKind.DISCHARGE: 30,
    AppointmentKind.FOLLOW_UP: 30,
}
FAILED_ERRORS = [
    "SMTP 550: mailbox unavailable",
    "SMTP 421: service not available, try again later",
    "Connection timed out",
]


def scaled(name: str, patients: int) -> int:
    return round(PER_BASE[name] * patients / BASE_PATIENTS)


@dataclass
class Visit:
    """What later steps need of an inserted appointment (no model instances kept)."""

    id: int
    patient: int
    practitioner: int  # index into the practitioner list
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    kind: str


@dataclass
class PatientPlan:
    id: int
    index: int
    practitioner: int
    first_day: dt.date
    last_day: dt.date
    opted_in: bool
    visits: list[Visit] = field(default_factory=list)


def batched(rows: Iterable, size: int = BATCH) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def bulk(model, rows: Iterable) -> int:
    """Insert ``rows`` in batches; returns how many. Instances get their pk (RETURNING)."""
    count = 0
    for chunk in batched(rows):
        model.objects.bulk_create(chunk)
        count += len(chunk)
    return count


class Command(BaseCommand):
    help = "Seed N patients with two years of clinic data, for the page benchmark."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True, help="how many patients")
        parser.add_argument("--seed", type=int, default=20261122, help="random seed")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete every patient, record, visit, reminder and audit event first",
        )
        parser.add_argument(
            "--password", help="password of the bench accounts (default: random, not shown)"
        )

    def handle(self, *args, patients, seed, reset, password, **options):
        if patients < 12:
            raise CommandError("--patients must be at least 12 (one per practitioner).")
        if Patient.objects.exists() and not reset:
            raise CommandError(
                "This database already has patients: seed_scale only fills an empty one. "
                "Use --reset to delete them and everything recorded about them first."
            )
        started = time.monotonic()
        counts = Seeder(
            patients=patients,
            seed=seed,
            password=password or secrets.token_urlsafe(24),
            reset=reset,
            log=self.stdout.write,
        ).run()
        elapsed = time.monotonic() - started
        for name, count in counts.items():
            self.stdout.write(f"  {name:<22} {count:>9,}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {patients:,} patients in {elapsed:.1f} s ({connection.vendor})."
            )
        )


class Seeder:
    def __init__(self, *, patients: int, seed: int, password: str, reset: bool, log):
        self.n = patients
        self.rng = random.Random(seed)
        self.password = password
        self.reset = reset
        self.log = log
        self.zone = clinic_zone()
        self.now = timezone.now()
        self.today = clinic_today(self.now)
        self.first_day = self.today - dt.timedelta(days=PAST_DAYS)
        self.last_day = self.today + dt.timedelta(days=FUTURE_DAYS)
        self.counts: dict[str, int] = {}

    @transaction.atomic
    def run(self) -> dict[str, int]:
        if self.reset:
            self.wipe()
        catalogue_ensure()
        self.step("staff", self.seed_staff)
        self.step("patients", self.seed_patients)
        self.step("appointments", self.seed_appointments)
        self.step("assessments", self.seed_assessments)
        self.step("plans and notes", self.seed_plans_and_notes)
        self.step("programs", self.seed_programs)
        self.step("pain reports", self.seed_pain_reports)
        self.step("reminders", self.seed_reminders)
        self.step("audit events", self.seed_audit)
        self.step("last saved", self.settle_updated_at)
        return self.counts

    def signed(self, visit: Visit, *, minutes: int) -> dt.datetime:
        """When a visit's record was signed: ``minutes`` after the visit ended, or now
        for a visit that ended less than that ago. Never later than the seeding: a
        moment ahead of the clock would read as a change still to come to the report
        rollups (clinic/reports/rollup.py), which would work it out again on every read
        until the clock caught up."""
        return min(self.now, visit.ends_at + dt.timedelta(minutes=minutes))

    def step(self, name: str, func) -> None:
        started = time.monotonic()
        func()
        self.log(f"  {name}: {time.monotonic() - started:.1f} s")

    def settle_updated_at(self) -> None:
        """Give every row the ``updated_at`` of its last real save. bulk_create stamps
        them all with the moment of seeding, which no clinic's data looks like: the
        report rollups (clinic/reports/rollup.py) would take every plan and visit for
        one changed in the last minutes, and the reminder list sorts by it."""
        cancelled = Q(status=AppointmentStatus.CANCELLED)
        marked = Q(status__in=[AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW])
        Appointment.objects.update(
            updated_at=Case(
                When(cancelled, then=Coalesce("cancelled_at", "created_at")),
                When(marked, then=Least(Greatest("created_at", "ends_at"), self.now)),
                default=F("created_at"),
            )
        )
        for signed in (Assessment, VisitNote):
            signed.objects.update(updated_at=Coalesce("signed_at", "created_at"))
        Reminder.objects.update(updated_at=Coalesce("sent_at", "created_at"))
        for model in (Patient, TreatmentPlan, HomeExerciseProgram):
            model.objects.update(updated_at=F("created_at"))

    # Reset --------------------------------------------------------------------------

    def wipe(self) -> None:
        """Delete the data this command writes, children first (no signals, no cascade
        collection: plain DELETEs, fast on half a million rows)."""
        from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
        from django_otp.plugins.otp_totp.models import TOTPDevice

        seed_users = User.objects.filter(username__regex=r"^(" + "|".join(SEED_USER_PREFIXES) + ")")
        for queryset in (
            AuditEvent.objects.all(),
            # The report rollups count what is deleted here: they start again empty.
            ReportDay.objects.all(),
            ReportCompletionDay.objects.all(),
            ReportEpisode.objects.all(),
            ReportRollup.objects.all(),
            AttentionAcknowledgement.objects.all(),
            SlotOffer.objects.all(),
            WaitlistEntry.objects.all(),
            QuestionnaireResponse.objects.all(),
            Reminder.objects.all(),
            ExerciseCompletion.objects.all(),
            ExercisePrescription.objects.all(),
            AppliedTechnique.objects.all(),
            VisitNote.exercises_reviewed.through.objects.all(),
            VisitNoteAddendum.objects.all(),
            VisitNoteAmendment.objects.all(),
            VisitNote.objects.all(),
            PainReport.objects.all(),
            HomeExerciseProgram.objects.all(),
            PlannedTechnique.objects.all(),
        ):
            queryset._raw_delete(queryset.db)
        Appointment.objects.update(rescheduled_from=None, series=None)
        for queryset in (
            Appointment.objects.all(),
            AppointmentSeries.objects.all(),
            TreatmentPlan.objects.all(),
            AssessmentAddendum.objects.all(),
            AssessmentAmendment.objects.all(),
            Assessment.objects.all(),
            Patient.objects.all(),
            TimeOff.objects.all(),
            WorkingHours.objects.all(),
            Practitioner.objects.filter(user__in=seed_users),
            Room.objects.all(),
            StaticToken.objects.filter(device__user__in=seed_users),
            StaticDevice.objects.filter(user__in=seed_users),
            TOTPDevice.objects.filter(user__in=seed_users),
        ):
            queryset._raw_delete(queryset.db)
        seed_users.delete()

    # Staff --------------------------------------------------------------------------

    def seed_staff(self) -> None:
        self.practitioners: list[Practitioner] = []
        self.therapist_ids: list[int] = []
        for index, (first, last) in enumerate(STAFF_NAMES[:PRACTITIONERS]):
            username = BENCH_THERAPIST if index == 0 else f"scale-therapist-{index:02d}"
            user = self.staff(username, first, last, THERAPIST)
            self.therapist_ids.append(user.pk)
            # Giving a user the therapist role makes them a practitioner (staff_create).
            self.practitioners.append(Practitioner.objects.get(user=user))
        self.front_desk = self.staff(BENCH_FRONT_DESK, "Jordan", "Lee", FRONT_DESK)
        self.manager = self.staff(BENCH_MANAGER, "Morgan", "Blake", CLINIC_MANAGER)
        self.rooms = Room.objects.bulk_create(Room(name=name) for name in ROOMS)
        hours = []
        for practitioner in self.practitioners:
            for weekday in range(7):
                start, end = WEEKDAY_HOURS if weekday < 5 else WEEKEND_HOURS
                hours.append(
                    WorkingHours(practitioner=practitioner, weekday=weekday, start=start, end=end)
                )
        WorkingHours.objects.bulk_create(hours)
        # A week off a year each, staggered; one practitioner (never the bench
        # therapist) is also off for a week starting in ten days.
        self.days_off: dict[int, set[dt.date]] = defaultdict(set)
        off = []
        for index, practitioner in enumerate(self.practitioners):
            starts = [self.first_day + dt.timedelta(days=30 + 29 * index + 365 * y) for y in (0, 1)]
            if index == PRACTITIONERS - 1:
                starts.append(self.today + dt.timedelta(days=10))
            for leave in starts:
                off.append(
                    TimeOff(
                        practitioner=practitioner,
                        starts_at=local_datetime(leave, dt.time.min),
                        ends_at=local_datetime(leave + dt.timedelta(days=7), dt.time.min),
                        reason="Annual leave",
                    )
                )
                self.days_off[index].update(leave + dt.timedelta(days=d) for d in range(7))
        TimeOff.objects.bulk_create(off)
        self.counts["practitioners"] = len(self.practitioners)
        self.counts["rooms"] = len(self.rooms)

    def staff(self, username: str, first: str, last: str, role: str):
        return staff_services.staff_create(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.org",
            role=role,
            password=self.password,
        )

    # Patients -----------------------------------------------------------------------

    def seed_patients(self) -> None:
        rng = self.rng
        span = (self.last_day - self.first_day).days
        rows = []
        self.plans: list[PatientPlan] = []
        for index in range(self.n):
            long_history = index == 0
            spanish = index % 3 == 0
            if long_history:
                first, last = LONG_HISTORY_NAME
            elif spanish or rng.random() < 0.2:
                first, last = rng.choice(FIRST_ES), rng.choice(LAST_ES)
                if rng.random() < 0.3:
                    last = f"{last} {rng.choice(LAST_ES)}"
            else:
                first, last = rng.choice(FIRST_EN), rng.choice(LAST_EN)
            length = rng.randint(*EPISODE_DAYS)
            if long_history:
                start, end = self.first_day, self.last_day
            else:
                start = self.first_day + dt.timedelta(days=rng.randrange(span - 20))
                end = min(self.last_day, start + dt.timedelta(days=length))
            opted_in = rng.random() < 0.7
            local_part = clinical.normalise_name(f"{first}.{last}").replace(" ", "-")
            rows.append(
                Patient(
                    first_name=first,
                    last_name=last,
                    date_of_birth=dt.date(
                        rng.randint(1938, 2008), rng.randint(1, 12), rng.randint(1, 28)
                    ),
                    email=f"{local_part.replace(chr(39), '')}.{index}@example.com",
                    phone=f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
                    preferred_language="es" if spanish else "en",
                    timezone="America/New_York" if index % 7 else "America/Chicago",
                    reminders_opt_in=opted_in,
                    search_name=clinical.normalise_name(f"{first} {last}"),
                    created_by=self.front_desk,
                    created_at=local_datetime(start, dt.time(7, 0))
                    - dt.timedelta(days=rng.randint(1, 10)),
                )
            )
            self.plans.append(
                PatientPlan(
                    id=0,
                    index=index,
                    practitioner=0 if long_history else index % PRACTITIONERS,
                    first_day=start,
                    last_day=end,
                    opted_in=opted_in,
                )
            )
        bulk(Patient, rows)
        for plan, row in zip(self.plans, rows, strict=True):
            plan.id = row.pk
        self.long = self.plans[0]
        self.counts["patients"] = len(rows)

    # Appointments -------------------------------------------------------------------

    def seed_appointments(self) -> None:
        rng = self.rng
        target = scaled("appointments", self.n)
        live_target = target * (1 - CANCELLED_SHARE)
        days = [
            self.first_day + dt.timedelta(days=d)
            for d in range((self.last_day - self.first_day).days + 1)
        ]
        working_days = sum(
            1 for day in days for index in range(PRACTITIONERS) if day not in self.days_off[index]
        )
        per_day = live_target / working_days
        mean_minutes = 0.8 * 30 + 0.1 * 45 + 0.1 * 60
        # By practitioner: their patients sorted by the first day of care (for bisect).
        groups: dict[int, list[PatientPlan]] = defaultdict(list)
        for plan in sorted(self.plans, key=lambda plan: plan.first_day):
            groups[plan.practitioner].append(plan)
        starts = {p: [plan.first_day for plan in group] for p, group in groups.items()}
        everyone = sorted(self.plans, key=lambda plan: plan.first_day)
        everyone_starts = [plan.first_day for plan in everyone]
        longest = dt.timedelta(days=EPISODE_DAYS[1])
        seen: set[int] = set()
        self.visits: list[Visit] = []
        pending: list[tuple[Appointment, int, int]] = []

        def flush() -> None:
            Appointment.objects.bulk_create([row for row, _, _ in pending])
            for row, patient_index, practitioner in pending:
                visit = Visit(
                    row.pk,
                    row.patient_id,
                    practitioner,
                    row.starts_at,
                    row.ends_at,
                    row.status,
                    row.kind,
                )
                self.visits.append(visit)
                self.plans[patient_index].visits.append(visit)
            pending.clear()

        for day in days:
            future = day > self.today
            weekday_hours = WEEKDAY_HOURS if day.weekday() < 5 else WEEKEND_HOURS
            open_at = local_datetime(day, weekday_hours[0])
            close_at = local_datetime(day, weekday_hours[1])
            length = (close_at - open_at).total_seconds() / 60
            # 1.08: a visit that would run past closing time is not booked.
            wanted = 1.08 * per_day * (0.55 if future else 1.0)
            # Chance of a visit at each free step so that about ``wanted`` fit in the day.
            fill = min(
                0.97, wanted * STEP / max(1.0, length - wanted * mean_minutes + wanted * STEP)
            )
            rooms_busy: list[list[tuple[dt.datetime, dt.datetime]]] = [[] for _ in self.rooms]
            booked: set[int] = set()  # one visit a day per patient: patients never overlap
            # When none of a practitioner's own patients is free, a colleague's is seen.
            anyone = self.under_care(everyone, everyone_starts, day, longest)
            for p_index in range(PRACTITIONERS):
                if day in self.days_off[p_index]:
                    continue
                active = self.under_care(groups[p_index], starts[p_index], day, longest)
                long_today = p_index == 0 and rng.random() < 0.5
                at = open_at
                while at < close_at:
                    if not long_today and rng.random() >= fill:
                        at += dt.timedelta(minutes=STEP)
                        continue
                    if long_today:
                        found: PatientPlan | None = self.long
                        long_today = False
                    else:
                        found = self.pick(active, booked) or self.pick(anyone, booked)
                    if found is None:
                        break
                    plan = found
                    if plan.id not in seen:
                        kind = AppointmentKind.INITIAL_EVALUATION
                    elif plan.last_day == day:
                        kind = AppointmentKind.DISCHARGE
                    elif rng.random() < 0.1:
                        kind = AppointmentKind.REASSESSMENT
                    else:
                        kind = AppointmentKind.FOLLOW_UP
                    ends = at + dt.timedelta(minutes=MINUTES[kind])
                    if ends > close_at:
                        break
                    seen.add(plan.id)
                    booked.add(plan.id)
                    room = self.free_room(rooms_busy, p_index, at, ends)
                    visit = self.appointment(plan, p_index, room, kind, at, ends)
                    pending.append((visit, plan.index, p_index))
                    if rng.random() < CANCELLED_SHARE / (1 - CANCELLED_SHARE):
                        # The slot was first booked for someone who then cancelled.
                        other = self.pick(active, booked) or self.pick(anyone, booked)
                        if other is not None:
                            booked.add(other.id)
                            cancelled = self.appointment(
                                other, p_index, room, AppointmentKind.FOLLOW_UP, at,
                                at + dt.timedelta(minutes=30), cancelled=True,
                            )  # fmt: skip
                            pending.append((cancelled, other.index, p_index))
                    at = ends
            if len(pending) >= BATCH:
                flush()
        if pending:
            flush()
        self.counts["appointments"] = len(self.visits)

    @staticmethod
    def under_care(plans, first_days, day: dt.date, longest: dt.timedelta) -> list[PatientPlan]:
        """Of ``plans`` (sorted by first day), those under care on ``day``."""
        lo = bisect.bisect_left(first_days, day - longest)
        hi = bisect.bisect_right(first_days, day)
        return [plan for plan in plans[lo:hi] if plan.first_day <= day <= plan.last_day]

    def pick(self, active: list[PatientPlan], booked: set[int]) -> PatientPlan | None:
        for _ in range(8):
            if not active:
                return None
            plan = self.rng.choice(active)
            if plan.id not in booked and plan is not self.long:
                return plan
        return None

    def free_room(self, rooms_busy, p_index: int, starts: dt.datetime, ends: dt.datetime):
        """A room free for [starts, ends), trying the practitioner's usual one first."""
        count = len(self.rooms)
        for offset in range(count):
            slot = (p_index + offset) % count
            if all(e <= starts or s >= ends for s, e in rooms_busy[slot]):
                rooms_busy[slot].append((starts, ends))
                return self.rooms[slot]
        return None

    def appointment(self, plan, p_index, room, kind, starts, ends, cancelled=False) -> Appointment:
        rng = self.rng
        row = Appointment(
            patient_id=plan.id,
            practitioner=self.practitioners[p_index],
            room=room,
            starts_at=starts,
            ends_at=ends,
            kind=kind,
            created_by=self.front_desk,
            created_at=min(self.now, starts - dt.timedelta(days=rng.randint(1, 21))),
        )
        if cancelled:
            row.status = AppointmentStatus.CANCELLED
            row.cancel_reason = rng.choice(CANCEL_REASONS)
            row.cancelled_at = min(
                self.now, starts - dt.timedelta(hours=rng.choice([3, 12, 48, 96]))
            )
            row.late_cancellation = starts - row.cancelled_at < dt.timedelta(hours=24)
        elif ends <= self.now:
            if rng.random() < NO_SHOW_SHARE and plan is not self.long:
                row.status = AppointmentStatus.NO_SHOW
            else:
                row.status = AppointmentStatus.COMPLETED
                row.checked_in_at = starts - dt.timedelta(minutes=rng.randint(2, 10))
        elif starts <= self.now:
            row.status = AppointmentStatus.CHECKED_IN
            row.checked_in_at = starts - dt.timedelta(minutes=5)
        return row

    # Assessments --------------------------------------------------------------------

    def seed_assessments(self) -> None:
        rng = self.rng
        target = scaled("assessments", self.n)
        completed = {
            plan.index: [v for v in plan.visits if v.status == AppointmentStatus.COMPLETED]
            for plan in self.plans
        }
        treated = [plan for plan in self.plans if completed[plan.index] and plan is not self.long]
        long_count = min(LONG_HISTORY_ASSESSMENTS, len(completed[0]))
        mean = max(1.0, target / max(1, len(treated)))
        self.assessments: dict[int, list[Assessment]] = defaultdict(list)
        rows = []
        for plan in self.plans:
            visits = completed[plan.index]
            if not visits:
                continue
            if plan is self.long:
                count = long_count
            else:
                count = min(len(visits), max(1, int(mean) + (rng.random() < mean % 1)))
            # The first visit, then evenly spread ones, the last possibly a discharge.
            chosen = [
                visits[round(i * (len(visits) - 1) / max(1, count - 1))] for i in range(count)
            ]
            case = CASES[plan.index % len(CASES)]
            pains, lefs = COURSES[case.course]
            for number, visit in enumerate(chosen):
                stage = min(3, number * 4 // max(1, count))
                kind = AssessmentKind.INITIAL if number == 0 else AssessmentKind.REASSESSMENT
                if number == count - 1 and number and plan.last_day <= self.today:
                    kind = AssessmentKind.DISCHARGE
                # The newest assessment of about one patient in twelve is a draft.
                draft = number == count - 1 and rng.random() < 1 / 12
                values = _assessment_values(
                    case, rng, visit.starts_at, kind, number, pains[stage], lefs[stage],
                    complete=not draft,
                )  # fmt: skip
                rows.append((plan, visit, values, draft))
        dobs = dict(Patient.objects.values_list("pk", "date_of_birth"))
        instances = []
        for plan, visit, values, draft in rows:
            therapist_id = self.therapist_ids[visit.practitioner]
            answers = clinical.lefs_validate(values.pop("lefs_answers"))
            local_day = visit.starts_at.astimezone(self.zone).date()
            result = clinical.ottawa_evaluate(
                clinical.parse_ottawa_findings(values), clinical.age_on(dobs[plan.id], local_day)
            )
            assessment = Assessment(
                patient_id=plan.id,
                therapist_id=therapist_id,
                lefs_answers=answers,
                lefs_total=clinical.lefs_total(answers),
                xray_ankle_indicated=result.ankle,
                xray_foot_indicated=result.foot,
                xray_knee_indicated=result.knee,
                xray_indicated=result.any,
                ottawa_ankle_verdict=result.ankle_verdict,
                ottawa_foot_verdict=result.foot_verdict,
                ottawa_knee_verdict=result.knee_verdict,
                created_at=visit.starts_at,
                **values,
            )
            if not draft:
                assessment.status = RecordStatus.SIGNED
                assessment.signed_at = self.signed(visit, minutes=20)
                assessment.signed_by_id = therapist_id
            instances.append(assessment)
            self.assessments[plan.index].append(assessment)
        bulk(Assessment, instances)
        self.counts["assessments"] = len(instances)

    # Plans, notes, programs ---------------------------------------------------------

    def seed_plans_and_notes(self) -> None:
        rng = self.rng
        techniques = {t.code: t for t in Technique.objects.all()}
        self.plan_of: dict[int, TreatmentPlan] = {}
        plans = []
        for plan in self.plans:
            signed = [a for a in self.assessments[plan.index] if a.status == RecordStatus.SIGNED]
            if not signed:
                continue
            first = signed[0]
            start = first.assessed_at.astimezone(self.zone).date()
            weeks = max(1, min(52, ((plan.last_day - start).days + 6) // 7))
            ended = plan.last_day < self.today
            treatment = TreatmentPlan(
                patient_id=plan.id,
                therapist_id=first.therapist_id,
                assessment=first,
                goals="Walk 30 minutes and climb stairs without pain; return to weekly sport.",
                visits_per_week=rng.choice([1, 2, 2, 3]),
                weeks=weeks,
                start_date=start,
                status=PlanStatus.COMPLETED if ended else PlanStatus.ACTIVE,
                ended_at=local_datetime(plan.last_day, dt.time(18, 0)) if ended else None,
                end_reason="Goals met; discharged." if ended else "",
                created_at=first.signed_at or first.assessed_at,
            )
            plans.append(treatment)
            self.plan_of[plan.index] = treatment
        bulk(TreatmentPlan, plans)
        bulk(
            PlannedTechnique,
            (
                PlannedTechnique(
                    plan=treatment, technique=techniques[code], grade=grade, target=target
                )
                for treatment in plans
                for code, grade, target in _PLAN_CHOICES[:2]
                if code in techniques
            ),
        )
        self.counts["treatment_plans"] = len(plans)

        # Visit notes: for the latest completed visits of each treated patient.
        target = scaled("visit_notes", self.n)
        treated = [p for p in self.plans if p.index in self.plan_of]
        long_notes = min(300, sum(1 for v in self.long.visits if v.status == "completed"))
        mean = max(0.0, target / max(1, len(treated) - 1))
        notes = []
        applied_technique = techniques.get("soft_tissue_mobilization")
        for plan in treated:
            completed = [v for v in plan.visits if v.status == AppointmentStatus.COMPLETED]
            count = long_notes if plan is self.long else int(mean) + (rng.random() < mean % 1)
            chosen = completed[-count:] if count else []
            for number, visit in enumerate(chosen):
                subjective, objective, assessment_text, plan_text = _NOTES[number % len(_NOTES)]
                therapist_id = self.therapist_ids[visit.practitioner]
                draft = number == len(chosen) - 1 and rng.random() < 0.05
                notes.append(
                    VisitNote(
                        appointment_id=visit.id,
                        patient_id=plan.id,
                        therapist_id=therapist_id,
                        treatment_plan=self.plan_of[plan.index],
                        visited_at=visit.starts_at,
                        subjective=subjective,
                        objective=objective,
                        assessment=assessment_text,
                        plan=plan_text,
                        pain_before=rng.randint(3, 7),
                        pain_after=rng.randint(1, 4),
                        status=RecordStatus.DRAFT if draft else RecordStatus.SIGNED,
                        signed_at=None if draft else self.signed(visit, minutes=15),
                        signed_by_id=None if draft else therapist_id,
                        created_at=visit.ends_at,
                    )
                )
        bulk(VisitNote, notes)
        if applied_technique is not None:
            bulk(
                AppliedTechnique,
                (
                    AppliedTechnique(
                        note=note, technique=applied_technique, minutes=10, target="Calf complex"
                    )
                    for note in notes
                ),
            )
        self.notes = notes
        self.counts["visit_notes"] = len(notes)

    def seed_programs(self) -> None:
        rng = self.rng
        exercises = list(Exercise.objects.filter(active=True).order_by("code"))
        programs = []
        self.program_of: dict[int, HomeExerciseProgram] = {}
        for plan in self.plans:
            treatment = self.plan_of.get(plan.index)
            if treatment is None:
                continue
            ended = plan.last_day < self.today
            program = HomeExerciseProgram(
                patient_id=plan.id,
                prescribed_by_id=treatment.therapist_id,
                start_date=treatment.start_date,
                end_date=plan.last_day if ended else None,
                status=ProgramStatus.ENDED if ended else ProgramStatus.ACTIVE,
                reminder_time=dt.time(rng.choice([7, 8, 18, 19]), 0),
                reminder_days=[0, 1, 2, 3, 4, 5, 6] if plan.index % 2 == 0 else [0, 2, 4],
                reminders_enabled=plan.opted_in,
                created_at=treatment.created_at,
            )
            programs.append(program)
            self.program_of[plan.index] = program
        bulk(HomeExerciseProgram, programs)
        bulk(
            ExercisePrescription,
            (
                ExercisePrescription(
                    program=program,
                    exercise=exercise,
                    sets=exercise.default_sets,
                    reps=exercise.default_reps,
                    hold_seconds=exercise.default_hold_seconds,
                    position=position,
                )
                for number, program in enumerate(programs)
                for position, exercise in enumerate(exercises[number % 3 : number % 3 + 3])
            ),
        )
        self.counts["programs"] = len(programs)
        # Completions: on distinct days of each program, up to today.
        target = scaled("completions", self.n)
        spans = {
            index: max(0, (min(p.end_date or self.today, self.today) - p.start_date).days)
            for index, p in self.program_of.items()
        }
        total_days = sum(spans.values()) or 1
        share = min(1.0, target / total_days)

        def completions() -> Iterator[ExerciseCompletion]:
            for index, program in self.program_of.items():
                days = spans[index]
                count = min(days, round(days * share + rng.random() - 0.5))
                for offset in sorted(rng.sample(range(days), count)) if count > 0 else []:
                    day = program.start_date + dt.timedelta(days=offset)
                    yield ExerciseCompletion(
                        program=program,
                        date=day,
                        source=CompletionSource.EMAIL_LINK
                        if rng.random() < 0.85
                        else CompletionSource.VISIT,
                        created_at=local_datetime(day, dt.time(19, 30)),
                    )

        self.counts["completions"] = bulk(ExerciseCompletion, completions())

    # Pain reports -------------------------------------------------------------------

    def seed_pain_reports(self) -> None:
        rng = self.rng
        target = scaled("pain_reports", self.n)
        rows = []
        for plan in self.plans:
            for assessment in self.assessments[plan.index]:
                if assessment.status == RecordStatus.SIGNED:
                    rows.append(
                        PainReport(
                            patient_id=plan.id,
                            score=assessment.pain_now,
                            reported_at=assessment.assessed_at,
                            source=PainSource.ASSESSMENT,
                            assessment=assessment,
                        )
                    )
        long_extra = max(
            0, LONG_HISTORY_PAIN_REPORTS - sum(1 for r in rows if r.patient_id == self.long.id)
        )
        treated = [p for p in self.plans if p.visits and p is not self.long]
        ordinary = sum(1 for r in rows if r.patient_id != self.long.id)
        mean = max(0.0, (target - ordinary) / max(1, len(treated)))
        for plan in [self.long, *treated]:
            count = long_extra if plan is self.long else int(mean) + (rng.random() < mean % 1)
            past = [v for v in plan.visits if v.ends_at <= self.now]
            if not past or not count:
                continue
            # Email check-ins two days after a visit (one per local day), else at a visit.
            days_used: set[dt.date] = set()
            for number in range(count):
                visit = past[number % len(past)] if plan is self.long else rng.choice(past)
                if number % 2 == 0:
                    when = visit.starts_at + dt.timedelta(days=2, hours=3)
                    local_day = when.astimezone(self.zone).date()
                    if when > self.now or local_day in days_used:
                        continue
                    days_used.add(local_day)
                    rows.append(
                        PainReport(
                            patient_id=plan.id,
                            score=rng.randint(0, 8),
                            reported_at=when,
                            source=PainSource.EMAIL_LINK,
                            local_date=local_day,
                        )
                    )
                else:
                    rows.append(
                        PainReport(
                            patient_id=plan.id,
                            score=rng.randint(0, 8),
                            reported_at=visit.starts_at + dt.timedelta(minutes=number % 40),
                            source=PainSource.VISIT,
                        )
                    )
        self.counts["pain_reports"] = bulk(PainReport, rows)

    # Reminders ----------------------------------------------------------------------

    def seed_reminders(self) -> None:
        rng = self.rng
        target = scaled("reminders", self.n)
        eligible_visits = [v for v in self.visits if v.status != AppointmentStatus.CANCELLED]
        appointment_share = min(1.0, (target / 2) / max(1, len(eligible_visits)))
        exercise_days = sum(
            max(
                0,
                (
                    min(p.end_date or self.last_day, self.today + dt.timedelta(days=2))
                    - p.start_date
                ).days,
            )
            for p in self.program_of.values()
        )

        def status_for(due: dt.datetime) -> dict:
            if due > self.now:
                return {"status": ReminderStatus.PENDING}
            if rng.random() < 0.06:
                return {
                    "status": ReminderStatus.FAILED,
                    "attempts": 3,
                    "last_error": rng.choice(FAILED_ERRORS),
                }
            return {
                "status": ReminderStatus.SENT,
                "attempts": 1,
                "sent_at": min(self.now, due + dt.timedelta(seconds=rng.randint(5, 90))),
            }

        def reminders() -> Iterator[Reminder]:
            made = 0
            for visit in eligible_visits:
                if rng.random() >= appointment_share:
                    continue
                due = visit.starts_at - dt.timedelta(hours=24)
                made += 1
                yield Reminder(
                    kind=ReminderKind.APPOINTMENT,
                    patient_id=visit.patient,
                    appointment_id=visit.id,
                    due_at=due,
                    key=appointment_key(appointment_id=visit.id, starts_at=visit.starts_at),
                    created_at=min(due, self.now),  # queued ahead of its moment
                    **status_for(due),
                )
            share = min(1.0, (target - made) / max(1, exercise_days))
            for program in self.program_of.values():
                end = min(program.end_date or self.last_day, self.today + dt.timedelta(days=2))
                days = (end - program.start_date).days
                for offset in range(max(0, days)):
                    if rng.random() >= share:
                        continue
                    day = program.start_date + dt.timedelta(days=offset)
                    due = local_datetime(day, program.reminder_time)
                    yield Reminder(
                        kind=ReminderKind.EXERCISE,
                        patient_id=program.patient_id,
                        program=program,
                        due_at=due,
                        key=exercise_key(program_id=program.pk, local_day=day),
                        created_at=min(due, self.now),
                        **status_for(due),
                    )

        self.counts["reminders"] = bulk(Reminder, reminders())

    # Audit events -------------------------------------------------------------------

    def seed_audit(self) -> None:
        """Sign-ins, then what staff did to each patient's records, then the patient
        pages they opened, to about the target count."""
        rng = self.rng
        target = scaled("audit_events", self.n)
        usernames = dict(
            User.objects.filter(pk__in=self.therapist_ids).values_list("pk", "username")
        )
        usernames[self.front_desk.pk] = self.front_desk.username
        usernames[self.manager.pk] = self.manager.username
        ips = [f"10.0.{i}.{j}" for i in range(4) for j in range(2, 40)]

        def event(actor_id, action, at, patient_id=None, obj_type="", obj_id="", detail=""):
            return AuditEvent(
                actor_id=actor_id,
                actor_username=usernames[actor_id],
                action=action,
                patient_id=patient_id,
                object_type=obj_type,
                object_id=str(obj_id),
                detail=detail,
                at=at,
                ip=rng.choice(ips),
            )

        record_events = (
            self.counts["patients"]
            + 2 * self.counts["assessments"]
            + 2 * self.counts["visit_notes"]
            + self.counts["appointments"]
        )
        keep = min(1.0, 0.6 * target / max(1, record_events))

        def events() -> Iterator[AuditEvent]:
            made = 0
            # Sign-ins: each staff member on most days.
            staff = [*self.therapist_ids, self.front_desk.pk, self.manager.pk]
            logins = min(target // 10, len(staff) * PAST_DAYS)
            for number in range(logins):
                day = self.first_day + dt.timedelta(days=number * PAST_DAYS // max(1, logins))
                made += 1
                yield event(
                    staff[number % len(staff)], AuditAction.LOGIN,
                    local_datetime(day, dt.time(7, rng.randint(0, 50))),
                )  # fmt: skip
            for plan in self.plans:
                if rng.random() < keep:
                    made += 1
                    yield event(
                        self.front_desk.pk, AuditAction.CREATE,
                        local_datetime(plan.first_day, dt.time(7, 0)) - dt.timedelta(days=1),
                        plan.id, "patients.patient", plan.id,
                    )  # fmt: skip
                for visit in plan.visits:
                    if rng.random() < keep:
                        made += 1
                        yield event(
                            self.front_desk.pk, AuditAction.CREATE,
                            min(self.now, visit.starts_at - dt.timedelta(days=3)),
                            plan.id, "clinic.appointment", visit.id, "booked",
                        )  # fmt: skip
                for a in self.assessments[plan.index]:
                    if rng.random() < keep:
                        made += 1
                        yield event(
                            a.therapist_id, AuditAction.CREATE, a.assessed_at, plan.id,
                            "patients.assessment", a.pk,
                        )  # fmt: skip
                    if a.signed_at and rng.random() < keep:
                        made += 1
                        yield event(
                            a.therapist_id, AuditAction.SIGN, a.signed_at, plan.id,
                            "patients.assessment", a.pk,
                        )  # fmt: skip
            for note in self.notes:
                if rng.random() < keep:
                    made += 1
                    yield event(
                        note.therapist_id, AuditAction.CREATE, note.created_at, note.patient_id,
                        "treatments.visitnote", note.pk,
                    )  # fmt: skip
                if note.signed_at and rng.random() < keep:
                    made += 1
                    yield event(
                        note.therapist_id, AuditAction.SIGN, note.signed_at, note.patient_id,
                        "treatments.visitnote", note.pk,
                    )  # fmt: skip
            # The rest: patient pages opened by their therapist on visit days.
            visits = [
                (plan, v) for plan in self.plans for v in plan.visits if v.starts_at <= self.now
            ]
            for _ in range(max(0, target - made)):
                plan, visit = rng.choice(visits)
                yield event(
                    self.therapist_ids[visit.practitioner], AuditAction.VIEW,
                    visit.starts_at + dt.timedelta(minutes=rng.randint(0, 30)),
                    plan.id, "patients.patient", plan.id, "patient page",
                )  # fmt: skip

        self.counts["audit_events"] = bulk(AuditEvent, events())
