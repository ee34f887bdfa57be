"""Benchmark: "book a follow-up for an existing patient", before and after the calendar-first
booking (issue 13), in actions and seconds, driven through a real browser.

    .venv/bin/python bench/book_followup.py                      # --patients 20000 --iterations 5
    .venv/bin/python bench/book_followup.py --patients 200 --iterations 5
    make bench-followup BENCH_ARGS="--patients 200"

The two flows, each as a front-desk user does it, starting on the day calendar of the day
being booked (that page is loaded before the clock starts):

- before (--old-tree, a checkout of 47f6c0d^1, the code before the type-ahead picker): click
  "Book a visit" in the menu; choose the patient in the <select> that lists every current
  patient; type the date; type the start time; choose the practitioner; choose the kind of
  visit; click "Book visit".
- after (this checkout): click the free slot "Book 09:30 with Alex Rivera" on the calendar
  (practitioner, start, length and kind come prefilled); type part of the name (the first
  three letters of the first name and the last name) in the type-ahead; click the patient
  (told apart by date of birth) in the list; click "Book visit".

What is measured, per flow and iteration (a different patient and a different free slot each
time; one untimed warm-up iteration first):
- actions: clicks, selects (choosing in a <select>), typed fields (one per field typed in)
  and key presses that choose something, as the script performs them;
- seconds: wall clock from the first action until the "Booked ..." confirmation is shown.
  The browser types every key with a 50 ms gap (the type-ahead's letters, the old form's
  date and time digits; the picker waits 200 ms after the last key before it asks the
  server), and there is no thinking time or mouse travel: this is the time the software and
  the typing take, not a person's;
- the server time of every page loaded during the flow, from the browser's navigation
  timing (request start, or the POST's start when it redirects, to the first byte of the
  response), and for the new flow the type-ahead's search requests (resource timing).
The table shows the median and p95 of the seconds and the median over iterations of the
slowest page's server time.

How: each side gets its own PostgreSQL database on the server DATABASE_URL names (default
postgres://postgres@127.0.0.1:5432): ``<prefix>_old_<N>`` and ``<prefix>_new_<N>``
(--db-prefix, default h_follow). A database that does not hold N patients (or --reseed) is
dropped, migrated and filled by that side's own manage.py: ``seed_scale --patients N`` where
the checkout has it, otherwise ``seed_demo`` plus N patients bulk-created. Then, one side
after the other, the script collects that checkout's static files, starts gunicorn (2
workers) with production settings (DJANGO_ENV=production: DEBUG off, cached templates, the
manifest static storage) on a free port, signs the front-desk user in through the login form
and drives Debian's Chromium (Playwright, headless) through the flow. Because the server
speaks plain HTTP on localhost, SECURE_SSL_REDIRECT is off and the second sign-in factor is
not required (STAFF_MFA_REQUIRED=0); nothing else differs from production. Bookings go to a
weekday at least --days-ahead days ahead on which Alex Rivera has no visit yet (so every run
books on a clean day and the databases can be reused); the bookings stay in the database.
Every process the script starts runs in its own process group and is killed on exit, error
or Ctrl-C.

The old checkout: ``git -C <main checkout> worktree add --detach ../followup-old 47f6c0d^1``
then ``make .venv/.installed`` in it; the script runs it with its own virtualenv.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import random
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
import unicodedata
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_OLD_TREE = ROOT.parent / "followup-old"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-follow-2026"
PRACTITIONER = "Alex Rivera"
FRONT_DESK_USERS = ("bench-frontdesk", "demo-frontdesk")  # seed_scale's, else seed_demo's
TYPE_DELAY_MS = 50
FIRST_SLOT = dt.time(9, 0)
SLOT_MINUTES = 30
# Days a clinic is likely closed (and the new code may treat as closures): never booked.
SKIP_DAYS = {(12, 24), (12, 25), (12, 26), (12, 31), (1, 1)}

# Names for the patients bulk-created where seed_scale does not exist (the old code).
FIRST_NAMES = (
    "Ana Carlos Lucía Jorge Sofía Diego Elena Pablo Marta Javier Laura Andrés Isabel Tomás "
    "Emma Liam Olivia Noah Ava James Mia Lucas Chloe Henry Grace Owen Ruby Felix Nora Hugo "
    "Clara Iván Rosa Mateo Paula Bruno Irene Óscar Alba Raúl"
).split()
LAST_NAMES = (
    "García Martínez López Sánchez Pérez Gómez Fernández Díaz Moreno Álvarez Romero Navarro "
    "Torres Ramírez Ruiz Smith Johnson Brown Taylor Wilson Clarke Walker Hughes Wright Hall "
    "Green Baker Adams Nelson Carter Mitchell Turner Parker Evans Collins Murphy Cook Rogers "
    "Reed Bell"
).split()

BULK_PATIENTS = """
import datetime as dt, random, unicodedata
from django.db import transaction
from patients.models import Patient
first, last, total = {first!r}, {last!r}, {total}
def norm(text):
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())
rng = random.Random(20261122)
missing = total - Patient.objects.count()
rows = []
for i in range(max(0, missing)):
    f = rng.choice(first)
    l = rng.choice(last) + (" " + rng.choice(last) if rng.random() < 0.3 else "")
    rows.append(Patient(
        first_name=f, last_name=l, search_name=norm(f + " " + l),
        date_of_birth=dt.date(rng.randint(1938, 2008), rng.randint(1, 12), rng.randint(1, 28)),
        email="p%d@example.com" % i,
        phone="+1 555 %03d %04d" % (rng.randrange(100, 999), rng.randrange(1000, 9999)),
    ))
