"""Benchmark: every page a user opens, timed in-process at two data sizes in one run.

    python bench/pages.py                                  # --small 200 --large 20000
    python bench/pages.py --iterations 5 --only calendar-day --only book-get
    make bench-pages BENCH_ARGS="--iterations 5"

What it does:
1. each size has its own PostgreSQL database on the server DATABASE_URL names (default
   postgres://postgres@127.0.0.1:5432): ``<prefix>_small`` and ``<prefix>_large``
   (--db-prefix, default bench_scale). A database whose patient count differs from the
   size asked for, or whose seeded calendar no longer reaches two weeks ahead, is dropped,
   migrated and filled again with ``manage.py seed_scale`` (--reseed forces it);
2. each size is then measured in its own subprocesses, under production settings
   (DJANGO_ENV=production: DEBUG off, cached templates, persistent connections, the
   manifest static storage; requests over HTTPS; set up as clinic/wsgi.py sets up
   gunicorn's), with django.test.Client. The sizes take turns (--rounds, default 3:
   small, large, small, large...), so a shared machine's changing speed weighs on both
   sizes alike rather than on the growth between them. The bench
   users (seed_scale) are signed in with force_login and a verified second factor (a
   TOTP device of their own, as the two-step sign-in leaves in the session);
3. every iteration times the floor page first and then each page, so noise hits both.
   The floor page is defined here (its own URLconf: the project's URLs plus /bench-floor/,
   never in production's): the base template and 50 static table rows, signed in;
4. each page must answer 200 (302 for a POST) and be the page itself, not a sign-in or
   second-factor redirect; each is first requested WARM_UP times untimed (caches,
   prepared statements), and the SQL queries and the size of the answer (kB of HTML) of
   one more untimed request are counted;
5. one table: median and p95 (ms) and queries at each size; x floor at the large size
   (the median over iterations of the page's time over the floor's time in the same
   iteration); growth = x floor at the large size / x floor at the small size, so the
   machine's speed when each size ran cancels out (raw = large median / small median
   is printed too; the kB at each size tell a page that shows more at the large size,
   a longer day or list, from one that reads more to show the same); and the targets a
   row misses (x floor <= 3, growth <= 1.3, the same query count at both sizes). The
   audit CSV export, one big response, is timed on its own (seconds and rows).

Book POSTs each take a different free slot (days beyond the seeded calendar) and are
deleted afterwards; the sign POST signs a draft note created before the timed request
(also deleted afterwards). Page views add their audit events, as they would in use.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import secrets
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
TARGET_FLOOR_RATIO = 3.0
TARGET_GROWTH = 1.3
FLOOR = "floor"
URLCONF = "bench_pages_urls"
WARM_UP = 6  # untimed requests of each page before timing
PATIENT_TITLE = "<title>Ángela Núñez Ortega"  # seed_scale's long-history patient
DRAFT_TEXT = "Bench draft: stairs easier this week."


# The parent: databases, subprocesses, the table ------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=200, help="patients in the small size")
    parser.add_argument("--large", type=int, default=20_000, help="patients in the large size")
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="split the iterations into this many rounds, small and large in turn",
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="PAGE", help="time only this page"
    )
    parser.add_argument("--reseed", action="store_true", help="seed both databases again")
    parser.add_argument("--db-prefix", default="bench_scale")
    parser.add_argument("--no-export", action="store_true", help="skip the audit CSV export")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="after timing, profile N more requests of each page (cProfile) and print where "
        "the time goes",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: measure one size
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    print("$ " + shlex.join([display_path(sys.executable), *sys.argv]), flush=True)
    unknown = set(args.only) - set(PAGE_NAMES) - {FLOOR}  # the floor is always timed
    if unknown:
        parser.error(f"unknown page(s) {sorted(unknown)}; pages: {', '.join(PAGE_NAMES)}")
    server = server_url(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    env = production_env()
    collectstatic(env)
    urls = {}
    for label, patients in (("small", args.small), ("large", args.large)):
        urls[label] = f"{server}/{args.db_prefix}_{label}"
        ensure_seeded(urls[label], patients, reseed=args.reseed, env=env)
    # The sizes take turns, a round each, so a machine that speeds up or slows down
    # during the run (a shared one does) weighs on both sizes' medians alike.
    rounds = round_sizes(args.iterations, args.rounds)
    results: dict[str, dict] = {}
    for number, iterations in enumerate(rounds, 1):
        last = number == len(rounds)
        for label in ("small", "large"):
            print(f"{label}: round {number}/{len(rounds)}, {iterations} iterations", flush=True)
            part = measure(urls[label], label, args, env, iterations=iterations, last=last)
            results[label] = merge(results.get(label), part)
    print_table(results, args)
    return 0


def round_sizes(iterations: int, rounds: int) -> list[int]:
    """``iterations`` split into at most ``rounds`` near-equal rounds: 15, 3 -> 5, 5, 5."""
    rounds = max(1, min(rounds, iterations))
    return [iterations // rounds + (i < iterations % rounds) for i in range(rounds)]


def merge(total: dict | None, part: dict) -> dict:
    """One size's results over the rounds: every time; the query count of each round,
    which must be the same; the export of the last round."""
    if total is None:
        return part
    for page, times in part["times"].items():
        total["times"][page] += times
    for page, count in part["queries"].items():
        if total["queries"][page] != count:
            raise SystemExit(f"{page}: {total['queries'][page]} queries, then {count}")
    total["sizes"] = part["sizes"]
    total["export"] = part["export"] or total["export"]
    return total


def display_path(executable: str) -> str:
    """The interpreter as typed from the repository (".venv/bin/python"), else in full."""
    try:
        return str(Path(executable).relative_to(Path.cwd()))
    except ValueError:
        return executable


def server_url(database_url: str) -> str:
    """DATABASE_URL without its database name."""
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("bench/pages.py measures on PostgreSQL: DATABASE_URL must be postgres://...")
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")).rstrip("/")


def production_env() -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "STATIC_ROOT": str(ROOT / "var" / "bench-static"),
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DEBUG", None)
    return env


def manage(*args: str, env: dict[str, str], database_url: str | None = None) -> None:
    run_env = dict(env)
    if database_url:
        run_env["DATABASE_URL"] = database_url
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=run_env, check=True)


def collectstatic(env: dict[str, str]) -> None:
    # Production serves hashed static names from a manifest: build it once.
    manage("collectstatic", "--no-input", "-v0", env=env, database_url=f"{DEFAULT_SERVER}/x")


def ensure_seeded(url: str, patients: int, *, reseed: bool, env: dict[str, str]) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    stored = stored_size(url) if exists else None
    if stored is not None and stored[0] == patients and stored[1] and not reseed:
        # The code may have new migrations since the seed (indexes, constraints): apply them,
        # so the pages are measured on the schema they will run on.
        manage("migrate", "--no-input", "-v0", env=env, database_url=url)
        vacuum_analyze(url)
        print(f"{name}: {patients:,} patients, seeded earlier (--reseed to seed again)")
        return
    why = "--reseed" if reseed else ("new" if stored is None else f"holds {stored[0]:,} patients")
    print(f"{name}: seeding {patients:,} patients ({why})", flush=True)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    started = time.monotonic()
    manage("migrate", "--no-input", "-v0", env=env, database_url=url)
    migrated = time.monotonic()
    manage("seed_scale", "--patients", str(patients), env=env, database_url=url)
    vacuum_analyze(url)
    done = time.monotonic()
    print(
        f"{name}: migrate {migrated - started:.1f} s, seed_scale {done - migrated:.1f} s",
        flush=True,
    )


def vacuum_analyze(url: str) -> None:
    """Planner statistics and visibility maps, as autovacuum keeps them in production.

    A database filled by bulk inserts has no statistics until autovacuum's next pass (and
    none at all on a server running with autovacuum off): the planner then guesses a
    handful of rows per table and picks sequential scans and sorts no production database
    would use. After the first pass this takes about a second.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def stored_size(url: str) -> tuple[int, bool] | None:
    """(patients, calendar still reaches two weeks ahead), or None if not a seeded one."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            patients = conn.execute("SELECT count(*) FROM patients_patient").fetchone()
            bench = conn.execute(
                "SELECT 1 FROM auth_user WHERE username = 'bench-therapist'"
            ).fetchone()
            ahead = conn.execute(
                "SELECT max(starts_at) > now() + interval '14 days' FROM clinic_appointment"
            ).fetchone()
    except psycopg.Error:
        return None
    if not bench or patients is None or ahead is None:
        return None
    return int(patients[0]), bool(ahead[0])


def measure(
    url: str, label: str, args, env: dict[str, str], *, iterations: int, last: bool
) -> dict:
    """One round of one size, in its own process; the export and the profile, if asked
    for, in the last round."""
    result_file = ROOT / "var" / f"bench-pages-{label}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        label,
        "--result",
        str(result_file),
        "--iterations",
        str(iterations),
        *(f"--only={page}" for page in args.only),
        *(["--no-export"] if args.no_export or not last else []),
        *([f"--profile={args.profile}"] if args.profile and last else []),
    ]
    subprocess.run(command, cwd=ROOT, env={**env, "DATABASE_URL": url}, check=True)
    return json.loads(result_file.read_text())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def floor_ratio(result: dict, page: str) -> float:
    """The page's median time over the floor's, iteration by iteration: each iteration
    times the floor and then the page within a second or so, so a machine that changes
    speed between rounds (or between the sizes) changes both."""
    pairs = zip(result["times"][page], result["times"][FLOOR], strict=True)
    return statistics.median(page_ms / floor_ms for page_ms, floor_ms in pairs)


def kilobytes(size: int) -> str:
    """An answer's size for the table: "-" for a redirect's empty body."""
    return f"{size / 1000:.1f}" if size else "-"


def print_table(results: dict, args) -> None:
    small, large = results["small"], results["large"]
    header = (
        f"{'page':<22} {'small med':>9} {'p95':>8} {'q':>4} {'kB':>5}   {'large med':>9}"
        f" {'p95':>8} {'q':>4} {'kB':>5}   {'x floor':>7} {'growth':>6} {'raw':>5}  misses"
    )
    print()
    print(
        f"patients: small {small['patients']:,}, large {large['patients']:,}; "
        f"{args.iterations} iterations in {len(round_sizes(args.iterations, args.rounds))} "
        "rounds; times in ms"
    )
    print(
        "x floor: at the large size, the median of each iteration's page time over its "
        "floor time;\ngrowth: x floor at the large size over x floor at the small size; "
        "raw: large median over small median; kB: the page's HTML"
    )
    print(header)
    print("-" * len(header))
    missed = 0
    for page in [FLOOR, *[p for p in PAGE_NAMES if p in large["times"]]]:
        s_times, l_times = small["times"][page], large["times"][page]
        s_med, l_med = statistics.median(s_times), statistics.median(l_times)
        ratio = floor_ratio(large, page)
        growth, raw = ratio / floor_ratio(small, page), l_med / s_med
        s_q, l_q = small["queries"][page], large["queries"][page]
        misses = []
        if page != FLOOR:
            if ratio > TARGET_FLOOR_RATIO:
                misses.append(f">{TARGET_FLOOR_RATIO:g}x floor")
            if growth > TARGET_GROWTH:
                misses.append(f"growth>{TARGET_GROWTH:g}")
            if s_q != l_q:
                misses.append("queries grow")
        missed += bool(misses)
        s_kb, l_kb = (kilobytes(results[label]["sizes"][page]) for label in ("small", "large"))
        print(
            f"{page:<22} {s_med:>9.1f} {percentile(s_times, 0.95):>8.1f} {s_q:>4} {s_kb:>5}"
            f"   {l_med:>9.1f} {percentile(l_times, 0.95):>8.1f} {l_q:>4} {l_kb:>5}"
            f"   {ratio:>7.2f} {growth:>6.2f} {raw:>5.2f}"
            f"  {'!! ' + ', '.join(misses) if misses else ''}"
        )
    print()
    for label in ("small", "large"):
        export = results[label].get("export")
        if export:
            print(
                f"audit CSV export ({label}): {export['seconds']:.2f} s, {export['rows']:,} rows,"
                f" {export['bytes'] / 1e6:.1f} MB, status {export['status']}"
            )
    print(f"pages missing a target: {missed}")


# The child: one size, in production settings ---------------------------------------


@dataclass
class Page:
    name: str
    role: str  # therapist | front_desk | manager
    path: Any  # str, or callable(ctx, iteration) -> str
    method: str = "get"
    data: Any = None  # dict or callable(ctx, iteration) -> dict
    marker: str = ""  # text the real page contains
    prepare: Any = None  # callable(ctx, iteration), run before the timed request
    status: int = 0  # expected: 200 for GET, 302 for POST unless given

    @property
    def expected(self) -> int:
        return self.status or (302 if self.method == "post" else 200)


def _p(fmt: str):
    return lambda ctx, i: fmt.format(**ctx)


PAGES = [
    Page("today-therapist", "therapist", "/", marker="<title>Today"),
    Page("today-frontdesk", "front_desk", "/", marker="<title>Today"),
    Page("today-manager", "manager", "/", marker="<title>Today"),
    Page("attention", "therapist", "/attention/", marker="<title>Needs attention"),
    Page("registry-list", "front_desk", "/patients/", marker="<title>Patients"),
    Page("registry-search", "front_desk", "/patients/?q=garc", marker="García"),
    Page("patient-therapist", "therapist", _p("/patients/{patient}/"), marker=PATIENT_TITLE),
    Page("patient-frontdesk", "front_desk", _p("/patients/{patient}/"), marker=PATIENT_TITLE),
    Page(
        "assessment",
        "therapist",
        _p("/patients/{patient}/assessments/{assessment}/"),
        marker="LEFS",
    ),
    Page("outcomes", "therapist", _p("/patients/{patient}/outcomes/"), marker="<title>Outcomes"),
    Page("plan", "therapist", _p("/treatments/plans/{plan}/"), marker="<title>Plan of care"),
    Page("note", "therapist", _p("/treatments/notes/{note}/"), marker="<title>Visit note"),
    Page(
        "program", "therapist", _p("/treatments/programs/{program}/"), marker="<title>Home exercise"
    ),
    Page(
        "handout",
        "therapist",
        _p("/treatments/programs/{program}/handout/"),
        marker="<title>Su programa",
    ),
    Page("calendar-day", "front_desk", "/schedule/", marker="<title>Calendar"),
    Page(
        "calendar-week",
        "therapist",
        _p("/schedule/week/{practitioner}/"),
        marker="<title>Alex Rivera: week",
    ),
    Page(
        "free-slots",
        "front_desk",
        _p("/schedule/free-slots/?kind=follow_up&count=5&patient={patient}"),
        marker="<title>Find a free slot",
    ),
    Page(
        "recurring-preview",
        "front_desk",
        "/schedule/recurring/",
        method="post",
        data=lambda ctx, i: {
            "patient": ctx["patient"],
            "practitioner": ctx["practitioner"],
            "kind": "follow_up",
            "first_date": ctx["tomorrow"],
            "time": "10:00",
            "weekdays": ["0", "3"],
            "weeks": "6",
        },
        marker="<title>Recurring visits",
        status=200,  # a preview: the page again, with the dates and any clashes
    ),
    Page("reminders", "front_desk", "/reminders/", marker="<title>Reminders"),
    Page("audit-log", "manager", "/audit/", marker="<title>Audit log"),
    # Caseload reports, default period (the last 12 weeks): the manager's four pages and
    # the therapist's own patients behind their outcomes row.
    Page("report-outcomes", "manager", "/reports/outcomes/", marker="<title>Outcomes report"),
    Page("report-attendance", "manager", "/reports/attendance/", marker="<title>Attendance report"),
    Page(
        "report-utilisation",
        "manager",
        "/reports/utilisation/",
        marker="<title>Utilisation report",
    ),
    Page(
        "report-adherence",
        "manager",
        "/reports/adherence/",
        marker="<title>Home-program adherence report",
    ),
    Page(
        "report-my-patients",
        "therapist",
        "/reports/outcomes/my-patients/",
        marker="<title>Outcomes: your patients",
    ),
    Page(
        "audit-filtered",
        "manager",
        _p("/audit/?patient={patient}&action=view"),
        marker="<title>Audit log",
    ),
    Page("book-get", "front_desk", "/schedule/book/", marker="<title>Book a visit"),
    Page(
        "book-post",
        "front_desk",
        "/schedule/book/",
        method="post",
        data=lambda ctx, i: {
            "patient": ctx["patient"],
            "practitioner": ctx["practitioner"],
            "kind": "follow_up",
            "date": ctx["book_day"](i),
            "time": "10:00",
            "duration": "30",
            "room": "",
        },
    ),
    Page(
        "sign",
        "therapist",
        lambda ctx, i: f"/treatments/notes/{ctx['drafts'][i]}/sign/",
        method="post",
        data=lambda ctx, i: {},
        prepare=lambda ctx, i: ctx["make_draft"](i),
    ),
]
PAGE_NAMES = [page.name for page in PAGES]


def child(args) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    # Set up as gunicorn serves the app: Django, every view loaded, objects frozen.
    importlib.import_module("clinic.wsgi")

    from django.conf import settings
    from django.contrib.auth.decorators import login_required
    from django.db import connection
    from django.http import HttpResponse
    from django.template import engines
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import clear_url_caches, path, reverse

    assert not settings.DEBUG, "the bench measures with DEBUG off"

    floor_template = engines["django"].from_string(
        '{% extends "base.html" %}{% block title %}Floor{% endblock %}{% block content %}'
        '<table class="table"><thead><tr><th>#</th><th>Name</th><th>Value</th></tr></thead>'
        "<tbody>"
        + "".join(f"<tr><td>{n}</td><td>Row {n}</td><td>{n * 7 % 100}</td></tr>" for n in range(50))
        + "</tbody></table>{% endblock %}"
    )

    @login_required
    def floor(request):
        return HttpResponse(floor_template.render({}, request))

    import clinic.urls

    urls = ModuleType(URLCONF)
    urls.urlpatterns = [path("bench-floor/", floor), *clinic.urls.urlpatterns]
    sys.modules[URLCONF] = urls
    settings.ROOT_URLCONF = URLCONF
    clear_url_caches()

    ctx = bench_context()
    clients = {role: signed_in_client(Client, user) for role, user in ctx["users"].items()}
    pages = [page for page in PAGES if not args.only or page.name in args.only]

    sign_in_pages = (reverse("login"), reverse("mfa_verify"), reverse("mfa_enrol"))

    def request(page: Page | None, iteration: int):
        if page is None:
            return clients["therapist"].get("/bench-floor/", secure=True)
        url = page.path(ctx, iteration) if callable(page.path) else page.path
        client = clients[page.role]
        if page.method == "post":
            return client.post(url, page.data(ctx, iteration), secure=True)
        return client.get(url, secure=True)

    def check(page: Page | None, response) -> None:
        name = page.name if page else FLOOR
        expected = page.expected if page else 200
        if response.status_code != expected:
            raise SystemExit(f"{name}: status {response.status_code}, expected {expected}")
        if expected == 302:
            location = response["Location"]
            if location.startswith(sign_in_pages):
                raise SystemExit(f"{name}: redirected to {location}, not the page's result")
            return
        body = response.content.decode()
        if 'name="password"' in body or 'name="otp_token"' in body:
            raise SystemExit(f"{name}: got a sign-in form, not the page")
        marker = page.marker if page else "Row 49"
        if marker and marker not in body:
            raise SystemExit(f"{name}: the page does not contain {marker!r}")

    times: dict[str, list[float]] = {FLOOR: [], **{page.name: [] for page in pages}}
    queries: dict[str, int] = {}
    sizes: dict[str, int] = {}
    # Untimed passes to warm caches and the connection, checking each page, as a server
    # that has been up a while has them: WARM_UP of them, so the prepared reads
    # (patients/sql.py) are past PostgreSQL's first five plans of each. One more counts
    # queries. Book and sign take a fresh iteration number each (a day, a draft).
    extra = args.iterations
    for warm in range(WARM_UP):
        for page in [None, *pages]:
            if page and page.prepare:
                page.prepare(ctx, extra + warm)
            check(page, request(page, extra + warm))
    extra += WARM_UP
    for page in [None, *pages]:
        if page and page.prepare:
            page.prepare(ctx, extra)
        with CaptureQueriesContext(connection) as captured:
            response = request(page, extra)
        check(page, response)
        queries[page.name if page else FLOOR] = len(captured)
        sizes[page.name if page else FLOOR] = len(response.content)
    try:
        for iteration in range(args.iterations):
            for page in [None, *pages]:
                if page and page.prepare:
                    page.prepare(ctx, iteration)
                started = time.perf_counter()
                response = request(page, iteration)
                elapsed = (time.perf_counter() - started) * 1000
                check(page, response)
                times[page.name if page else FLOOR].append(elapsed)
            print(f"  iteration {iteration + 1}/{args.iterations}", flush=True)
        export = None if args.no_export else time_export(clients["manager"])
        if args.profile:
            for page in pages:
                # Iterations after the counted one: book and sign need fresh slots and drafts.
                profile(page, range(extra + 1, extra + 1 + args.profile), ctx, request)
    finally:
        cleanup(ctx)
    Path(args.result).write_text(
        json.dumps(
            {
                "patients": ctx["patients"],
                "times": times,
                "queries": queries,
                "sizes": sizes,
                "export": export,
            }
        )
    )
    return 0


def profile(page: Page, iterations: range, ctx: dict, request) -> None:
    """Where a page's time goes: cProfile over one request per iteration, the functions
    with the most time of their own, then the most time including what they call."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    for i in iterations:
        if page.prepare:
            page.prepare(ctx, i)
        profiler.enable()
        request(page, i)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    print(f"--- profile: {page.name}, {len(iterations)} requests", flush=True)
    print(out.getvalue(), flush=True)


