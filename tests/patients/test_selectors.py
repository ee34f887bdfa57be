import datetime as dt

import pytest
from django.utils import timezone

from patients import selectors, services
from patients.models import PainSource
from tests.factories import AssessmentFactory, PainReportFactory, PatientFactory

pytestmark = pytest.mark.django_db


def _register(first, last, dob=dt.date(1980, 1, 2), **extra):
    return services.patient_create(first_name=first, last_name=last, date_of_birth=dob, **extra)


@pytest.fixture
def registry():
    return {
        "jose": _register("José", "García", phone="+1 (555) 010-2222", email="jg@example.com"),
        "josefina": _register("Josefina", "Ibáñez", dob=dt.date(1990, 7, 8)),
        "joe": _register("Joe", "Smith", email="joe.smith@example.org", phone="555-777-1212"),
    }


def _names(queryset):
    return {p.first_name for p in queryset}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("jose", {"José", "Josefina"}),
        ("JOSÉ", {"José", "Josefina"}),
        ("garc", {"José"}),
        ("garcia jose", {"José"}),
        ("ibanez", {"Josefina"}),
        ("Íbañez", {"Josefina"}),
        ("jo", {"Joe", "José", "Josefina"}),
        ("nobody", set()),
    ],
)
def test_name_search_is_partial_and_ignores_case_and_accents(registry, query, expected):
    assert _names(selectors.patient_search(query=query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1990-07-08", {"Josefina"}),
        ("07/08/1990", {"Josefina"}),
        ("010-2222", {"José"}),
        ("(555) 777", {"Joe"}),
        ("JOE.SMITH@", {"Joe"}),
        ("example.com", set()),  # no @: read as a name
        ("jg@example.com", {"José"}),
    ],
)
def test_search_by_date_of_birth_phone_or_email(registry, query, expected):
    assert _names(selectors.patient_search(query=query)) == expected


def test_archived_patients_are_left_out_unless_asked_for(registry, front_desk):
    services.patient_archive(patient=registry["joe"], acting_user=front_desk)
    assert _names(selectors.patient_search(query="jo")) == {"José", "Josefina"}
    assert "Joe" in _names(selectors.patient_search(query="jo", include_archived=True))


def test_possible_duplicates_match_name_without_accents_and_birth_date(registry):
    found = selectors.possible_duplicates(
        first_name="jose", last_name="GARCIA", date_of_birth=dt.date(1980, 1, 2)
    )
    assert found == [registry["jose"]]
    assert not selectors.possible_duplicates(
        first_name="José", last_name="García", date_of_birth=dt.date(1980, 1, 3)
    )
    assert not selectors.possible_duplicates(
        first_name="José",
        last_name="García",
        date_of_birth=dt.date(1980, 1, 2),
        exclude_id=registry["jose"].pk,
    )


def test_outcomes_use_every_pain_source_and_signed_complete_lefs(therapist):
    patient = PatientFactory()
    now = timezone.now()
    first = AssessmentFactory(
        patient=patient,
        therapist=therapist,
        assessed_at=now - dt.timedelta(days=20),
        lefs_total=30,
        status="signed",
        signed_at=now,
        signed_by=therapist,
    )
    AssessmentFactory(patient=patient, therapist=therapist, lefs_total=70)  # a draft: no LEFS
    AssessmentFactory(
        patient=patient,
        therapist=therapist,
        assessed_at=now - dt.timedelta(days=2),
        lefs_total=41,
        status="signed",
        signed_at=now,
        signed_by=therapist,
    )
    PainReportFactory(
        patient=patient,
        score=7,
        source=PainSource.ASSESSMENT,
        reported_at=first.assessed_at,
        assessment=first,
    )
    PainReportFactory(
        patient=patient, score=5, source=PainSource.VISIT, reported_at=now - dt.timedelta(days=10)
    )
    PainReportFactory(patient=patient, score=4, source=PainSource.EMAIL_LINK, reported_at=now)
    outcomes = selectors.clinical_record(patient).outcomes
    assert [p.value for p in outcomes.nprs] == [7, 5, 4]
    assert [p.source for p in outcomes.nprs] == ["assessment", "visit", "email_link"]
    assert [p.value for p in outcomes.lefs] == [30, 41]
    assert outcomes.nprs_change.points == -3 and outcomes.nprs_change.important_improvement
    assert outcomes.lefs_change.points == 11 and outcomes.lefs_change.important_improvement


def test_a_factory_patient_with_an_accented_name_is_found_like_a_registered_one():
    # The factory stores search_name through the service's normaliser, so tests that
    # build patients with the factory search the registry as the real one does.
    patient = PatientFactory(first_name="José", last_name="Núñez")
    assert list(selectors.patient_search(query="jose nunez")) == [patient]
