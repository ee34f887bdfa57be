"""Benchmark: the needs-attention page of one therapist in a clinic of N patients, against
a floor (the patient registry's first page, as the same therapist) in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench \\
    python bench/attention.py --patients 20000 --therapists 20

What it does, as production runs (DEBUG off):
1. migrates the database named by DATABASE_URL (default: var/bench-attention.sqlite3) and
   removes the rows an earlier run created (every patient named "Bench*"), so run it
   against a copy, never a clinic's real data;
2. creates N patients spread over the therapists, each with an active plan of care, a
   history of pain reports, two signed LEFS, past visits, a home program with done
   days, and one in ten of them on the list for each of five rules (bulk inserts);
3. signs in the first therapist and times GET /attention/ and GET /patients/ (the floor)
   --repeat times each, printing the median, the ratio and the queries per page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--therapists", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-attention.sqlite3'}")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(args.patients, args.therapists)
    return measure(args.repeat)


def seed(count: int, therapists: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import transaction
    from django.utils import timezone

    from clinic.models import Appointment, AttentionAcknowledgement, AuditEvent, Practitioner
    from clinic.roles import THERAPIST
    from patients.models import Assessment, PainReport, Patient
    from treatments.models import ExerciseCompletion, HomeExerciseProgram, TreatmentPlan

    started = time.perf_counter()
    with transaction.atomic():
        old = Patient.objects.filter(last_name__startswith="Bench")
        AuditEvent.objects.filter(patient__in=old).delete()
        AttentionAcknowledgement.objects.filter(patient__in=old).delete()
        ExerciseCompletion.objects.filter(program__patient__in=old).delete()
        HomeExerciseProgram.objects.filter(patient__in=old).delete()
        Appointment.objects.filter(patient__in=old).delete()
        TreatmentPlan.objects.filter(patient__in=old).delete()
        PainReport.objects.filter(patient__in=old).delete()
        Assessment.objects.filter(patient__in=old).delete()
        old.delete()

        group = Group.objects.get(name=THERAPIST)
        staff = []
        for n in range(therapists):
            user, _ = User.objects.get_or_create(username=f"bench-therapist-{n}")
            user.groups.add(group)
            practitioner, _ = Practitioner.objects.get_or_create(
                user=user, defaults={"display_name": f"Bench therapist {n}"}
            )
            staff.append((user, practitioner))

        now = timezone.now()
        today = timezone.localdate()
        patients = Patient.objects.bulk_create(
            Patient(
                first_name=f"P{n}",
                last_name=f"Bench{n:06d}",
                date_of_birth=dt.date(1970, 1, 1),
                search_name=f"p{n} bench{n:06d}",
            )
            for n in range(count)
        )

        def who(n):
            return staff[n % therapists]

        common = {
            "region": "knee",
            "side": "left",
            "pain_now": 5,
            "pain_worst": 7,
            "pain_best": 2,
            "status": "signed",
            "signed_at": now,
        }
        first = Assessment.objects.bulk_create(
            Assessment(
                patient=p,
                therapist=who(n)[0],
                signed_by=who(n)[0],
                assessed_at=now - dt.timedelta(days=40),
                lefs_total=50,
                **common,
            )
            for n, p in enumerate(patients)
        )
        # A fall of 10 for one patient in ten.
        Assessment.objects.bulk_create(
            Assessment(
                patient=p,
                therapist=who(n)[0],
                signed_by=who(n)[0],
                kind="reassessment",
                assessed_at=now - dt.timedelta(days=10),
                lefs_total=40 if (n // therapists) % 10 == 0 else 55,
                **common,
            )
            for n, p in enumerate(patients)
        )
        TreatmentPlan.objects.bulk_create(
            TreatmentPlan(
                patient=p,
                therapist=who(n)[0],
                assessment=first[n],
                goals="Bench",
                visits_per_week=2,
                weeks=6,
                start_date=today - dt.timedelta(days=40),
            )
            for n, p in enumerate(patients)
        )
        PainReport.objects.bulk_create(
            PainReport(
                patient=p,
                score=(8 if (n // therapists) % 10 == 1 and day == 0 else 4),
                reported_at=now - dt.timedelta(days=day * 3 + 1),
                source="visit",
            )
            for n, p in enumerate(patients)
            for day in range(6)
        )
        # Visits in 30-minute slots that never overlap for a practitioner: four past ones
        # (the latest two missed for one patient in ten) and one booked, except for one
        # patient in ten, who has no next visit.
        half_hour = dt.timedelta(minutes=30)
        visits = []
        for n, p in enumerate(patients):
            k = n // therapists
            for j in range(4):
                starts = now - half_hour * (4 * k + j + 1)
                status = "no_show" if k % 10 == 2 and j < 2 else "completed"
                visits.append((p, n, starts, status))
            if k % 10 != 3:
                visits.append((p, n, now + half_hour * (k + 1), "booked"))
        Appointment.objects.bulk_create(
            Appointment(
                patient=p,
                practitioner=who(n)[1],
                starts_at=starts,
                ends_at=starts + half_hour,
                kind="follow_up",
                status=status,
                created_by=who(n)[0],
            )
            for p, n, starts, status in visits
        )
        programs = HomeExerciseProgram.objects.bulk_create(
            HomeExerciseProgram(
                patient=p, prescribed_by=who(n)[0], start_date=today - dt.timedelta(days=30)
            )
            for n, p in enumerate(patients)
        )
        ExerciseCompletion.objects.bulk_create(
            ExerciseCompletion(
                program=program,
                date=today - dt.timedelta(days=day + (10 if (n // therapists) % 10 == 4 else 1)),
                source="email_link",
            )
            for n, program in enumerate(programs)
            for day in range(8)
        )
    from django.db import connection

    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would have after a bulk load.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"seeded {count} patients for {therapists} therapists in "
        f"{time.perf_counter() - started:.1f} s"
    )


def measure(repeat: int) -> int:
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from clinic.attention.selectors import needs_attention, their_patients

    user = User.objects.get(username="bench-therapist-0")
    listed = len(needs_attention(user))
    print(f"therapist 0: {their_patients(user).count()} patients, {listed} need attention")
    client = Client()
    client.force_login(user)
    results = {}
    for name, url in (("floor /patients/", "/patients/"), ("/attention/", "/attention/")):
        client.get(url)  # warm-up
        times = []
        for _ in range(repeat):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        results[name] = statistics.median(times)
        print(f"{name:20s} median {results[name] * 1000:7.1f} ms  {len(queries)} queries")
    ratio = results["/attention/"] / results["floor /patients/"]
    print(f"attention / floor = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
