"""The one rule for "overdue" (`hoso.clock`): a running clock past its due time, as a test and as a filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hoso.clock import ClockFields, is_overdue

DUE = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
REVIEW = ClockFields(due="due_at", running={"terminal": False, "paused_at": None})
RECORDS = ClockFields(due="due_at", running={"finished_at": None, "clock_paused": False})


@pytest.mark.parametrize(
    ("at", "running", "overdue"),
    [
        (DUE - timedelta(seconds=1), True, False),
        (DUE, True, False),  # at the due time itself it is still on time
        (DUE + timedelta(seconds=1), True, True),
        (DUE + timedelta(days=30), False, False),  # a clock that stands still or has ended is never overdue
    ],
)
def test_overdue_is_a_running_clock_past_its_due_time(at: datetime, running: bool, overdue: bool) -> None:
    assert is_overdue(DUE, at, running=running) is overdue
    assert is_overdue(None, at, running=running) is False  # no due time, nothing to be late for


@pytest.mark.parametrize(
    ("doc", "overdue"),
    [
        ({"due_at": DUE, "terminal": False, "paused_at": None}, True),
        ({"due_at": DUE, "terminal": False}, True),  # a missing field reads as null, as MongoDB reads it
        ({"due_at": DUE, "terminal": False, "paused_at": DUE}, False),
        ({"due_at": DUE, "terminal": True, "paused_at": None}, False),
        ({"due_at": None, "terminal": False, "paused_at": None}, False),
    ],
)
def test_a_document_is_overdue_by_the_fields_its_service_keeps(doc: dict[str, object], overdue: bool) -> None:
    assert REVIEW.overdue(doc, DUE + timedelta(hours=1)) is overdue


def test_a_summary_whose_clock_was_never_said_to_run_is_not_counted_overdue() -> None:
    later = DUE + timedelta(hours=1)
    assert RECORDS.overdue({"due_at": DUE, "finished_at": None, "clock_paused": False}, later)
    assert not RECORDS.overdue({"due_at": DUE, "finished_at": None, "clock_paused": True}, later)
    assert not RECORDS.overdue({"due_at": DUE, "finished_at": None}, later)  # `$ne: false` selects it as not overdue
    assert not RECORDS.overdue({"due_at": DUE, "finished_at": later, "clock_paused": False}, later)


def test_the_filters_name_the_same_fields_and_bounds_as_the_test() -> None:
    at = DUE + timedelta(hours=1)
    assert RECORDS.overdue_query(at) == {"due_at": {"$lt": at}, "finished_at": None, "clock_paused": False}
    assert RECORDS.not_overdue_query(at) == {
        "$or": [
            {"due_at": None},
            {"due_at": {"$gte": at}},
            {"finished_at": {"$ne": None}},
            {"clock_paused": {"$ne": False}},
        ]
    }
