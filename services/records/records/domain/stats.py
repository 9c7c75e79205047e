"""Statistics per agency, procedure and period with the report columns of the one-stop reports (pure).

For the period [start, end):
- received: dossiers received (status 2) in the period, and of them those filed online, brought in person to the
  one-stop desk, or sent by post;
- resolved early / on time / late: results returned in the period, by the local date and time of return against
  the due date (early: on a day before the due day; on time: by the due time; late: after it);
- rejected: dossiers refused in the period (at reception, or for a supplement that never came);
- withdrawn: dossiers whose processing stopped in the period;
- in progress at the end of the period (received before it ends and not finished by then), by their status then:
  awaiting supplement (5), awaiting fee (6), else overdue (due date passed) or not yet due;
- on-time rate: (early + on time) / (early + on time + late), none when nothing was resolved.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from hoso.events import PublicStatus
from hoso.mongo import Document

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")

COLUMNS = (
    "received",
    "received_online",
    "received_in_person",
    "received_post",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "rejected",
    "withdrawn",
    "in_progress_not_yet_due",
    "in_progress_overdue",
    "awaiting_supplement",
    "awaiting_fee",
)


class StatsRow(BaseModel):
    agency_code: str
    procedure_code: str
    received: int = 0
    received_online: int = 0
    received_in_person: int = 0
    received_post: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    rejected: int = 0
    withdrawn: int = 0
    in_progress_not_yet_due: int = 0
    in_progress_overdue: int = 0
    awaiting_supplement: int = 0
    awaiting_fee: int = 0
    on_time_rate: float | None = None

    def finish(self) -> StatsRow:
        resolved = self.resolved_early + self.resolved_on_time + self.resolved_late
        rate = round((self.resolved_early + self.resolved_on_time) / resolved, 4) if resolved else None
        return self.model_copy(update={"on_time_rate": rate})


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def status_at(summary: Document, moment: datetime) -> int | None:
    """The dossier's public status just before `moment`, from the statuses its events led to."""
    before = [h for h in summary.get("status_history", []) if h["at"] < moment]
    return max(before, key=lambda h: h["at"])["status"] if before else None


def classify(summary: Document, start: datetime, end: datetime) -> list[str]:
    """The columns one dossier counts in for the period."""
    counted: list[str] = []
    received_at, finished_at, due_at = summary.get("received_at"), summary.get("finished_at"), summary.get("due_at")
    if _within(received_at, start, end):
        counted += ["received", f"received_{summary['channel']}"]
    if _within(finished_at, start, end):
        assert finished_at is not None
        outcome = summary.get("outcome")
        if outcome == "refused":
            counted.append("rejected")
        elif outcome == "stopped":
            counted.append("withdrawn")
        elif outcome == "returned" and due_at is not None:
            if finished_at.astimezone(LOCAL).date() < due_at.astimezone(LOCAL).date():
                counted.append("resolved_early")
            elif finished_at <= due_at:
                counted.append("resolved_on_time")
            else:
                counted.append("resolved_late")
    in_progress = received_at is not None and received_at < end and (finished_at is None or finished_at >= end)
    if in_progress:
        status = status_at(summary, end)
        if status == PublicStatus.SUPPLEMENT_REQUESTED:
            counted.append("awaiting_supplement")
        elif status == PublicStatus.AWAITING_FEE:
            counted.append("awaiting_fee")
        elif due_at is not None and due_at < end:
            counted.append("in_progress_overdue")
        else:
            counted.append("in_progress_not_yet_due")
    return counted


def statistics(summaries: Iterable[Document], start: datetime, end: datetime) -> tuple[list[StatsRow], StatsRow]:
    """One row per (agency, procedure) with anything to count, sorted, and the total row."""
    rows: dict[tuple[str, str], StatsRow] = {}
    for summary in summaries:
        columns = classify(summary, start, end)
        if not columns:
            continue
        key = (summary["agency_code"], summary["procedure_code"])
        row = rows.setdefault(key, StatsRow(agency_code=key[0], procedure_code=key[1]))
        for column in columns:
            setattr(row, column, getattr(row, column) + 1)
    ordered = [rows[k].finish() for k in sorted(rows)]
    total = StatsRow(agency_code="*", procedure_code="*")
    for row in ordered:
        for column in COLUMNS:
            setattr(total, column, getattr(total, column) + getattr(row, column))
    return ordered, total.finish()


def to_csv(rows: list[StatsRow], total: StatsRow) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["agency_code", "procedure_code", *COLUMNS, "on_time_rate"]
    writer.writerow(header)
    for row in [*rows, total]:
        values = row.model_dump()
        writer.writerow(["" if values[c] is None else values[c] for c in header])
    return out.getvalue()
