"""Every page and form, fed hostile input: never a 500, and a refused POST changes nothing.

The walk is over the URL configuration (as tests/test_url_access.py does), so a page or
form added later is fuzzed too. For each URL:

- GET, as the first role that may open it, with hostile values in every query-string
  parameter the page's own GET forms read plus the ones views read directly (dates,
  ids, page numbers...), and with ids beyond 64 bits in the URL path;
- every POST form on that page (found in its HTML), posted with hostile values: all
  fields at once, then each field alone with the other fields left as the page filled
  them. Hostile values are ones no field may accept (NUL bytes, text longer than any
  field, out-of-range dates and ids, numbers that are not numbers), so the rows of every
  clinical, scheduling and reminder table must be exactly as they were;
- a bare hostile POST to every URL, for each role.

It runs on SQLite and on PostgreSQL (CI sets DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic.models import (
    AppointmentSeries,
    AuditEvent,
    ClinicClosure,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Room,
    SlotOffer,
    TimeOff,
    WaitlistEntry,
    WorkingHours,
)
from clinic.reminders.signing import Purpose, make_token
from clinic.waitlist.signing import make_claim_token
from patients.models import QuestionnaireResponse, RecordStatus
from tests.factories import (
    AppointmentFactory,
    AssessmentFactory,
    ExercisePrescriptionFactory,
    FrontDeskFactory,
    HomeExerciseProgramFactory,
    ManagerFactory,
    PainReportFactory,
    PatientFactory,
    TherapistFactory,
    TreatmentPlanFactory,
    VisitNoteFactory,
)
from treatments.models import Exercise, Technique

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"

# Values no field of any kind may accept.
REFUSED_EVERYWHERE = ["\x00", "1\x00", "x" * 100_001]
REFUSED_BY_TYPE = {
    "date": ["0001-01-01", "9999-12-31", "99999-01-01", "2026-02-30", "1899-12-31", "x"],
    "datetime-local": ["0001-01-01T00:00", "9999-12-31T23:59", "2026-13-01T00:00"],
    "time": ["25:61", "99999999999999999999"],
    "number": [HUGE, "-" + HUGE, "1e400", "NaN", "9" * 5000],
    "select": [HUGE, "-" + HUGE, "0", "1.5", "١", "9" * 5000],
}
# Query-string values: anything at all.
QUERY_VALUES = [
    HUGE,
    "-" + HUGE,
    "0",
    "-1",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "x" * 10_000,
    "9" * 10_000,
    "\x00",
    "1\x00",
    "Zoë ☃ 𝔘 ‮ '\"<>;--",
    "",
]
# Parameters views read from request.GET directly, beyond their GET forms' fields.
QUERY_NAMES = {
    "date",
    "date_from",
    "date_to",
    "patient",
    "patient_name",
    "practitioner",
    "room",
    "plan",
    "appointment",
    "assessment",
    "user",
    "action",
    "kind",
    "duration",
    "time",
    "count",
    "page",
    "q",
    "date_of_birth",
    "archived",
    "lang",
    "next",
    "thanks",
}
ROLES = ("therapist", "front_desk", "manager")


# The URL walk.


def _routes(patterns=None, namespace=None):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin"):
                continue
            yield from _routes(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            if name in {"logout"}:
                continue  # signs the client out; nothing to parse
            yield name, re.findall(r"<(?:(\w+):)?(\w+)>", str(entry.pattern))


ROUTES = sorted(_routes())


def _tables():
    """Every model of the clinical, scheduling and reminder apps, and staff accounts.
    Audit events are left out: opening a page writes one, by design."""
    models = [get_user_model()]
    for label in ("patients", "treatments", "clinic"):
        models.extend(apps.get_app_config(label).get_models(include_auto_created=True))
    return [model for model in models if model is not AuditEvent]


def snapshot() -> dict:
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in _tables()}


def _changes(before: dict, after: dict) -> list[str]:
    changed = []
    for label, rows in before.items():
        if rows != after[label]:
            old = {row["id"]: row for row in rows}
            new = {row["id"]: row for row in after[label]}
            for key in sorted(old.keys() | new.keys()):
                if old.get(key) != new.get(key):
                    changed.append(f"{label} #{key}: {old.get(key)} -> {new.get(key)}")
    return changed


@pytest.fixture
def world():
    """One of everything a URL can point at, owned by the therapist who fuzzes."""
    therapist = TherapistFactory()
    users = {"therapist": therapist, "front_desk": FrontDeskFactory(), "manager": ManagerFactory()}
    practitioner = therapist.practitioner
    patient = PatientFactory()
    draft = AssessmentFactory(patient=patient, therapist=therapist)
    signed = AssessmentFactory(
        patient=patient,
        therapist=therapist,
        status=RecordStatus.SIGNED,
        signed_at=timezone.now(),
        signed_by=therapist,
    )
    plan = TreatmentPlanFactory(assessment=signed)
    note = VisitNoteFactory(patient=patient, therapist=therapist, treatment_plan=plan)
    # Severe pain: the patient is on the therapist's needs-attention list, so the list's
    # acknowledge form is on the page and fuzzed.
    PainReportFactory(patient=patient, score=8)
    program = HomeExerciseProgramFactory(patient=patient, prescribed_by=therapist)
    ExercisePrescriptionFactory(program=program, exercise=Exercise.objects.first())
    series = AppointmentSeries.objects.create(
        patient=patient, practitioner=practitioner, created_by=users["front_desk"]
    )
    appointment = AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        series=series,
    )
    room = Room.objects.create(name="Room A")
    WorkingHours.objects.create(
        practitioner=practitioner, weekday=0, start=dt.time(8), end=dt.time(17)
    )
    start = timezone.now() + dt.timedelta(days=30)
    time_off = TimeOff.objects.create(
        practitioner=practitioner, starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    closure = ClinicClosure.objects.create(
        starts_on=(start + dt.timedelta(days=7)).date(),
        ends_on=(start + dt.timedelta(days=8)).date(),
        reason="Holiday",
    )
    reminder = Reminder.objects.create(
        kind=ReminderKind.EXERCISE,
        patient=patient,
        program=program,
        due_at=timezone.now(),
        status=ReminderStatus.FAILED,
        last_error="SMTP refused",
        key=f"fuzz-{program.pk}",
    )
    practitioner.feed_token = "f" * 32
    practitioner.save(update_fields=["feed_token"])
    entry = WaitlistEntry.objects.create(
        patient=patient,
        kind="follow_up",
        earliest_date=timezone.localdate(),
        latest_date=timezone.localdate() + dt.timedelta(days=30),
        window_start=dt.time(8),
        window_end=dt.time(18),
        created_by=users["front_desk"],
    )
    offer = SlotOffer.objects.create(
        entry=entry,
        practitioner=practitioner,
        starts_at=start + dt.timedelta(days=1),
        ends_at=start + dt.timedelta(days=1, minutes=30),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    questionnaire = QuestionnaireResponse.objects.create(patient=patient, instrument="lefs")
    tokens = {
        **{
            purpose.value: make_token(
                purpose, patient_id=patient.pk, email=patient.email, program_id=program.pk
            )
            for purpose in Purpose
            if purpose is not Purpose.QUESTIONNAIRE
        },
        # A waitlist offer's "Book this time" link (clinic/waitlist/signing.py).
        "claim": make_claim_token(
            offer_id=offer.pk,
            patient_id=patient.pk,
            email=patient.email,
            expires_at=offer.expires_at,
        ),
        # A questionnaire link names its questionnaire (clinic/questionnaires/views.py).
        "questionnaire": make_token(
            Purpose.QUESTIONNAIRE,
            patient_id=patient.pk,
            email=patient.email,
            response_id=questionnaire.pk,
        ),
        # A staff member's emailed password-reset link (clinic/services.py).
        "password_reset_confirm": default_token_generator.make_token(users["front_desk"]),
    }
    ids = {
        "patient_id": patient.pk,
        "assessment_id": draft.pk,
        "plan_id": plan.pk,
        "note_id": note.pk,
        "program_id": program.pk,
        "technique_id": Technique.objects.first().pk,
        "exercise_id": Exercise.objects.first().pk,
        "appointment_id": appointment.pk,
        "series_id": series.pk,
        "practitioner_id": practitioner.pk,
        "room_id": room.pk,
        "closure_id": closure.pk,
        "time_off_id": time_off.pk,
        "reminder_id": reminder.pk,
        "entry_id": entry.pk,
        "user_id": users["front_desk"].pk,
        "uidb64": urlsafe_base64_encode(force_bytes(users["front_desk"].pk)),
    }
    return {"users": users, "ids": ids, "tokens": tokens, "feed": practitioner.feed_token}


def _kwargs(world, name: str, arguments, path_id: str | None = None) -> dict:
    kwargs = {}
    for _converter, argument in arguments:
        if argument == "token":
            if name == "scheduling:feed":
                kwargs[argument] = world["feed"]
            elif name == "password_reset_confirm":
                kwargs[argument] = world["tokens"][name]
            else:
                kwargs[argument] = world["tokens"][name.split(":")[1]]
        else:
            kwargs[argument] = path_id if path_id is not None else world["ids"][argument]
    return kwargs


# Forms in a page's HTML.


class _Forms(HTMLParser):
    """The page's forms: method, action, and each named control with the value the page
    gives it (what a browser would send without the user touching anything)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {
                "method": (attrs.get("method") or "get").lower(),
                "action": attrs.get("action") or "",
                "fields": [],  # (name, kind, value)
                "button": None,
            }
            self.forms.append(self._form)
            return
        if self._form is None or not attrs.get("name"):
            return
        name = attrs["name"]
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "image", "button", "reset"):
                if self._form["button"] is None:
                    self._form["button"] = (name, attrs.get("value") or "")
                return
            if kind in ("checkbox", "radio"):
                kind = kind if "value" in attrs else "boolean"
                if "checked" not in attrs:
                    self._form["fields"].append((name, kind, None))
                    return
            self._form["fields"].append((name, kind, attrs.get("value") or ""))
        elif tag == "button" and (attrs.get("type") or "submit") == "submit":
            if self._form["button"] is None:
                self._form["button"] = (name, attrs.get("value") or "")
        elif tag == "select":
            self._select = [name, None, None]
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in attrs:
                self._select[2] = value
        elif tag == "textarea":
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, first, chosen = self._select
            value = chosen if chosen is not None else first
            self._form["fields"].append((name, "select", value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form["fields"].append((self._textarea[0], "textarea", self._textarea[1]))
            self._textarea = None


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _defaults(form: dict) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, _kind, value in form["fields"]:
        if name == "csrfmiddlewaretoken":
            continue
        data.setdefault(name, [])
        if value is not None:
            data[name].append(value)
    if form["button"] is not None:
        data.setdefault(form["button"][0], []).append(form["button"][1])
    return {name: values for name, values in data.items() if values}


def _hostile_for(kind: str) -> list[str]:
    return REFUSED_BY_TYPE.get(kind, []) + REFUSED_EVERYWHERE


def _editable(form: dict) -> list[tuple[str, str]]:
    """The controls a person fills in; a form of only hidden inputs and a button is an
    action button (sign, check in, retry...) whose POST changes rows by design."""
    seen = {}
    for name, kind, _value in form["fields"]:
        if kind in ("hidden", "boolean") or name == "csrfmiddlewaretoken":
            continue
        seen.setdefault(name, kind)
    return list(seen.items())


def _variants(form: dict) -> list[dict]:
    """Hostile POSTs for one form. Every field at once, as often as it takes to use each
    hostile value of each kind once; then each field alone (one value, rotating, so the
    walk stays quick) with the page's own values in the others."""
    defaults = _defaults(form)
    editable = _editable(form)
    hostile = {name: _hostile_for(kind) for name, kind in editable}
    rounds = max((len(values) for values in hostile.values()), default=0)
    variants = [
        {**defaults, **{name: [values[i % len(values)]] for name, values in hostile.items()}}
        for i in range(rounds)
    ]
    for position, (name, values) in enumerate(hostile.items()):
        variants.append({**defaults, name: [values[position % len(values)]]})
    # The formset counts and hidden ids. Django ignores some hidden inputs
    # (MIN_NUM_FORMS), so the visible fields are hostile as well: the POST must still be
    # refused as a whole.
    base = variants[0] if variants else defaults
    hidden = [name for name, kind, _ in form["fields"] if kind == "hidden"]
    for position, name in enumerate(dict.fromkeys(hidden)):
        if name != "csrfmiddlewaretoken":
            value = (HUGE, "-1", "9" * 5000, "\x00")[position % 4]
            variants.append({**base, name: [value]})
    return variants


# The walk.


def _first_role_that_opens(client, world, url):
    for role in ROLES:
        client.force_login(world["users"][role])
        response = client.get(url)
        if response.status_code == 200:
            if response.streaming:  # the CSV export: no forms to read
                response = type("Page", (), {"content": b""})()
            return role, response
    return None, None


@pytest.mark.parametrize(("name", "arguments"), ROUTES, ids=[name for name, _ in ROUTES])
def test_hostile_input_never_gives_a_500_and_changes_nothing(client, world, name, arguments):
    url = reverse(name, kwargs=_kwargs(world, name, arguments))

    # Ids the database cannot hold in the URL path: not found, on every backend.
    if any(converter == "int" for converter, _ in arguments):
        client.force_login(world["users"]["therapist"])
        for bad in (HUGE, "9223372036854775808", "0"):
            huge_url = reverse(name, kwargs=_kwargs(world, name, arguments, path_id=bad))
            for method in (client.get, client.post):
                response = method(huge_url)
                assert response.status_code in (302, 403, 404, 405), (huge_url, response)

    role, page = _first_role_that_opens(client, world, url)
    if page is not None:
        html = page.content.decode()
        names = set(QUERY_NAMES)
        for form in page_forms(html):
            if form["method"] == "get":
                names.update(field for field, _kind, _value in form["fields"])
        for value in QUERY_VALUES:
            response = client.get(url, {key: value for key in names})
            assert response.status_code < 500, (url, value[:40])
        # One bad parameter among good ones is not hidden behind another's error.
        for key in sorted(names):
            alone = ("0001-01-01", "9999-12-31") if "date" in key else (HUGE,)
            for value in alone:
                response = client.get(url, {key: value})
                assert response.status_code < 500, (url, key, value)
        if "date_from" in names:
            response = client.get(url, {"date_from": "0001-01-01", "date_to": "9999-12-31"})
            assert response.status_code < 500, url

        for form in page_forms(html):
            if form["method"] != "post":
                continue
            action = urlsplit(form["action"]).path or url
            if action.startswith(reverse("logout")):
                continue
            check_rows = bool(_editable(form))
            before = snapshot() if check_rows else None
            for data in _variants(form):
                response = client.post(action, data)
                assert response.status_code < 500, (action, _summary(data))
            if check_rows:
                assert _changes(before, snapshot()) == [], action

    # A bare hostile POST to the URL itself, for every role.
    for role in ROLES:
        client.force_login(world["users"][role])
        for value in (HUGE, "\x00", "0001-01-01"):
            response = client.post(url, {key: value for key in QUERY_NAMES})
            assert response.status_code < 500, (url, role, value)


def _summary(data: dict) -> dict:
    return {key: [v[:30] for v in values] for key, values in data.items()}


def test_the_walk_reaches_the_forms_that_matter(client, world):
    """Guard against a walk that silently fuzzes nothing."""
    expected = {
        ("therapist", "patients:assessment_create"): "pain_now",
        ("therapist", "treatments:note_create"): "exercises_reviewed",
        ("therapist", "treatments:program_create"): "rx-TOTAL_FORMS",
        ("front_desk", "scheduling:book"): "patient",
        ("manager", "scheduling:practitioner"): "display_name",
    }
    arguments = dict(ROUTES)
    for (role, name), field in expected.items():
        client.force_login(world["users"][role])
        url = reverse(name, kwargs=_kwargs(world, name, arguments[name]))
        response = client.get(url)
        assert response.status_code == 200, name
        fields = {f for form in page_forms(response.content.decode()) for f, _, _ in form["fields"]}
        assert field in fields, (name, sorted(fields))
