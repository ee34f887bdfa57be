"""``Availability.is_busy`` looks only at the intervals near the asked time (sorted, with
bisect), and ``bookable_slots`` skips past the visits it meets: both must answer exactly as
checking every interval and every step would."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

from clinic.scheduling.availability import Availability, overlaps

TZ = ZoneInfo("America/New_York")
BASE = dt.datetime(2030, 1, 7, 7, tzinfo=TZ)


def _interval(rng, longest_minutes=240):
    start = BASE + dt.timedelta(minutes=5 * rng.randrange(0, 12 * 24 * 14))
    return start, start + dt.timedelta(minutes=5 * rng.randrange(1, longest_minutes // 5 + 1))


def _naive(own, shared, start, end):
    return any(overlaps(start, end, b0, b1) for b0, b1 in [*own, *shared])


def test_is_busy_agrees_with_checking_every_interval():
    rng = random.Random(11)
    availability = Availability(hours={}, tz=TZ)
    own: dict[int, list] = {1: [], 2: []}
    shared: list = []
    for _ in range(300):
        pid = rng.choice([1, 2])
        start, end = _interval(rng)
        availability.add_busy(pid, start, end)
        own[pid].append((start, end))
    for round_ in range(6):
        for _ in range(400):
            pid = rng.choice([1, 2])
            start, end = _interval(rng, longest_minutes=90)
            assert availability.is_busy(pid, start, end) == _naive(own[pid], shared, start, end)
        # Intervals added after the first answers (a preview booking its own occurrences,
        # a longer one than any before, a patient's visit) are seen too.
        start, end = _interval(rng, longest_minutes=240 + 60 * round_)
        availability.add_busy(1, start, end)
        own[1].append((start, end))
        start, end = _interval(rng)
        availability.add_shared_busy(start, end)
        shared.append((start, end))


def test_a_long_interval_that_began_well_before_still_blocks():
    availability = Availability(hours={}, tz=TZ)
    availability.add_busy(1, BASE, BASE + dt.timedelta(hours=4))
    for minute in range(0, 240, 15):  # many short visits after it
        later = BASE + dt.timedelta(hours=5, minutes=minute)
        availability.add_busy(1, later, later + dt.timedelta(minutes=15))
    late = BASE + dt.timedelta(hours=3, minutes=45)
    assert availability.is_busy(1, late, late + dt.timedelta(minutes=30))
    assert not availability.is_busy(1, BASE + dt.timedelta(hours=4), BASE + dt.timedelta(hours=5))


def test_free_starts_jumping_past_busy_times_agree_with_checking_every_step():
    """``free_starts`` skips the steps a visit covers: the same starts as trying each."""
    rng = random.Random(5)
    hours = {
        weekday: [(dt.time(7), dt.time(12)), (dt.time(13), dt.time(19))] for weekday in range(7)
    }
    availability = Availability(hours={1: hours}, tz=TZ)
    for _ in range(120):
        availability.add_busy(1, *_interval(rng, longest_minutes=120))
    availability.add_shared_busy(*_interval(rng))
    availability.time_off = {1: [(*_interval(rng), "course")]}
    step = dt.timedelta(minutes=15)
    after, until = BASE + dt.timedelta(minutes=20), BASE + dt.timedelta(days=13)
    for minutes in (10, 30, 45, 60):
        duration = dt.timedelta(minutes=minutes)
        expected = []
        day = BASE.date()
        while day <= until.date():
            for block_start, block_end in availability.blocks_on(1, day):
                start = block_start
                while start + duration <= block_end and start + duration <= until:
                    end = start + duration
                    if (
                        start >= after
                        and not availability.is_busy(1, start, end)
                        and availability.time_off_reason(1, start, end) is None
                    ):
                        expected.append(start)
                    start += step
            day += dt.timedelta(days=1)
        found = list(
            availability.free_starts(1, after=after, until=until, duration=duration, step=step)
        )
        assert found == expected and found


def _naive_slots(availability, pid, day, *, after, length, step):
    """The calendar's free slots found by testing every step, as before the skip."""
    result = []
    for block_start, block_end in availability.blocks_on(pid, day):
        start = block_start
        while start + length <= block_end:
            end = start + length
            if (
                start >= after
                and not availability.is_busy(pid, start, end)
                and availability.time_off_reason(pid, start, end) is None
            ):
                result.append(start)
                start = end
            else:
                start += step
    return result


def test_bookable_slots_skip_past_visits_and_find_what_every_step_would():
    """A step that meets a visit goes straight to the first step after the visit ends;
    the slots found are those testing every step finds."""
    rng = random.Random(5)
    day = BASE.date()
    found = 0
    for _ in range(400):
        blocks = [(dt.time(rng.choice([7, 8, 9])), dt.time(rng.choice([12, 17, 19])))]
        if rng.random() < 0.3:
            blocks.append((dt.time(13), dt.time(18)))
        time_off = {}
        if rng.random() < 0.3:
            off = BASE + dt.timedelta(minutes=5 * rng.randrange(0, 150))
            time_off = {1: [(off, off + dt.timedelta(minutes=rng.choice([20, 60, 300])), "")]}
        availability = Availability(hours={1: {day.weekday(): blocks}}, time_off=time_off, tz=TZ)
        for _ in range(rng.randrange(0, 30)):
            start = BASE + dt.timedelta(minutes=rng.choice([1, 5, 15]) * rng.randrange(0, 56))
            minutes = rng.choice([10, 15, 30, 45, 60, 90, 240])
            availability.add_busy(1, start, start + dt.timedelta(minutes=minutes))
        kwargs = {
            "after": BASE + dt.timedelta(minutes=7 * rng.randrange(0, 120)),
            "length": dt.timedelta(minutes=rng.choice([15, 30, 45, 60])),
            "step": dt.timedelta(minutes=rng.choice([5, 10, 15, 30])),
        }
        slots = availability.bookable_slots(1, day, **kwargs)
        assert slots == _naive_slots(availability, 1, day, **kwargs)
        found += len(slots)
    assert found > 1000  # the cases are not all full days