with transaction.atomic():
    Patient.objects.bulk_create(rows, batch_size=2000)
print("bulk-created", len(rows), "patients")
"""


# Processes: each in its own group, all killed on the way out ----------------------------

_GROUPS: list[subprocess.Popen] = []


def start_group(command: list[str], **kwargs) -> subprocess.Popen:
    process = subprocess.Popen(command, start_new_session=True, **kwargs)
    _GROUPS.append(process)
    return process


def stop_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process in _GROUPS:
        _GROUPS.remove(process)


def stop_all() -> None:
    for process in list(_GROUPS):
        stop_group(process)


def _on_signal(signum, frame):  # SIGTERM/SIGHUP: unwind through the finally blocks
    raise SystemExit(128 + signum)


def run(command: list[str], **kwargs) -> None:
    """A setup command (migrate, seed, collectstatic), killed with its group on error."""
    process = start_group(command, **kwargs)
    try:
        code = process.wait()
    finally:
        stop_group(process)
    if code:
        raise SystemExit(f"failed ({code}): {shlex.join(command)}")


# The sides --------------------------------------------------------------------------------


@dataclass
class Side:
    name: str  # "before" | "after"
    tree: Path
    database_url: str
    front_desk: str = ""
    day: dt.date | None = None
    patients: list[tuple[int, str, str, dt.date]] = field(default_factory=list)

    @property
    def python(self) -> str:
        return str(self.tree / ".venv" / "bin" / "python")

    @property
    def has_seed_scale(self) -> bool:
        return (self.tree / "clinic/management/commands/seed_scale.py").exists()

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DEBUG", "VIRTUAL_ENV", "PYTHONPATH", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(
            DJANGO_ENV="production",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="localhost,127.0.0.1",
            DATABASE_URL=self.database_url,
            STATIC_ROOT=str(self.tree / "var" / "bench-followup-static"),
            SECURE_SSL_REDIRECT="0",
            SECURE_HSTS_SECONDS="0",
            STAFF_MFA_REQUIRED="0",
            LOG_LEVEL="WARNING",
            DB_CONN_MAX_AGE="600",
            PYTHONUNBUFFERED="1",
        )
        return env

    def manage(self, *args: str) -> None:
        run([self.python, "manage.py", *args], cwd=self.tree, env=self.env())


def server_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("bench/book_followup.py measures on PostgreSQL: DATABASE_URL must be postgres://")
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")).rstrip("/")


def connect(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url, **kwargs)


def ensure_seeded(side: Side, patients: int, *, reseed: bool) -> None:
    import psycopg

    name = urlsplit(side.database_url).path.lstrip("/")
    admin_url = side.database_url.rsplit("/", 1)[0] + "/postgres"
    stored = None
    with contextlib.suppress(psycopg.Error), connect(side.database_url) as conn:
        stored = conn.execute("SELECT count(*) FROM patients_patient").fetchone()[0]
    if stored == patients and not reseed:
        side.manage("migrate", "--no-input", "-v0")
        print(f"{name}: {patients:,} patients, seeded earlier (--reseed to seed again)")
    else:
        why = "--reseed" if reseed else ("new" if stored is None else f"holds {stored:,}")
        print(f"{name}: seeding {patients:,} patients ({why})", flush=True)
        with connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        started = time.monotonic()
        side.manage("migrate", "--no-input", "-v0")
        if side.has_seed_scale:
            side.manage("seed_scale", "--patients", str(patients), "--password", PASSWORD)
        else:
            side.manage("seed_demo", "--password", PASSWORD)
            script = BULK_PATIENTS.format(first=FIRST_NAMES, last=LAST_NAMES, total=patients)
            side.manage("shell", "-c", script)
        print(f"{name}: migrated and seeded in {time.monotonic() - started:.0f} s", flush=True)
    with connect(side.database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        row = conn.execute(
            "SELECT username FROM auth_user WHERE username = ANY(%s) ORDER BY username",
            [list(FRONT_DESK_USERS)],
        ).fetchone()
    if not row:
        raise SystemExit(f"{name}: no front-desk user ({', '.join(FRONT_DESK_USERS)})")
    side.front_desk = row[0]


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def typed_name(first: str, last: str) -> str:
    """What the user types in the type-ahead: part of the name."""
    return f"{first[:3]} {last}"


def plan_iterations(side: Side, count: int, days_ahead: int) -> None:
    """Choose the day (a weekday Alex Rivera works with no visit booked yet) and one
    patient per iteration: current, free that day, and found among the type-ahead's ten
    by the typed part of the name."""
    with connect(side.database_url) as conn:
        practitioner = conn.execute(
            "SELECT id FROM clinic_practitioner WHERE display_name = %s", [PRACTITIONER]
        ).fetchone()
        if not practitioner:
            raise SystemExit(f"{side.name}: no practitioner {PRACTITIONER!r}")
        day = dt.date.today() + dt.timedelta(days=days_ahead)
        while True:
            if day.weekday() < 5 and (day.month, day.day) not in SKIP_DAYS:
                busy = conn.execute(
                    "SELECT 1 FROM clinic_appointment WHERE practitioner_id = %s"
                    " AND starts_at >= %s AND starts_at < %s LIMIT 1",
                    [practitioner[0], day - dt.timedelta(days=1), day + dt.timedelta(days=2)],
                ).fetchone()
                away = conn.execute(
                    "SELECT 1 FROM clinic_timeoff WHERE practitioner_id = %s"
                    " AND starts_at < %s AND ends_at > %s LIMIT 1",
                    [practitioner[0], day + dt.timedelta(days=2), day - dt.timedelta(days=1)],
                ).fetchone()
                if not busy and not away:
                    break
            day += dt.timedelta(days=1)
        side.day = day
        rows = conn.execute(
            "SELECT id, first_name, last_name, date_of_birth FROM patients_patient"
            " WHERE archived_at IS NULL ORDER BY id"
        ).fetchall()
        rng = random.Random(f"{side.name}-{day}")
        chosen: list[tuple[int, str, str, dt.date]] = []
        for patient_id, first, last, born in rng.sample(rows, min(len(rows), 400)):
            words = normalise(typed_name(first, last)).split()
            matches = conn.execute(
                "SELECT count(*) FROM patients_patient WHERE archived_at IS NULL"
                + " AND search_name LIKE %s" * len(words),
                [f"%{word}%" for word in words],
            ).fetchone()[0]
            same = conn.execute(
                "SELECT count(*) FROM patients_patient WHERE archived_at IS NULL"
                " AND search_name = %s AND date_of_birth = %s",
                [normalise(f"{first} {last}"), born],
            ).fetchone()[0]
            booked = conn.execute(
                "SELECT 1 FROM clinic_appointment WHERE patient_id = %s"
                " AND starts_at >= %s AND starts_at < %s LIMIT 1",
                [patient_id, day - dt.timedelta(days=1), day + dt.timedelta(days=2)],
            ).fetchone()
            if matches <= 10 and same == 1 and not booked:
                chosen.append((patient_id, first, last, born))
            if len(chosen) == count:
                break
    if len(chosen) < count:
        raise SystemExit(f"{side.name}: found only {len(chosen)} patients to book")
    side.patients = chosen


# The server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def app_server(side: Side):
    side.manage("collectstatic", "--no-input", "-v0")
    port = free_port()
    log = open(ROOT / "var" / f"bench-followup-{side.name}.log", "w")  # noqa: SIM115
    gunicorn = str(side.tree / ".venv" / "bin" / "gunicorn")
    command = [
        gunicorn,
        "clinic.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--timeout=120",
        "--access-logfile=-",
    ]
    process = start_group(command, cwd=side.tree, env=side.env(), stdout=log, stderr=log)
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{side.name}: gunicorn exited; see {log.name}")
            try:
                with urllib.request.urlopen(f"{base}/accounts/login/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{side.name}: gunicorn did not answer in 60 s; see {log.name}")
            time.sleep(0.3)
        yield base
    finally:
        stop_group(process)
        log.close()


# The browser --------------------------------------------------------------------------------

NAV_TIMING = """() => {
  const e = performance.getEntriesByType("navigation")[0];
  const start = e.redirectStart > 0 ? e.redirectStart : e.requestStart;
  return {url: e.name, server: e.responseStart - start, bytes: e.decodedBodySize};
}"""
SEARCH_TIMING = """() => performance.getEntriesByType("resource")
  .filter(e => e.name.includes("/patients/search/"))
  .map(e => e.responseStart - e.requestStart)"""


@dataclass
class Run:
    seconds: float
    actions: dict[str, int]
    pages: list[tuple[str, float]]  # (path, server ms)
    keys: int  # keys typed
    sizes: dict[str, int] = field(default_factory=dict)  # path: HTML bytes
    searches: list[float] = field(default_factory=list)


class Counter:
    """The user's actions, counted as they are performed."""

    def __init__(self, page):
        self.page = page
        self.counts = {"click": 0, "select": 0, "type": 0, "key": 0}
        self.pages: list[tuple[str, float]] = []
        self.sizes: dict[str, int] = {}
        self.keys = 0

    def click(self, locator) -> None:
        self.counts["click"] += 1
        locator.click()

    def select(self, locator, value: str) -> None:
        self.counts["select"] += 1
        locator.select_option(value)

    def type(self, locator, text: str) -> None:
        self.counts["type"] += 1
        self.keys += len(text)
        locator.press_sequentially(text, delay=TYPE_DELAY_MS)

    def loaded(self) -> None:
        """A page of the flow has loaded: keep its server time."""
        self.page.wait_for_load_state("load")
        timing = self.page.evaluate(NAV_TIMING)
        path = urlsplit(timing["url"]).path
        self.pages.append((path, timing["server"]))
        self.sizes[path] = timing["bytes"]

    def run(self, seconds: float, searches: list[float] | None = None) -> Run:
        return Run(seconds, self.counts, self.pages, self.keys, self.sizes, searches or [])


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    if "/accounts/login/" in page.url or "/mfa/" in page.url or "/two-step" in page.url:
        raise SystemExit(f"sign-in as {username} did not reach the app (at {page.url})")