def signed_in_client(client_class, user):
    """A client signed in as ``user`` with the second factor verified, as after a real
    two-step sign-in (django-otp keeps the verified device's id in the session)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, name="Bench", confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Bench", confirmed=True)
    client = client_class()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def bench_context() -> dict:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from clinic.management.commands.seed_scale import (
        BENCH_FRONT_DESK,
        BENCH_MANAGER,
        BENCH_THERAPIST,
        FUTURE_DAYS,
        LONG_HISTORY_NAME,
    )
    from clinic.models import Appointment, Practitioner
    from patients.localtime import clinic_today
    from patients.models import Assessment, Patient, RecordStatus
    from treatments import services as treatment_services
    from treatments.models import HomeExerciseProgram, TreatmentPlan, VisitNote

    User = get_user_model()
    users = {
        "therapist": User.objects.get(username=BENCH_THERAPIST),
        "front_desk": User.objects.get(username=BENCH_FRONT_DESK),
        "manager": User.objects.get(username=BENCH_MANAGER),
    }
    patient = Patient.objects.get(first_name=LONG_HISTORY_NAME[0], last_name=LONG_HISTORY_NAME[1])
    today = clinic_today()
    started = timezone.now()
    drafts: dict[int, int] = {}

    def make_draft(iteration: int) -> None:
        """A fresh draft note of the bench therapist's for the sign page to sign."""
        note = treatment_services.visit_note_create(
            patient=patient,
            acting_user=users["therapist"],
            visited_at=timezone.now(),
            subjective=DRAFT_TEXT,
        )
        drafts[iteration] = note.pk

    # Book POSTs: one day each (the clinic is open every day), past the seeded calendar.
    first_free = today + dt.timedelta(days=FUTURE_DAYS + 14)

    def book_day(iteration: int) -> str:
        return (first_free + dt.timedelta(days=iteration)).isoformat()

    return {
        "users": users,
        "patients": Patient.objects.count(),
        "patient": patient.pk,
        "practitioner": Practitioner.objects.get(user=users["therapist"]).pk,
        "assessment": Assessment.objects.filter(patient=patient, status=RecordStatus.SIGNED)
        .order_by("-assessed_at", "-id")
        .values_list("pk", flat=True)
        .first(),
        "plan": TreatmentPlan.objects.filter(patient=patient).values_list("pk", flat=True)[0],
        "note": VisitNote.objects.filter(patient=patient, status=RecordStatus.SIGNED)
        .order_by("-visited_at", "-id")
        .values_list("pk", flat=True)
        .first(),
        "program": HomeExerciseProgram.objects.filter(patient=patient)
        .order_by("-start_date", "-id")
        .values_list("pk", flat=True)[0],
        "tomorrow": (today + dt.timedelta(days=1)).isoformat(),
        "book_day": book_day,
        "drafts": drafts,
        "make_draft": make_draft,
        "cleanup": {
            "appointments": lambda: Appointment.objects.filter(
                created_at__gte=started, starts_at__date__gte=first_free
            ),
            "notes": lambda: VisitNote.objects.filter(
                patient=patient, created_at__gte=started, subjective=DRAFT_TEXT
            ),
        },
    }


def cleanup(ctx) -> None:
    from clinic.models import Reminder

    appointments = ctx["cleanup"]["appointments"]()
    Reminder.objects.filter(appointment__in=appointments).delete()
    deleted = appointments.delete()[0]
    notes = ctx["cleanup"]["notes"]()
    notes_deleted = notes.delete()[0]
    print(f"  cleaned up: {deleted} booked visits, {notes_deleted} signed notes", flush=True)


def time_export(client) -> dict:
    started = time.perf_counter()
    response = client.get("/audit/export.csv", secure=True)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": max(0, body.count(b"\n") - 1),
        "bytes": len(body),
        "status": response.status_code,
    }


if __name__ == "__main__":
    sys.exit(main())
