import pytest
from django.core.exceptions import ValidationError

from patients.models import PainReport, PainSource
from patients.services import pain_report_create
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("score", [0, 7, 10])
def test_pain_report_accepts_0_to_10(score):
    report = pain_report_create(patient=PatientFactory(), score=score, source=PainSource.VISIT)
    assert PainReport.objects.get(pk=report.pk).score == score


@pytest.mark.parametrize("score", [-1, 11, 3.5, "4", True, None])
def test_pain_report_refuses_anything_else_and_saves_nothing(score):
    with pytest.raises(ValidationError):
        pain_report_create(patient=PatientFactory(), score=score, source=PainSource.VISIT)
    assert PainReport.objects.count() == 0


def test_pain_report_refuses_an_unknown_source():
    with pytest.raises(ValidationError):
        pain_report_create(patient=PatientFactory(), score=3, source="carrier-pigeon")


def test_an_email_check_in_made_by_the_service_carries_its_local_day():
    import datetime as dt

    patient = PatientFactory(timezone="America/New_York")
    at = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)  # 22:00 on the 9th in New York
    report = pain_report_create(
        patient=patient, score=3, source=PainSource.EMAIL_LINK, reported_at=at
    )
    assert report.local_date == dt.date(2026, 3, 9)
    visit = pain_report_create(patient=patient, score=3, source=PainSource.VISIT, reported_at=at)
    assert visit.local_date is None
