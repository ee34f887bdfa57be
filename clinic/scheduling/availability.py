"""Pure, in-memory availability rules shared by the free-slot search, the recurring
preview, booking and the Today page's gaps. The selectors load everything these need in
a fixed number of queries; nothing here touches the database.

All arithmetic on instants is done in UTC: adding a duration to a local wall-clock time
would be wrong on the days the clocks change (patients/localtime.py).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from clinic.models.closures import closed_message
from patients.localtime import clinic_zone, local_occurrence

Block = tuple[dt.time, dt.time]


def working_blocks(
    day: dt.date, hours: Iterable[Block], tz: ZoneInfo
) -> list[tuple[dt.datetime, dt.datetime]]:
    """A day's working-hours blocks as UTC instants, in order.

    A bound the clocks skip on a spring-forward day starts or ends at the jump; a bound
    that happens twice on a fall-back day is its first occurrence (patients/localtime.py).
    """
    return sorted(
        (local_occurrence(day, start, tz), local_occurrence(day, end, tz)) for start, end in hours
    )


def within_working_hours(
    hours_by_weekday: dict[int, list[Block]], start: dt.datetime, end: dt.datetime, tz: ZoneInfo
) -> bool:
    """Whether [start, end) lies inside one working block of the start's local day.

    The one working-hours check: booking (clinic/scheduling/services.py) and every
    preview and search (``Availability``) call it, so they agree on every day,
    daylight-saving days included.
    """
    day = start.astimezone(tz).date()
    blocks = working_blocks(day, hours_by_weekday.get(day.weekday(), []), tz)
    return start < end and any(b0 <= start and end <= b1 for b0, b1 in blocks)


def overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


@dataclass
class Availability:
    """Working hours, time off and busy intervals for some practitioners.

    ``hours``: practitioner id -> {weekday: [(start time, end time), ...]}
    ``time_off``: practitioner id -> [(start, end, reason)]
    ``busy``: practitioner id -> [(start, end)] for live appointments
    ``shared_busy``: intervals that block every practitioner (the patient's or room's).
    ``closed``: local date -> reason, the days the whole clinic is closed (ClinicClosure);
    nothing is free on them, whatever the working hours say.
    """

    hours: dict[int, dict[int, list[tuple[dt.time, dt.time]]]]
    time_off: dict[int, list[tuple[dt.datetime, dt.datetime, str]]] = field(default_factory=dict)
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict)
    shared_busy: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    tz: ZoneInfo = field(default_factory=clinic_zone)
    closed: dict[dt.date, str] = field(default_factory=dict)
    # Per practitioner: their busy and the shared intervals sorted by start, and the
    # longest of them, so ``is_busy`` looks only at intervals that start between
    # ``start - longest`` and ``end`` (bisect) instead of every visit of the window.
    _sorted: dict[int, tuple[list[tuple[dt.datetime, dt.datetime]], dt.timedelta]] = field(
        default_factory=dict, init=False, repr=False
    )

    def blocks_on(
        self, practitioner_id: int, day: dt.date
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """The practitioner's working blocks on a local day, as UTC instants."""
        return working_blocks(
            day, self.hours.get(practitioner_id, {}).get(day.weekday(), []), self.tz
        )

    def within_hours(self, practitioner_id: int, start: dt.datetime, end: dt.datetime) -> bool:
        return within_working_hours(self.hours.get(practitioner_id, {}), start, end, self.tz)

    def closed_on(self, start: dt.datetime, end: dt.datetime) -> tuple[dt.date, str] | None:
        """The first closed local day that [start, end) touches, with its reason."""
        if not self.closed:
            return None
        day = start.astimezone(self.tz).date()
        last = (end - dt.timedelta(microseconds=1)).astimezone(self.tz).date()
        while day <= last:
            if day in self.closed:
                return day, self.closed[day]
            day += dt.timedelta(days=1)
        return None

    def time_off_reason(self, practitioner_id: int, start, end) -> str | None:
        for off_start, off_end, reason in self.time_off.get(practitioner_id, []):
            if overlaps(start, end, off_start, off_end):
                return reason or "time off"
        return None

    def _busy_sorted(
        self, practitioner_id: int
    ) -> tuple[list[tuple[dt.datetime, dt.datetime]], dt.timedelta]:
        cached = self._sorted.get(practitioner_id)
        if cached is None:
            intervals = sorted((*self.busy.get(practitioner_id, []), *self.shared_busy))
            longest = max((b1 - b0 for b0, b1 in intervals), default=dt.timedelta(0))
            cached = self._sorted[practitioner_id] = (intervals, longest)
        return cached

    def busy_until(self, practitioner_id: int, start, end) -> dt.datetime | None:
        """The end of an interval overlapping [start, end), None when none does. A time of
        the same length starting later but before then overlaps that interval too."""
        intervals, longest = self._busy_sorted(practitioner_id)
        # An interval overlapping [start, end) starts before ``end`` and, lasting at most
        # ``longest``, after ``start - longest``.
        i = bisect_left(intervals, (start - longest,))
        while i < len(intervals) and intervals[i][0] < end:
            if intervals[i][1] > start:
                return intervals[i][1]
            i += 1
        return None

    def is_busy(self, practitioner_id: int, start, end) -> bool:
        return self.busy_until(practitioner_id, start, end) is not None

    def problem(self, practitioner_id: int, start, end) -> str:
        """Why this time cannot be booked ("" when it can)."""
        closed = self.closed_on(start, end)
        if closed is not None:
            return closed_message(*closed)
        reason = self.time_off_reason(practitioner_id, start, end)
        if reason is not None:
            return f"The practitioner is away then ({reason})."
        if self.is_busy(practitioner_id, start, end):
            return "Slot taken: there is already a visit at that time."
        if not self.within_hours(practitioner_id, start, end):
            return "Outside the practitioner's working hours."
        return ""

    def add_busy(self, practitioner_id: int, start, end) -> None:
        self.busy.setdefault(practitioner_id, []).append((start, end))
        cached = self._sorted.get(practitioner_id)
        if cached is not None:
            intervals, longest = cached
            insort(intervals, (start, end))
            self._sorted[practitioner_id] = (intervals, max(longest, end - start))

    def add_shared_busy(self, start, end) -> None:
        """An interval that blocks every practitioner (the patient's or the room's)."""
        self.shared_busy.append((start, end))
        self._sorted.clear()

    def free_starts(
        self,
        practitioner_id: int,
        *,
        after: dt.datetime,
        until: dt.datetime,
        duration: dt.timedelta,
        step: dt.timedelta,
    ) -> Iterator[dt.datetime]:
        """Free start instants for one practitioner, in order, from ``after``, of slots
        that end by ``until`` (the busy intervals are known up to there)."""
        day = after.astimezone(self.tz).date()
        last_day = until.astimezone(self.tz).date()
        while day <= last_day:
            if day in self.closed:
                day += dt.timedelta(days=1)
                continue
            for block_start, block_end in self.blocks_on(practitioner_id, day):
                start = block_start
                while start + duration <= block_end:
                    end = start + duration
                    if end > until:
                        return
                    if start >= after:
                        taken = self.busy_until(practitioner_id, start, end)
                        if taken is not None:
                            # Every step that starts before ``taken`` is busy too: go
                            # straight to the first that does not (a full day is a few
                            # jumps, not a check every step).
                            start += step * -((start - taken) // step)
                            continue
                        if self.time_off_reason(practitioner_id, start, end) is None:
                            yield start
                    start += step
            day += dt.timedelta(days=1)

    def bookable_slots(
        self,
        practitioner_id: int,
        day: dt.date,
        *,
        after: dt.datetime,
        length: dt.timedelta,
        step: dt.timedelta,
    ) -> list[dt.datetime]:
        """Starts of non-overlapping free slots of ``length`` on a local day, for the
        calendar's click-to-book links: from each working block's start, a slot where one
        fits, otherwise the next step (so a slot follows straight after a visit)."""
        result: list[dt.datetime] = []
        if day in self.closed:
            return result
        for block_start, block_end in self.blocks_on(practitioner_id, day):
            start = block_start
            while start + length <= block_end:
                end = start + length
                if start >= after:
                    taken_until = self.busy_until(practitioner_id, start, end)
                    if taken_until is not None:
                        # Every step that starts before that busy time ends overlaps it:
                        # go straight to the first step at or after its end.
                        start += -((start - taken_until) // step) * step
                        continue
                    if self.time_off_reason(practitioner_id, start, end) is None:
                        result.append(start)
                        start = end
                        continue
                start += step
        return result

    def gaps(
        self, practitioner_id: int, day: dt.date, *, after: dt.datetime, minimum: dt.timedelta
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """Free stretches of at least ``minimum`` inside the day's working hours."""
        if day in self.closed:
            return []
        taken = sorted(
            [(s, e) for s, e in self.busy.get(practitioner_id, [])]
            + [(s, e) for s, e, _ in self.time_off.get(practitioner_id, [])]
        )
        result = []
        for block_start, block_end in self.blocks_on(practitioner_id, day):
            cursor = max(block_start, after)
            for s, e in taken:
                if e <= cursor or s >= block_end:
                    continue
                if s > cursor and s - cursor >= minimum:
                    result.append((cursor, min(s, block_end)))
                cursor = max(cursor, e)
            if block_end - cursor >= minimum:
                result.append((cursor, block_end))
        return result


def merge_first(iterators: Iterable[tuple[int, Iterator[dt.datetime]]], count: int):
    """The first ``count`` (start, practitioner id) pairs across practitioners, by time."""
    import heapq

    heap: list[tuple[dt.datetime, int, Iterator[dt.datetime]]] = []
    for pid, it in iterators:
        first = next(it, None)
        if first is not None:
            heap.append((first, pid, it))
    heapq.heapify(heap)
    found: list[tuple[dt.datetime, int]] = []
    while heap and len(found) < count:
        start, pid, it = heapq.heappop(heap)
        found.append((start, pid))
        nxt = next(it, None)
        if nxt is not None:
            heapq.heappush(heap, (nxt, pid, it))
    return found


def peak_occupancy(
    intervals: Iterable[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """The most intervals in use at one instant of [start, end), and the first instant
    that many are (None when none is). Intervals are half-open, so a visit ending at 10:00
    and one starting at 10:00 never count together."""
    events: list[tuple[dt.datetime, int]] = []
    for s, e in intervals:
        s, e = max(s, start), min(e, end)
        if s < e:
            events += [(s, 1), (e, -1)]
    events.sort()  # at one instant an end (-1) sorts before a start (+1)
    peak, now, when = 0, 0, None
    for instant, delta in events:
        now += delta
        if now > peak:
            peak, when = now, instant
    return peak, when


def full_intervals(
    intervals: Iterable[tuple[dt.datetime, dt.datetime]], capacity: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The stretches during which at least ``capacity`` of the intervals are in use: when a
    shared room is full. A room of capacity 1 is full whenever one visit is in it."""
    events = sorted(e for s, f in intervals if s < f for e in ((s, 1), (f, -1)))
    result: list[tuple[dt.datetime, dt.datetime]] = []
    count, opened = 0, None
    for instant, delta in events:
        count += delta
        if count >= capacity and opened is None:
            opened = instant
        elif count < capacity and opened is not None:
            if opened < instant:
                result.append((opened, instant))
            opened = None
    return result
