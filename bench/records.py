"""Benchmark: the audit log, its CSV export, the patient page and the outcome chart with a
clinic group's data, and the registry's name-search plan.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/records_dev \\
        python bench/records.py --patients 20000 --audit-events 500000 --points 500

What it does, in the database named by DATABASE_URL (migrated first; run it against a
copy, never a clinic's real data):
1. unless they are there already (``--reseed`` replaces them), bulk-inserts patients
   (accented and Spanish names), audit events spread over two years, and one patient
   with a long history: ``--points`` pain scores, signed assessments with LEFS (one a
   week) and visit notes;
2. times, with the test client and DEBUG off, each page ``--repeat`` times: a floor page
   (the base template with 50 static rows), the audit log (first page, an older page,
   filtered by action), the patient page (therapist and front desk), the outcomes page,
   and prints median, p95 and queries per page;
3. times the whole audit CSV export end to end (every byte read, rows counted, trailer
   checked) and prints rows, seconds and rows per second;
4. on PostgreSQL, prints EXPLAIN ANALYZE of the registry's name search (page and count
   queries) without and with the trigram index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

BENCH_DOMAIN = "bench.invalid"
FIRST = ["José", "María", "Ana", "Luis", "Zoë", "Chloé", "Noah", "Emma", "Olivia", "Liam"]
FIRST += ["Lucía", "Mateo", "Sofía", "Ethan", "Mia", "Renée", "Björn", "Ava", "Iñaki", "Jack"]
LAST = ["García", "Núñez", "Smith", "Johnson", "Müller", "O'Brien", "Peña", "Brown", "Lee"]
LAST += ["Fernández", "Williams", "Jones", "Martínez", "Davis", "Łukasz", "Miller", "Rossi"]


def seed(args) -> None:
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from clinic.models import AuditEvent
    from patients.clinical import normalise_name
    from patients.models import Assessment, PainReport, Patient
    from treatments.models import VisitNote

    rng = random.Random(11)
    if Patient.objects.filter(email__endswith=BENCH_DOMAIN).exists() and not args.reseed:
        print("seed: already there (use --reseed to replace it)")
        return
    print("seed: removing an earlier run's rows ...", flush=True)
    bench_patients = Patient.objects.filter(email__endswith=BENCH_DOMAIN)
    AuditEvent.objects.filter(actor_username__startswith="bench-").delete()
    AuditEvent.objects.filter(patient__in=bench_patients).delete()
    for model in (VisitNote, PainReport):
        model.objects.filter(patient__in=bench_patients).delete()
    Assessment.objects.filter(patient__in=bench_patients).delete()
    bench_patients.delete()

    therapist, _ = User.objects.get_or_create(username="bench-therapist")
    therapist.groups.add(Group.objects.get(name="Therapist"))
    desk, _ = User.objects.get_or_create(username="bench-frontdesk")
    desk.groups.add(Group.objects.get(name="Front desk"))
    manager, _ = User.objects.get_or_create(username="bench-manager")
    manager.groups.add(Group.objects.get(name="Clinic manager"))

    start = time.perf_counter()
    patients = []
    for n in range(args.patients):
        first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{n // len(LAST) or ''}"
        patients.append(
            Patient(
                first_name=first,
                last_name=last,
                search_name=normalise_name(f"{first} {last}"),
                date_of_birth=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25_000)),
                email=f"p{n}@{BENCH_DOMAIN}",
                phone=f"+1555{n:07d}",
                preferred_language="es" if n % 3 == 0 else "en",
                timezone="America/New_York",
            )
        )
    Patient.objects.bulk_create(patients, batch_size=5000)
    ids = list(Patient.objects.filter(email__endswith=BENCH_DOMAIN).values_list("id", flat=True))
    print(f"seed: {len(ids)} patients in {time.perf_counter() - start:.1f} s", flush=True)

    start = time.perf_counter()
    now = timezone.now()
    actions = ["view"] * 8 + ["update", "sign", "login", "export", "create", "amend"]
    actors = [therapist, desk, manager]
    batch: list[AuditEvent] = []
    for n in range(args.audit_events):
        actor = actors[n % 3]
        batch.append(
            AuditEvent(
                actor=actor,
                actor_username=actor.username,
                action=rng.choice(actions),
                patient_id=rng.choice(ids),
                object_type="patients.patient",
                object_id=str(n),
                detail="patient page with clinical record",
                at=now - dt.timedelta(seconds=rng.randrange(2 * 365 * 86_400)),
                ip="10.0.0.1",
            )
        )
        if len(batch) == 10_000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    print(f"seed: {args.audit_events} audit events in {time.perf_counter() - start:.1f} s")

    long = Patient.objects.get(email=f"p0@{BENCH_DOMAIN}")
    weeks = max(args.points // 7, 1)
    assessments = []
    for w in range(weeks):
        when = now - dt.timedelta(weeks=weeks - w)
        answers = [rng.randrange(5) for _ in range(20)]
        assessments.append(
            Assessment(
                patient=long,
                therapist=therapist,
                assessed_at=when,
                kind="reassessment" if w else "initial",
                region="knee",
                side="right",
                pain_now=rng.randrange(11),
                pain_worst=8,
                pain_best=1,
                pain_qualities=["dull_ache"],
                suspected_causes=["arthritis"],
                precautions=[],
                lefs_answers=answers,
                lefs_total=sum(answers),
                status="signed",
                signed_by=therapist,
                signed_at=when,
                clinical_impression="Knee pain consistent with early osteoarthritis.",
            )
        )
    Assessment.objects.bulk_create(assessments)
    reports = [
        PainReport(
            patient=long,
            score=rng.randrange(11),
            reported_at=now - dt.timedelta(days=args.points - d, hours=3),
            source="visit" if d % 2 else "email_link",
            local_date=(now - dt.timedelta(days=args.points - d, hours=3)).date(),
        )
        for d in range(args.points)
    ]
    PainReport.objects.bulk_create(reports)
    VisitNote.objects.bulk_create(
        VisitNote(
            patient=long,
            therapist=therapist,
            visited_at=now - dt.timedelta(days=3 * d),
            subjective="Better.",
            pain_before=5,
            pain_after=3,
        )
        for d in range(weeks)
    )
    print(f"seed: patient {long.pk} has {args.points} pain scores, {weeks} assessments and notes")


def floor_page(request):
    """The floor: the base template with 50 static rows (what any page costs at least)."""
    from django.http import HttpResponse
    from django.template import RequestContext, Template

    rows = "".join(f"<tr><td>{n}</td><td>row {n}</td></tr>" for n in range(50))
    template = Template(
        '{% extends "base.html" %}{% block content %}<table>{{ rows|safe }}</table>{% endblock %}'
    )
    return HttpResponse(template.render(RequestContext(request, {"rows": rows})))


def timed(client, url, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], queries


def explain_search(queries: list[str]) -> None:
    """EXPLAIN ANALYZE of the registry search's page and count queries, with the trigram
    index and without it (dropped inside a transaction that is rolled back)."""
    from django.db import connection, transaction

    from patients.selectors import patient_search

    print("\nregistry name search, EXPLAIN ANALYZE (without -> with patient_search_name_trgm_idx)")
    for text in queries:
        found = patient_search(query=text)
        page_sql, page_params = found[:25].query.sql_with_params()
        ids_sql, ids_params = found.order_by().values("id").query.sql_with_params()
        for label, sql, params in (
            ("page", page_sql, page_params),
            ("count", f"SELECT count(*) FROM ({ids_sql}) found", ids_params),
        ):
            for with_index in (False, True):
                with transaction.atomic(), connection.cursor() as cursor:
                    if not with_index:
                        cursor.execute("DROP INDEX patient_search_name_trgm_idx")
                    cursor.execute("EXPLAIN ANALYZE " + sql, params)
                    plan = [line for (line,) in cursor.fetchall()]
                    transaction.set_rollback(True)
                scan = next(
                    line.strip(" ->")
                    for line in plan
                    if "Scan" in line and "Bitmap Heap" not in line
                )
                state = "with" if with_index else "without"
                print(f"  {text!r} {label:5} {state:7} {plan[-1].strip():28} {scan[:90]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--audit-events", type=int, default=500_000)
    parser.add_argument("--points", type=int, default=500, help="the long patient's scores")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    call_command("migrate", verbosity=0)
    seed(args)
    setup_test_environment()  # DEBUG off, the test client's host allowed

    from django.contrib.auth.models import User

    from clinic.models import AuditEvent
    from patients.models import Patient

    long = Patient.objects.get(email=f"p0@{BENCH_DOMAIN}")
    client = Client()
    users = {
        name: User.objects.get(username=f"bench-{name}")
        for name in ("therapist", "frontdesk", "manager")
    }

    from django.urls import path

    from clinic import urls as clinic_urls

    clinic_urls.urlpatterns.append(path("bench-floor/", floor_page))
    from django.urls import clear_url_caches

    clear_url_caches()
    audit = reverse("audit:log")
    first_page = None
    print(f"\n{AuditEvent.objects.count():,} audit events, {Patient.objects.count():,} patients")
    print(f"{'page':<44} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'× floor':>8}")
    floor = None
    pages = [
        ("manager", "floor page", "/bench-floor/"),
        ("manager", "audit log", audit),
        ("manager", "audit log, action=sign", audit + "?action=sign"),
        ("manager", "audit log, older page", None),
        (
            "therapist",
            "patient page (therapist, long history)",
            reverse("patients:detail", args=[long.pk]),
        ),
        ("frontdesk", "patient page (front desk)", reverse("patients:detail", args=[long.pk])),
        (
            "therapist",
            f"outcomes ({args.points} pain points)",
            reverse("patients:outcomes", args=[long.pk]),
        ),
    ]
    for role, label, url in pages:
        client.force_login(users[role])
        if url is None:
            page = first_page.context["page"] if first_page is not None else None
            older = getattr(page, "older", None)
            url = f"{audit}?older={older}" if older else f"{audit}?page=2"
        if label == "audit log":
            first_page = client.get(url)
        median, p95, queries = timed(client, url, args.repeat)
        floor = floor or median
        print(f"{label:<44} {median:>10.1f} {p95:>8.1f} {queries:>8} {median / floor:>8.1f}")

    if not args.skip_export:
        client.force_login(users["manager"])
        start = time.perf_counter()
        response = client.get(reverse("audit:export"))
        size, lines, last = 0, 0, b""
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = (last + chunk)[-200:]
        seconds = time.perf_counter() - start
        trailer = last.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].decode()
        print(
            f"\naudit CSV export: {lines - 2:,} rows, {size / 1e6:.0f} MB in {seconds:.1f} s "
            f"({(lines - 2) / seconds:,.0f} rows/s); last line: {trailer}"
        )

    if connection.vendor == "postgresql":
        explain_search(["zoe mull", "nunez jo"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
