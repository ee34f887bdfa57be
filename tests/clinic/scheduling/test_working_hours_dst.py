"""Booking and the recurring preview apply one working-hours check, so they agree on the
days the clocks change (America/New_York and Europe/Madrid, spring forward and fall back).

Rule (patients/localtime.py): a working-hours bound the clocks skip starts or ends at the
jump; a bound that happens twice is its first occurrence; the visit is compared as real
instants, so a visit in the repeated hour's second pass is after a bound in its first.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.models import WorkingHours
from clinic.scheduling import selectors, services
from tests.factories import PatientFactory, PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _next_transition(tz: ZoneInfo, forward: bool) -> dt.date:
    """The next local day (after today) on which the zone's clocks go forward or back."""
    day = timezone.localdate() + dt.timedelta(days=1)
    for _ in range(400):
        before = dt.datetime.combine(day, dt.time(0), tz).utcoffset()
        after = dt.datetime.combine(day, dt.time(23, 59), tz).utcoffset()
        if before != after and (after > before) == forward:
            return day
        day += dt.timedelta(days=1)
    raise AssertionError("no transition within a year")


# zone, clocks go forward?, working block, visit start (wall time, fold), minutes, within?
CASES = [
    # Spring forward in New York (02:00 -> 03:00). A block that starts in the skipped hour
    # starts at the jump: a visit at 03:00 is inside it.
    ("America/New_York", True, ("02:30", "06:00"), ("03:00", 0), 60, True),
    # A visit that crosses the jump lasts one real hour: 01:30 EST to 03:30 EDT.
    ("America/New_York", True, ("01:00", "04:00"), ("01:30", 0), 60, True),
    ("America/New_York", True, ("08:00", "12:00"), ("01:30", 0), 60, False),
    # Fall back in New York (02:00 -> 01:00). The second 01:00 is after a block that
    # ends at the first 01:30.
    ("America/New_York", False, ("00:00", "01:30"), ("01:00", 1), 15, False),
    # 01:30 EDT plus 45 minutes is 01:15 EST, past the first 01:45.
    ("America/New_York", False, ("01:00", "01:45"), ("01:30", 0), 45, False),
    ("America/New_York", False, ("08:00", "17:00"), ("09:00", 0), 60, True),
    # Spring forward in Madrid (02:00 -> 03:00).
    ("Europe/Madrid", True, ("02:00", "05:00"), ("03:00", 0), 60, True),
    ("Europe/Madrid", True, ("09:00", "13:00"), ("09:00", 0), 240, True),
    # Fall back in Madrid (03:00 -> 02:00).
    ("Europe/Madrid", False, ("00:00", "02:30"), ("02:15", 1), 15, False),
    ("Europe/Madrid", False, ("02:00", "04:00"), ("02:30", 1), 60, True),
]


@pytest.mark.parametrize(
    ("zone_name", "forward", "block", "start", "minutes", "within"),
    CASES,
    ids=[f"{c[0]}-{'spring' if c[1] else 'fall'}-{c[2][0]}-{c[3][0]}f{c[3][1]}" for c in CASES],
)
def test_booking_and_the_recurring_preview_agree_on_working_hours_when_clocks_change(
    settings, zone_name, forward, block, start, minutes, within
):
    settings.TIME_ZONE = zone_name
    tz = ZoneInfo(zone_name)
    day = _next_transition(tz, forward)
    practitioner = PractitionerFactory()
    WorkingHours.objects.create(
        practitioner=practitioner,
        weekday=day.weekday(),
        start=dt.time.fromisoformat(block[0]),
        end=dt.time.fromisoformat(block[1]),
    )
    patient = PatientFactory()
    wall, fold = start
    # As the forms hand it over: an instant in UTC (arithmetic on instants is in UTC).
    local = dt.datetime.combine(day, dt.time.fromisoformat(wall), tz).replace(fold=fold)
    starts_at = local.astimezone(dt.UTC)
    duration = dt.timedelta(minutes=minutes)

    (occurrence,) = selectors.series_preview(
        patient=patient, practitioner=practitioner, room=None, duration=duration, starts=[starts_at]
    )
    preview_within = not occurrence.problem.startswith("Outside")
    try:
        services.appointment_book(
            patient=patient,
            practitioner=practitioner,
            kind="follow_up",
            starts_at=starts_at,
            ends_at=starts_at + duration,
            acting_user=UserFactory(),
        )
        booking_within = True
    except services.OutsideWorkingHours:
        booking_within = False

    assert (booking_within, preview_within) == (within, within)
