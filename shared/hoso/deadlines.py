"""Legal deadlines on the Vietnamese administrative calendar. Pure: no I/O.

Office hours are 07:00-11:30 and 13:30-17:00 in Asia/Ho_Chi_Minh, so one working day is 8 working hours. Working
days skip weekends, public holidays (from the `holidays` package: Tết and Hùng Kings' day by the lunar calendar,
30/4, 1/5, 2/9 with their observed days) and configured days off, and count configured make-up working days. A
deadline in working time runs only inside office hours: something received after hours counts from the next
working morning. A calendar-day deadline ends at the close of office on its day, moved to the next working day when
that day is off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

import holidays

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE_PERIODS = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
HOURS_PER_WORKING_DAY = 8
_MAX_DAYS_SCANNED = 20 * 366


class DeadlineUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"


class DeadlineRuleError(ValueError):
    """A deadline that cannot be computed as asked (a negative amount, a naive time, a calendar without work)."""


@cache
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are worked: weekdays, less public holidays and `days_off`, plus `makeup_working_days`."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    makeup_working_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def configured(cls, days_off: Iterable[date] = (), makeup_working_days: Iterable[date] = ()) -> WorkCalendar:
        return cls(frozenset(days_off), frozenset(makeup_working_days))

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_working_days:
            return True
        if day.weekday() >= 5 or day in self.days_off:
            return False
        return day not in _public_holidays(day.year)

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is worked, else the first worked day after it."""
        for offset in range(_MAX_DAYS_SCANNED):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise DeadlineRuleError(f"no working day within {_MAX_DAYS_SCANNED} days of {day}")

    def working_periods(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Office periods (local, aware) from the one containing or following `start`, in order, forever."""
        local = _local(start)
        day = local.date()
        for _ in range(_MAX_DAYS_SCANNED):
            if self.is_working_day(day):
                for begin, end in OFFICE_PERIODS:
                    period_end = datetime.combine(day, end, VIETNAM)
                    if period_end > local:
                        yield max(local, datetime.combine(day, begin, VIETNAM)), period_end
            day += timedelta(days=1)
        raise DeadlineRuleError(f"no working time within {_MAX_DAYS_SCANNED} days of {start}")

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when `amount` of office time has passed since `start`."""
        if amount < timedelta(0):
            raise DeadlineRuleError("a deadline cannot be negative")
        remaining = amount
        for begin, end in self.working_periods(start):
            if remaining == timedelta(0):
                # Nothing left to count: the clock stands at the first moment of office time.
                return begin
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("working_periods never ends")  # pragma: no cover

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time from `start` to `end` (zero when `end` is not after `start`)."""
        total = timedelta(0)
        if end <= start:
            return total
        for begin, period_end in self.working_periods(start):
            if begin >= end:
                break
            total += min(period_end, end) - begin
        return total

    def due(self, start: datetime, amount: int, unit: DeadlineUnit) -> datetime:
        """When a time limit of `amount` `unit` that starts at `start` runs out."""
        if amount < 0:
            raise DeadlineRuleError("a deadline cannot be negative")
        if unit is DeadlineUnit.WORKING_HOURS:
            return self.add_working_time(start, timedelta(hours=amount))
        if unit is DeadlineUnit.WORKING_DAYS:
            return self.add_working_time(start, timedelta(hours=amount * HOURS_PER_WORKING_DAY))
        # Received after hours or on a day off: the count starts on the next working morning.
        first_office_moment = self.add_working_time(start, timedelta(0))
        last_day = first_office_moment.date() + timedelta(days=amount)
        return datetime.combine(self.next_working_day(last_day), OFFICE_PERIODS[-1][1], VIETNAM)

    def paused(self, due: datetime, paused_at: datetime, resumed_at: datetime, unit: DeadlineUnit) -> datetime:
        """The due date moved by the time the clock stood still, in the deadline's own unit (pause policy).

        Under the reset policy the caller computes `due(resumed_at, amount, unit)` afresh instead.
        """
        if unit is DeadlineUnit.CALENDAR_DAYS:
            waited_days = max(0, (_local(resumed_at).date() - _local(paused_at).date()).days)
            return datetime.combine(
                self.next_working_day(_local(due).date() + timedelta(days=waited_days)), OFFICE_PERIODS[-1][1], VIETNAM
            )
        waited = self.working_time_between(paused_at, resumed_at)
        return self.add_working_time(due, waited) if waited else due

    def remaining(self, now: datetime, due: datetime) -> timedelta:
        """Office time left until `due`; negative office time past it when overdue."""
        if now <= due:
            return self.working_time_between(now, due)
        return -self.working_time_between(due, now)


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise DeadlineRuleError("times must carry a time zone")
    return moment.astimezone(VIETNAM)