def slot_time(index: int) -> dt.time:
    start = dt.datetime.combine(dt.date.today(), FIRST_SLOT)
    return (start + dt.timedelta(minutes=SLOT_MINUTES * index)).time()


def confirm(page, first: str, last: str, at: dt.time) -> None:
    alert = page.locator(".alert-success", has_text="Booked")
    try:
        alert.wait_for(timeout=30_000)
    except Exception:  # the form again, with its errors: say what they were
        errors = page.locator(".invalid-feedback, .alert-danger").all_inner_texts()
        raise SystemExit(f"no booking confirmation at {page.url}: {errors}") from None
    text = alert.inner_text()
    if last not in text or first not in text or f"at {at:%H:%M}" not in text:
        raise SystemExit(f"the confirmation is for another patient or time: {text!r}")


def flow_before(page, side: Side, index: int) -> Run:
    """47f6c0d^1: Book from the menu, the <select> of every patient, typed date and time."""
    patient_id, first, last, _born = side.patients[index]
    page.goto(f"/schedule/?date={side.day:%Y-%m-%d}")
    page.wait_for_load_state("load")
    counter = Counter(page)
    started = time.perf_counter()
    counter.click(page.get_by_role("link", name="Book a visit", exact=True).first)
    counter.loaded()
    # The fields by id: crispy's labels end in "*" for required fields.
    counter.select(page.locator("#id_patient"), str(patient_id))
    # Typed as the keys a user presses in Chromium's en-US date and time inputs.
    counter.type(page.locator("#id_date"), f"{side.day:%m%d%Y}")
    counter.type(page.locator("#id_time"), f"{slot_time(index):%I%M%p}")
    practitioner = page.locator("#id_practitioner")
    value = practitioner.locator("option", has_text=PRACTITIONER).get_attribute("value")
    counter.select(practitioner, value or "")
    counter.select(page.locator("#id_kind"), "follow_up")
    counter.click(page.get_by_role("button", name="Book visit"))
    confirm(page, first, last, slot_time(index))
    seconds = time.perf_counter() - started
    counter.loaded()
    return counter.run(seconds)


