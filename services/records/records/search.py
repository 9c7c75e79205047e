"""Officers' search as a MongoDB query built only from typed values (no operator from the request reaches it)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hoso.mongo import Document
from hoso.problems import Problem
from records.domain.stats import CLOCK

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def local_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in Vietnam time; 422 when the range is backwards."""
    if last < first:
        raise Problem(
            422, "Invalid request", "the period ends before it starts",
            errors=[{"field": "to", "message": "must be on or after `from`"}],
        )  # fmt: skip
    if last == date.max:
        raise Problem(
            422, "Invalid request", "the period ends on the last day a date can name",
            errors=[{"field": "to", "message": f"must be before {date.max.isoformat()}"}],
        )  # fmt: skip
    start = datetime.combine(first, time.min, tzinfo=LOCAL)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=LOCAL)
    return start, end


def day_range(name: str, first: date | None, last: date | None) -> Document | None:
    if first is None and last is None:
        return None
    bounds: dict[str, Any] = {}
    if first is not None:
        bounds["$gte"] = datetime.combine(first, time.min, tzinfo=LOCAL)
    if last is not None:
        if first is not None and last < first:
            raise Problem(
                422, "Invalid request", f"{name}_to is before {name}_from",
                errors=[{"field": f"{name}_to", "message": f"must be on or after {name}_from"}],
            )  # fmt: skip
        if last < date.max:
            bounds["$lt"] = datetime.combine(last + timedelta(days=1), time.min, tzinfo=LOCAL)
        else:  # the last day a date can name has no day after it
            bounds["$lte"] = datetime.combine(last, time.max, tzinfo=LOCAL)
    return bounds


def search_query(
    *,
    agency: str | None,
    code: str | None,
    applicant: str | None,
    procedure: str | None,
    statuses: list[int],
    overdue: bool | None,
    submitted: Document | None,
    received: Document | None,
    now: datetime,
) -> Document:
    clauses: list[Document] = []
    if agency is not None:
        clauses.append({"agency_code": agency})
    if code:
        clauses.append({"code": code})
    if applicant:
        pattern = re.escape(applicant.strip())
        clauses.append({"$or": [{"applicant_id": applicant}, {"applicant_name": {"$regex": pattern, "$options": "i"}}]})
    if procedure:
        clauses.append({"procedure_code": procedure})
    if statuses:
        clauses.append({"status_code": {"$in": statuses}})
    if submitted is not None:
        clauses.append({"submitted_at": submitted})
    if received is not None:
        clauses.append({"received_at": received})
    if overdue is True:
        clauses.append(CLOCK.overdue_query(now))
    elif overdue is False:
        clauses.append(CLOCK.not_overdue_query(now))
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def statistics_query(start: datetime, end: datetime, *, agency: str | None, procedure: str | None) -> Document:
    """The dossiers the statistics of [start, end) count: received before its end and not finished before its start
    (received, resolved or still in progress in the period, carried over or not), and those finished in it without
    having been received (refused at reception). A dossier finished before the period is not read."""
    query: Document = {
        "$or": [
            {"received_at": {"$lt": end}, "$or": [{"finished_at": None}, {"finished_at": {"$gte": start}}]},
            {"finished_at": {"$gte": start, "$lt": end}},
        ]
    }
    if agency is not None:
        query["agency_code"] = agency
    if procedure is not None:
        query["procedure_code"] = procedure
    return query
