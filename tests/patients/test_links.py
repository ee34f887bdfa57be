"""patients/links.py: a path reversed once gives the same links as reverse(), and
``when`` the same text as the |date filter."""

import datetime as dt

from django.template import engines
from django.urls import reverse
from django.utils import timezone

from patients.links import path_maker, when


def test_path_maker_matches_reverse():
    link = path_maker("patients:assessment_detail", 2)
    for patient_id, pk in [(1, 2), (12, 1), (987, 987), (2**40, 3)]:
        assert link(patient_id, pk) == reverse("patients:assessment_detail", args=[patient_id, pk])
    assert path_maker("treatments:note_detail", 1)(42) == reverse(
        "treatments:note_detail", args=[42]
    )


def test_when_matches_the_date_filter():
    template = engines["django"].from_string('{{ value|date:"D j M, H:i" }}')
    for value in [
        timezone.now(),
        dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC),  # around a clock change
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC),
    ]:
        assert when(value, "D j M, H:i") == template.render({"value": value})


def test_when_fills_in_the_formats_it_knows_as_django_does_in_every_language():
    """``when`` fills in D, M, j, d, m, Y, H, i and s itself; every format, in English
    and in Spanish, gives what Django's date formatting gives."""
    from django.utils import dateformat, translation

    formats = [
        "D j M, H:i",
        "j M, H:i",
        "H:i",
        "j M Y",
        "j M Y, H:i:s",
        "Y-m-d",
        "l j F Y",
        r"j \d\e M",
    ]
    values = [
        dt.datetime(2026, month, day, hour, 5 * day % 60, 7, tzinfo=dt.UTC)
        for month in range(1, 13)
        for day, hour in [(1, 0), (9, 4), (28, 23)]
    ]
    for language in ["en", "es"]:
        with translation.override(language):
            for fmt in formats:
                for value in values:
                    expected = dateformat.format(timezone.localtime(value), fmt)
                    assert when(value, fmt) == expected, (language, fmt, value)