def flow_after(page, side: Side, index: int) -> Run:
    """main: click the free slot, type part of the name, pick the patient, Book."""
    _patient_id, first, last, born = side.patients[index]
    page.goto(f"/schedule/?date={side.day:%Y-%m-%d}")
    page.wait_for_load_state("load")
    label = f"Book {slot_time(index):%H:%M} with {PRACTITIONER}"
    slot = page.locator(f'a.cal-free[aria-label^="{label}"]')
    if slot.count() == 0:
        raise SystemExit(f"after: no free slot {label!r} on the calendar of {side.day}")
    counter = Counter(page)
    started = time.perf_counter()
    counter.click(slot.first)
    counter.loaded()
    counter.type(page.locator("#id_patient_search"), typed_name(first, last))
    option = page.get_by_role("option").filter(has_text=f"{born:%d %b %Y}").filter(has_text=last)
    counter.click(option.first)
    searches = page.evaluate(SEARCH_TIMING)
    counter.click(page.get_by_role("button", name="Book visit"))
    confirm(page, first, last, slot_time(index))
    seconds = time.perf_counter() - started
    counter.loaded()
    return counter.run(seconds, searches)


FLOWS = {"before": flow_before, "after": flow_after}


def measure(browser, side: Side, iterations: int) -> list[Run]:
    runs = []
    with app_server(side) as base:
        context = browser.new_context(
            base_url=base, viewport={"width": 1366, "height": 768}, locale="en-US"
        )
        context.set_default_timeout(30_000)
        try:
            page = context.new_page()
            sign_in(page, side.front_desk)
            for index in range(iterations + 1):  # index 0: the untimed warm-up
                result = FLOWS[side.name](page, side, index)
                if index:
                    runs.append(result)
                slowest = max(result.pages, key=lambda p: p[1])
                print(
                    f"  {side.name} {'warm-up' if not index else index}: {result.seconds:.2f} s,"
                    f" slowest page {slowest[0]} {slowest[1]:.0f} ms",
                    flush=True,
                )
        finally:
            context.close()
    return runs


