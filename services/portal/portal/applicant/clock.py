"""The legal clock as an applicant reads it: time left or overdue in the deadline's own unit, or why it is paused.

Pure: the dossier as intake's API gives it, the deadline's unit from its procedure version, and the work calendar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from hoso.clock import is_overdue
from hoso.deadlines import HOURS_PER_WORKING_DAY, DeadlineUnit, WorkCalendar

# Public status codes (the national one-stop systems' list).
NEW, RECEIVED, NOT_RECEIVED, PROCESSING, SUPPLEMENT, FEE, WITHDRAWAL, STOPPED, PROCESSED, RETURNED = range(1, 11)
RUNNING_STATUSES = frozenset({RECEIVED, PROCESSING, WITHDRAWAL, SUPPLEMENT, FEE})


_PAUSED_FOR = {SUPPLEMENT: "supplement", FEE: "fee"}


class ClockState(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True)
class Clock:
    state: ClockState
    unit: DeadlineUnit
    amount: float | None = None
    """Time left (or past due, when overdue) in `unit`: working days, working hours or calendar days."""
    due_at: datetime | None = None
    paused_since: datetime | None = None
    paused_for: str | None = None
    """Why it is paused: "supplement" (the agency waits for documents), "revision" (for the revised report), "fee"
    (for the fee) or "applicant"."""
    reason: str = ""
    side: Literal["applicant", "agency"] = "applicant"
    """Whose page says it: the applicant's reads "waiting for you", the desk's names whom the agency waits for."""


def _datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _in_unit(working: float, unit: DeadlineUnit) -> float:
    if unit is DeadlineUnit.WORKING_HOURS:
        return working / 3600
    return working / 3600 / HOURS_PER_WORKING_DAY


def legal_clock(
    dossier: dict[str, Any],
    unit: DeadlineUnit,
    *,
    now: datetime,
    calendar: WorkCalendar,
    side: Literal["applicant", "agency"] = "applicant",
) -> Clock:
    status = int(dossier["status"]["code"])
    due = _datetime(dossier.get("due_at"))
    if status == NEW:
        return Clock(ClockState.NOT_STARTED, unit)
    if status in _PAUSED_FOR and due is None:
        return Clock(ClockState.NOT_STARTED, unit)  # waiting on the applicant at reception: it starts once received
    if status not in RUNNING_STATUSES or due is None:
        return Clock(ClockState.ENDED, unit, due_at=due)
    if dossier.get("clock_paused"):  # review's fact: its workflow's state waits on the applicant
        request = dossier.get("supplement_request") or {}
        return Clock(
            ClockState.PAUSED,
            unit,
            due_at=due,
            paused_since=_datetime(dossier.get("status_since")),
            paused_for="revision" if request.get("purpose") == "revision" else _PAUSED_FOR.get(status, "applicant"),
            reason=str(request.get("reason") or "") if status == SUPPLEMENT else "",
            side=side,
        )
    overdue = is_overdue(due, now, running=True)
    if unit is DeadlineUnit.CALENDAR_DAYS:
        days = (due - now).total_seconds() / 86400
        left = float(math.ceil(abs(days)))
        if overdue:
            return Clock(ClockState.OVERDUE, unit, amount=left, due_at=due)
        return Clock(ClockState.DUE_SOON if days <= 1 else ClockState.RUNNING, unit, amount=left, due_at=due)
    remaining = calendar.remaining(now, due).total_seconds()
    amount = _in_unit(abs(remaining), unit)
    if overdue:
        # Past the due time out of office hours, no working time has passed yet: overdue, by no amount to name.
        return Clock(ClockState.OVERDUE, unit, amount=_rounded(amount, unit) or None, due_at=due)
    soon = remaining <= HOURS_PER_WORKING_DAY * 3600
    return Clock(ClockState.DUE_SOON if soon else ClockState.RUNNING, unit, amount=_rounded(amount, unit), due_at=due)


def _rounded(amount: float, unit: DeadlineUnit) -> float:
    """Working days to the half day, hours to the hour: what an appointment slip would say."""
    if unit is DeadlineUnit.WORKING_HOURS:
        return float(math.floor(amount)) if amount >= 1 else round(amount, 1)
    return math.floor(amount * 2) / 2
