"""Legal deadlines on the Vietnamese calendar: table-driven around real dates, and properties (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hoso.deadlines import VIETNAM, DeadlineRuleError, DeadlineUnit, WorkCalendar

CAL = WorkCalendar()
WD, WH, CD = DeadlineUnit.WORKING_DAYS, DeadlineUnit.WORKING_HOURS, DeadlineUnit.CALENDAR_DAYS


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VIETNAM)


@pytest.mark.parametrize(
    ("start", "amount", "unit", "due"),
    [
        # One working day is eight office hours: Monday 08:00 -> Tuesday 08:00.
        (vn(2026, 12, 7, 8), 1, WD, vn(2026, 12, 8, 8)),
        # Vietnam Culture Day (24 November, from 2026) is off: Monday 23 Nov + 1 day -> Wednesday 25 Nov.
        (vn(2026, 11, 23, 8), 1, WD, vn(2026, 11, 25, 8)),
        # Received on Friday at 17:05, after hours: counts from Monday 07:00; one day ends Monday 17:00.
        (vn(2026, 11, 27, 17, 5), 1, WD, vn(2026, 11, 30, 17)),
        # The lunch break does not count: 10:00 + 2 working hours = 13:30 + 0.5 h = 14:00.
        (vn(2026, 11, 23, 10), 2, WH, vn(2026, 11, 23, 14)),
        # Tết 2027 (4-10 February) is skipped: Wednesday 3 Feb 08:00 + 2 days -> Friday 12 Feb 08:00.
        (vn(2027, 2, 3, 8), 2, WD, vn(2027, 2, 12, 8)),
        # 30/4 and 1/5 2026 (Thursday, Friday): Wednesday 29 April + 1 day -> Monday 4 May.
        (vn(2026, 4, 29, 8), 1, WD, vn(2026, 5, 4, 8)),
        # National Day 2026: 31/8 (substituted), 1/9 and 2/9 are off: Friday 28 Aug + 1 day -> Thursday 3 Sep.
        (vn(2026, 8, 28, 8), 1, WD, vn(2026, 9, 3, 8)),
        # Calendar days end at the close of office; 45 days from 1 Dec 2026 is Friday 15 Jan 2027.
        (vn(2026, 12, 1, 9), 45, CD, vn(2027, 1, 15, 17)),
        # A calendar-day deadline never ends on a day off: 30 days from 6 Jan 2027 is 5 Feb (Tết) -> 11 Feb.
        (vn(2027, 1, 6, 9), 30, CD, vn(2027, 2, 11, 17)),
        # Calendar days received Friday 17:05 count from Monday 30 Nov: 10 days -> Thursday 10 Dec.
        (vn(2026, 11, 27, 17, 5), 10, CD, vn(2026, 12, 10, 17)),
        # A calendar-day deadline falling on a Sunday moves to Monday.
        (vn(2026, 11, 1, 9), 7, CD, vn(2026, 11, 9, 17)),
    ],
)
def test_due_dates_on_real_dates(start: datetime, amount: int, unit: DeadlineUnit, due: datetime) -> None:
    assert CAL.due(start, amount, unit) == due


def test_configured_days_off_and_makeup_working_days_count() -> None:
    calendar = WorkCalendar.configured(days_off=[date(2026, 12, 31)], makeup_working_days=[date(2026, 12, 26)])
    # Wednesday 30 Dec 08:00 + 1 day: 31 Dec is off, 1 Jan is New Year -> Monday 4 Jan 08:00.
    assert calendar.due(vn(2026, 12, 30, 8), 1, WD) == vn(2027, 1, 4, 8)
    # Friday 25 Dec 08:00 + 1 day: Saturday 26 Dec is a make-up working day.
    assert calendar.due(vn(2026, 12, 25, 8), 1, WD) == vn(2026, 12, 26, 8)


def test_a_supplement_pause_across_a_holiday_moves_the_due_date_by_the_working_time_waited() -> None:
    due = CAL.due(vn(2026, 4, 20, 8), 10, WD)  # Monday 20 April + 10 days (27/4 observed, 30/4, 1/5 off)
    assert due == vn(2026, 5, 7, 8)
    # Paused Tuesday 28 April 08:00, resumed Monday 4 May 08:00: waited two working days (28, 29 April).
    assert CAL.paused(due, vn(2026, 4, 28, 8), vn(2026, 5, 4, 8), WD) == vn(2026, 5, 11, 8)


def test_a_calendar_day_pause_moves_by_calendar_days() -> None:
    due = vn(2026, 12, 10, 17)
    assert CAL.paused(due, vn(2026, 12, 1, 9), vn(2026, 12, 4, 9), CD) == vn(2026, 12, 14, 17)


def test_a_pause_outside_office_hours_changes_nothing() -> None:
    due = vn(2026, 12, 10, 17)
    assert CAL.paused(due, vn(2026, 11, 28, 9), vn(2026, 11, 29, 20), WD) == due


def test_remaining_time_is_office_time_and_negative_when_overdue() -> None:
    due = vn(2026, 12, 8, 8)
    assert CAL.remaining(vn(2026, 12, 7, 8), due) == timedelta(hours=8)
    assert CAL.remaining(vn(2026, 12, 8, 9), due) == -timedelta(hours=1)


@pytest.mark.parametrize(("start", "amount"), [(datetime(2026, 1, 1), 1), (vn(2026, 1, 1), -1)])
def test_naive_times_and_negative_amounts_are_refused(start: datetime, amount: int) -> None:
    with pytest.raises(DeadlineRuleError):
        CAL.due(start, amount, WD)


instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
units = st.sampled_from(list(DeadlineUnit))


@settings(max_examples=300, deadline=None)
@given(start=instants, amount=st.integers(min_value=0, max_value=60), unit=units)
def test_a_due_date_is_never_on_a_day_off_nor_before_the_start(
    start: datetime, amount: int, unit: DeadlineUnit
) -> None:
    due = CAL.due(start, amount, unit)
    assert due >= start
    assert CAL.is_working_day(due.astimezone(VIETNAM).date())


@settings(max_examples=300, deadline=None)
@given(
    start=instants,
    amount=st.integers(min_value=0, max_value=59),
    extra=st.integers(min_value=1, max_value=5),
    unit=units,
)
def test_a_longer_duration_never_ends_earlier(start: datetime, amount: int, extra: int, unit: DeadlineUnit) -> None:
    assert CAL.due(start, amount + extra, unit) >= CAL.due(start, amount, unit)


@settings(max_examples=200, deadline=None)
@given(start=instants, hours=st.integers(min_value=1, max_value=200))
def test_working_time_added_is_working_time_measured(start: datetime, hours: int) -> None:
    due = CAL.due(start, hours, WH)
    assert CAL.working_time_between(start, due) == timedelta(hours=hours)