# The table ------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def print_table(results: dict[str, list[Run]], sides: dict[str, Side], patients: int) -> None:
    print()
    print(
        f"book a follow-up for an existing patient: {patients:,} patients, "
        f"{len(results['after'])} iterations each, PostgreSQL, gunicorn, Chromium headless"
    )
    header = (
        f"{'flow':<7} {'actions':>7}  {'(click/select/type/key)':<23} {'keys':>4}"
        f" {'median s':>8} {'p95 s':>6}"
        f"  {'slowest page (median server ms)':<40}"
    )
    print(header)
    print("-" * len(header))
    for name in ("before", "after"):
        runs = results[name]
        counts = runs[0].actions
        keys = statistics.median(r.keys for r in runs)  # keys typed
        seconds = [r.seconds for r in runs]
        slowest = [max(r.pages, key=lambda p: p[1]) for r in runs]
        slowest_ms = statistics.median(ms for _path, ms in slowest)
        paths = sorted({path for path, _ms in slowest})
        print(
            f"{name:<7} {sum(counts.values()):>7}  "
            f"{'{click}/{select}/{type}/{key}'.format(**counts):<23} {keys:>4.0f} "
            f"{statistics.median(seconds):>8.2f} {percentile(seconds, 0.95):>6.2f}"
            f"  {slowest_ms:>6.0f} ms {', '.join(paths)}"
        )
    print()
    for name in ("before", "after"):
        side = sides[name]
        pages: dict[str, list[float]] = {}
        for run_ in results[name]:
            for path, ms in run_.pages:
                key = "/schedule/?date=… (after booking)" if path == "/schedule/" else path
                pages.setdefault(key, []).append(ms)
        sizes = results[name][0].sizes
        detail = "; ".join(
            f"{p} {statistics.median(v):.0f} ms"
            + (f" ({sizes[p] / 1000:.0f} kB)" if p in sizes and p != "/schedule/" else "")
            for p, v in pages.items()
        )
        print(f"{name} ({side.tree.name}, {side.day}): page server time, median: {detail}")
    searches = [ms for r in results["after"] for ms in r.searches]
    if searches:
        print(
            f"after: {len(searches)} type-ahead search requests, server ms median"
            f" {statistics.median(searches):.0f}, max {max(searches):.0f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--old-tree", type=Path, default=DEFAULT_OLD_TREE)
    parser.add_argument("--new-tree", type=Path, default=ROOT)
    parser.add_argument("--db-prefix", default="h_follow")
    parser.add_argument("--days-ahead", type=int, default=35)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    if args.iterations + 1 > (17 - FIRST_SLOT.hour) * 60 // SLOT_MINUTES - 1:
        parser.error("too many iterations for one day's slots")
    print("$ " + shlex.join([sys.executable, *sys.argv]), flush=True)
    for tree in (args.old_tree, args.new_tree):
        if not (tree / ".venv" / "bin" / "gunicorn").exists():
            parser.error(f"{tree}: run `make .venv/.installed` there first")
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    (ROOT / "var").mkdir(exist_ok=True)
    server = server_url(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    sides = {
        name: Side(name, tree.resolve(), f"{server}/{args.db_prefix}_{db}_{args.patients}")
        for name, tree, db in (
            ("before", args.old_tree, "old"),
            ("after", args.new_tree, "new"),
        )
    }
    from playwright.sync_api import sync_playwright

    results: dict[str, list[Run]] = {}
    try:
        for side in sides.values():
            ensure_seeded(side, args.patients, reseed=args.reseed)
            plan_iterations(side, args.iterations + 1, args.days_ahead)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            try:
                for name, side in sides.items():
                    results[name] = measure(browser, side, args.iterations)
            finally:
                browser.close()
    finally:
        stop_all()
    print_table(results, sides, args.patients)
    return 0


if __name__ == "__main__":
    sys.exit(main())
