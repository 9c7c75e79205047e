"""Statistics per agency, procedure and period with the columns of the one-stop reports (pure), counted by the
national method (Decision 766/QĐ-TTg's reporting practice; its formula details are marked uncertain in the catalog's
notes until read in the gazetted text).

For the period [start, end):
- carried over: dossiers received before the period and neither resolved nor ended before it begins;
- received: dossiers received (status 2) in the period, and of them those filed online, brought in person to the
  one-stop desk, or sent by post; to be processed: carried over + received;
- resolved early / on time / late: dossiers processed (status 9: the decision made) in the period, whenever the result
  is handed back (10), by the local date and time of the decision against the appointment date the receipt promised
  (moved by the pauses for a supplement or a fee, never by an extension: an apology with Form 04 does not make a late
  dossier on time); early: on a day before the promised day; on time: by the promised time; late: after it;
- rejected: dossiers refused in the period (at reception, or for a supplement that never came);
- withdrawn: dossiers whose processing stopped in the period;
- in progress at the end of the period (received before it ends, neither processed nor ended by then), by their
  status then: awaiting supplement (5), awaiting fee (6), else overdue (the promised date passed) or not yet due;
- on-time rate: (early + on time) / (resolved + in progress overdue): overdue dossiers still in progress count
  against it; none when there is nothing to count;
- ratings: the applicants' ratings of the service (1-5) given in the period, those of 4 or 5 (satisfied), their
  average and the satisfied share (the satisfaction component of Decision 766/QĐ-TTg);
- the counts behind the indices of Decision 766/QĐ-TTg that Hoso's own data computes (`INDICES`: each with its group,
  formula and source): received with every component as files (digitised), fees paid in the period and of them paid
  online, resolved with an electronic result (the signed decision attached to the decision's step).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from pydantic import BaseModel

from hoso.clock import ClockFields, is_overdue
from hoso.deadlines import HOURS_PER_WORKING_DAY, WorkCalendar
from hoso.documents import Document
from hoso.events import PublicStatus

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")

CLOCK = ClockFields(due="due_at", running={"finished_at": None, "clock_paused": False})
"""Where a dossier's summary keeps its legal clock: it runs until the dossier is finished, except while review's last
event said it stands still."""

COLUMNS = (
    "carried_over",
    "received",
    "received_online",
    "received_in_person",
    "received_post",
    "to_process",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "rejected",
    "withdrawn",
    "in_progress_not_yet_due",
    "in_progress_overdue",
    "awaiting_supplement",
    "awaiting_revision",
    "awaiting_fee",
    "received_digitised",
    "fee_paid",
    "fee_paid_online",
    "resolved_electronic",
    "ratings",
    "ratings_satisfied",
    "rating_score_sum",
)
SATISFIED = 4


class StatsRow(BaseModel):
    agency_code: str
    procedure_code: str
    carried_over: int = 0
    received: int = 0
    received_online: int = 0
    received_in_person: int = 0
    received_post: int = 0
    to_process: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    rejected: int = 0
    withdrawn: int = 0
    in_progress_not_yet_due: int = 0
    in_progress_overdue: int = 0
    awaiting_supplement: int = 0
    awaiting_revision: int = 0
    awaiting_fee: int = 0
    received_digitised: int = 0
    fee_paid: int = 0
    fee_paid_online: int = 0
    resolved_electronic: int = 0
    ratings: int = 0
    ratings_satisfied: int = 0
    rating_score_sum: int = 0
    on_time_rate: float | None = None
    rating_average: float | None = None
    satisfaction_rate: float | None = None
    online_rate: float | None = None
    online_payment_rate: float | None = None
    digitised_rate: float | None = None
    electronic_result_rate: float | None = None

    def finish(self) -> StatsRow:
        resolved = self.resolved_early + self.resolved_on_time + self.resolved_late
        average = round(self.rating_score_sum / self.ratings, 2) if self.ratings else None
        return self.model_copy(
            update={
                "on_time_rate": _share(
                    self.resolved_early + self.resolved_on_time, resolved + self.in_progress_overdue
                ),
                "rating_average": average,
                "satisfaction_rate": _share(self.ratings_satisfied, self.ratings),
                "online_rate": _share(self.received_online, self.received),
                "online_payment_rate": _share(self.fee_paid_online, self.fee_paid),
                "digitised_rate": _share(self.received_digitised, self.received),
                "electronic_result_rate": _share(self.resolved_electronic, resolved),
            }
        )


def _share(part: int, whole: int) -> float | None:
    """part / whole to four places; none when there is nothing to count."""
    return round(part / whole, 4) if whole else None


class IndexMethod(BaseModel):
    """How one index of Decision 766/QĐ-TTg is computed from the columns, and where its method comes from."""

    code: str
    group_vi: str
    group_en: str
    group_points: int
    name_vi: str
    name_en: str
    formula: str
    formula_vi: str = ""
    computed: bool = True
    source: str
    uncertain: bool = True
    note: str = ""


_DECISION_766 = "Quyết định số 766/QĐ-TTg ngày 23/6/2022 của Thủ tướng Chính phủ, Phụ lục"
_SECONDARY = "The groups and their points are read in secondary sources; the formula is Hoso's reading of the group."
INDICES: tuple[IndexMethod, ...] = (
    IndexMethod(
        code="on_time_rate",
        group_vi="Tiến độ giải quyết",
        group_points=20,
        group_en="Progress of resolution",
        name_en="Share resolved on time",
        name_vi="Tỷ lệ hồ sơ giải quyết đúng hạn",
        formula="(resolved_early + resolved_on_time) / (resolved_early + resolved_on_time + resolved_late + "
        "in_progress_overdue)",
        formula_vi="(Giải quyết trước hạn + đúng hạn) / (Đã giải quyết + Đang giải quyết quá hạn)",
        source=_DECISION_766,
        note=_SECONDARY + " Overdue dossiers still in progress count against it.",
    ),
    IndexMethod(
        code="online_rate",
        group_vi="Cung cấp dịch vụ trực tuyến",
        group_points=22,
        group_en="Online public services",
        name_en="Share received online",
        name_vi="Tỷ lệ hồ sơ tiếp nhận trực tuyến",
        formula="received_online / received",
        formula_vi="Tiếp nhận trực tuyến / Tiếp nhận",
        source=_DECISION_766,
        note=_SECONDARY,
    ),
    IndexMethod(
        code="online_payment_rate",
        group_vi="Cung cấp dịch vụ trực tuyến",
        group_points=22,
        group_en="Online public services",
        name_en="Share of fees paid online",
        name_vi="Tỷ lệ hồ sơ thanh toán trực tuyến",
        formula="fee_paid_online / fee_paid",
        formula_vi="Nộp phí trực tuyến / Đã nộp phí",
        source=_DECISION_766,
        note=_SECONDARY + " A fee paid through the platform's payment gateway is paid online.",
    ),
    IndexMethod(
        code="digitised_rate",
        group_vi="Số hóa hồ sơ",
        group_points=22,
        group_en="Digitisation",
        name_en="Share received digitised",
        name_vi="Tỷ lệ hồ sơ có thành phần được số hóa",
        formula="received_digitised / received",
        formula_vi="Tiếp nhận đã số hóa / Tiếp nhận",
        source=_DECISION_766,
        note=_SECONDARY + " Digitised: every component filed as files (online, or scanned at the desk).",
    ),
    IndexMethod(
        code="electronic_result_rate",
        group_vi="Số hóa hồ sơ",
        group_points=22,
        group_en="Digitisation",
        name_en="Share resolved with an electronic result",
        name_vi="Tỷ lệ hồ sơ có kết quả giải quyết điện tử",
        formula="resolved_electronic / (resolved_early + resolved_on_time + resolved_late)",
        formula_vi="Giải quyết có kết quả điện tử / Đã giải quyết",
        source=_DECISION_766,
        note=_SECONDARY + " Electronic: the signed decision attached to the approval or rejection.",
    ),
    IndexMethod(
        code="satisfaction_rate",
        group_vi="Mức độ hài lòng",
        group_points=18,
        group_en="Satisfaction",
        name_en="Share of satisfied ratings",
        name_vi="Tỷ lệ đánh giá hài lòng",
        formula="ratings_satisfied / ratings (a rating of 4 or 5 is satisfied)",
        formula_vi="Đánh giá hài lòng (4 hoặc 5 điểm) / Lượt đánh giá",
        source=_DECISION_766,
        note=_SECONDARY,
    ),
    IndexMethod(
        code="transparency",
        group_vi="Công khai, minh bạch",
        group_points=18,
        group_en="Publicity and transparency",
        name_en="Information made public",
        name_vi="Công khai, minh bạch thông tin",
        formula="",
        computed=False,
        source=_DECISION_766,
        note="Judged on what agencies publish (procedures, progress, results) on their portals: not Hoso's own data.",
    ),
)


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def history_at(summary: Document, moment: datetime) -> Document | None:
    """The entry of the dossier's status history in force just before `moment`."""
    before = [h for h in summary.get("status_history", []) if h["at"] < moment]
    return max(before, key=lambda h: h["at"]) if before else None


def status_at(summary: Document, moment: datetime) -> int | None:
    """The dossier's public status just before `moment`, from the statuses its events led to."""
    entry = history_at(summary, moment)
    return entry["status"] if entry else None


def processed_at(summary: Document) -> datetime | None:
    """When the dossier was first processed (status 9: its decision made), from the statuses its events led to."""
    processed = [h["at"] for h in summary.get("status_history", []) if h["status"] == PublicStatus.PROCESSED]
    return min(processed) if processed else None


def classify(summary: Document, start: datetime, end: datetime) -> list[str]:
    """The columns one dossier counts in for the period."""
    counted: list[str] = []
    received_at, finished_at = summary.get("received_at"), summary.get("finished_at")
    processed = processed_at(summary)
    promised = summary.get("promised_at") or summary.get("due_at")
    # Done: the decision made, or the dossier ended without one (refused, stopped).
    done = processed or (finished_at if summary.get("outcome") in ("refused", "stopped") else None)
    if received_at is not None and received_at < start and (done is None or done >= start):
        counted += ["carried_over", "to_process"]
    if _within(received_at, start, end):
        counted += ["received", f"received_{summary['channel']}", "to_process"]
        if summary.get("digitised"):
            counted.append("received_digitised")
    if _within(summary.get("fee_paid_at"), start, end):
        counted.append("fee_paid")
        if summary.get("fee_paid_online"):
            counted.append("fee_paid_online")
    if _within(processed, start, end) and promised is not None:
        assert processed is not None
        if processed.astimezone(LOCAL).date() < promised.astimezone(LOCAL).date():
            counted.append("resolved_early")
        elif processed <= promised:
            counted.append("resolved_on_time")
        else:
            counted.append("resolved_late")
        if summary.get("result_electronic"):
            counted.append("resolved_electronic")
    elif _within(finished_at, start, end) and processed is None:
        outcome = summary.get("outcome")
        if outcome == "refused":
            counted.append("rejected")
        elif outcome == "stopped":
            counted.append("withdrawn")
    in_progress = received_at is not None and received_at < end and (done is None or done >= end)
    if in_progress:
        entry = history_at(summary, end) or {}
        status = entry.get("status")
        if status == PublicStatus.SUPPLEMENT_REQUESTED and entry.get("awaiting") == "revision":
            counted.append("awaiting_revision")
        elif status == PublicStatus.SUPPLEMENT_REQUESTED:
            counted.append("awaiting_supplement")
        elif status == PublicStatus.AWAITING_FEE:
            counted.append("awaiting_fee")
        elif is_overdue(promised, end, running=True):
            counted.append("in_progress_overdue")
        else:
            counted.append("in_progress_not_yet_due")
    return counted


def statistics(
    summaries: Iterable[Document], start: datetime, end: datetime, ratings: Iterable[Document] = ()
) -> tuple[list[StatsRow], StatsRow]:
    """One row per (agency, procedure) with anything to count, sorted, and the total row."""
    rows: dict[tuple[str, str], StatsRow] = {}

    def row_of(doc: Document) -> StatsRow:
        key = (doc["agency_code"], doc["procedure_code"])
        return rows.setdefault(key, StatsRow(agency_code=key[0], procedure_code=key[1]))

    for summary in summaries:
        columns = classify(summary, start, end)
        if not columns:
            continue
        row = row_of(summary)
        for column in columns:
            setattr(row, column, getattr(row, column) + 1)
    for rating in ratings:
        if not _within(rating["at"], start, end):
            continue
        row = row_of(rating)
        row.ratings += 1
        row.ratings_satisfied += rating["score"] >= SATISFIED
        row.rating_score_sum += rating["score"]
    ordered = [rows[k].finish() for k in sorted(rows)]
    total = StatsRow(agency_code="*", procedure_code="*")
    for row in ordered:
        for column in COLUMNS:
            setattr(total, column, getattr(total, column) + getattr(row, column))
    return ordered, total.finish()


class MonthTotal(BaseModel):
    """The total row of one calendar month of a period (the month cut to the period)."""

    month: str  # YYYY-MM
    period_from: date
    period_to: date
    total: StatsRow


def months_between(first: date, last: date) -> list[tuple[date, date]]:
    """The calendar months the days `first`..`last` touch, each cut to them."""
    found: list[tuple[date, date]] = []
    month = first.replace(day=1)
    while month <= last:
        following = (month + timedelta(days=32)).replace(day=1)
        found.append((max(month, first), min(following - timedelta(days=1), last)))
        month = following
    return found


def by_month(
    summaries: Sequence[Document], ratings: Sequence[Document], first: date, last: date, zone: ZoneInfo
) -> list[MonthTotal]:
    """`statistics` of each month of the period, counted from the same dossiers and ratings."""
    months = []
    for a, b in months_between(first, last):
        start = datetime.combine(a, time.min, tzinfo=zone)
        end = datetime.combine(b + timedelta(days=1), time.min, tzinfo=zone)
        _, total = statistics(summaries, start, end, ratings)
        months.append(MonthTotal(month=f"{a:%Y-%m}", period_from=a, period_to=b, total=total))
    return months


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADINGS_VI = {
    "agency_code": "Cơ quan",
    "procedure_code": "Thủ tục",
    "carried_over": "Kỳ trước chuyển qua",
    "received": "Tiếp nhận",
    "received_online": "Trực tuyến",
    "received_in_person": "Trực tiếp",
    "received_post": "Bưu chính",
    "to_process": "Tổng số phải giải quyết",
    "resolved_early": "Giải quyết trước hạn",
    "resolved_on_time": "Giải quyết đúng hạn",
    "resolved_late": "Giải quyết quá hạn",
    "rejected": "Từ chối",
    "withdrawn": "Rút, dừng xử lý",
    "in_progress_not_yet_due": "Đang giải quyết trong hạn",
    "in_progress_overdue": "Đang giải quyết quá hạn",
    "awaiting_supplement": "Chờ bổ sung",
    "awaiting_revision": "Chờ chỉnh sửa báo cáo",
    "awaiting_fee": "Chờ nộp phí",
    "received_digitised": "Tiếp nhận đã số hóa",
    "fee_paid": "Đã nộp phí",
    "fee_paid_online": "Nộp phí trực tuyến",
    "resolved_electronic": "Giải quyết có kết quả điện tử",
    "ratings": "Lượt đánh giá",
    "ratings_satisfied": "Hài lòng",
    "rating_score_sum": "Tổng điểm đánh giá",
    "on_time_rate": "Tỷ lệ đúng hạn",
    "rating_average": "Điểm đánh giá trung bình",
    "satisfaction_rate": "Tỷ lệ hài lòng",
    "online_rate": "Tỷ lệ tiếp nhận trực tuyến",
    "online_payment_rate": "Tỷ lệ thanh toán trực tuyến",
    "digitised_rate": "Tỷ lệ số hóa hồ sơ",
    "electronic_result_rate": "Tỷ lệ kết quả điện tử",
}


def to_xlsx(
    rows: list[StatsRow], total: StatsRow, period_from: date, period_to: date, months: Sequence[MonthTotal] = ()
) -> bytes:
    """The rows and the total on one worksheet, the months' totals on a second: Vietnamese headings, then the column
    codes of the CSV and the API."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Thong ke"
    sheet.append([f"Thống kê giải quyết thủ tục hành chính từ {period_from:%d/%m/%Y} đến {period_to:%d/%m/%Y}"])
    header = list(HEADINGS_VI)
    sheet.append([HEADINGS_VI[c] for c in header])
    sheet.append(header)
    for row in [*rows, total]:
        values = row.model_dump()
        sheet.append([values[c] for c in header])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    monthly = book.create_sheet("Theo thang")
    monthly.append([f"Theo tháng, từ {period_from:%d/%m/%Y} đến {period_to:%d/%m/%Y}"])
    counted = header[2:]
    monthly.append(["Tháng", "Từ ngày", "Đến ngày", *(HEADINGS_VI[c] for c in counted)])
    monthly.append(["month", "period_from", "period_to", *counted])
    for month in months:
        values = month.total.model_dump()
        monthly.append([month.month, month.period_from, month.period_to, *(values[c] for c in counted)])
    for cell in monthly[2]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


RATES = [
    "on_time_rate",
    "rating_average",
    "satisfaction_rate",
    "online_rate",
    "online_payment_rate",
    "digitised_rate",
    "electronic_result_rate",
]


def to_csv(rows: list[StatsRow], total: StatsRow) -> str:
    """One line per agency and procedure, then the total."""
    header = ["agency_code", "procedure_code", *COLUMNS, *RATES]
    return _csv(header, [row.model_dump() for row in [*rows, total]])


def months_to_csv(months: Sequence[MonthTotal]) -> str:
    """One line per month: its total."""
    header = ["month", "period_from", "period_to", *COLUMNS, *RATES]
    return _csv(
        header, [m.model_dump(include={"month", "period_from", "period_to"}) | m.total.model_dump() for m in months]
    )


def _csv(header: list[str], lines: list[Document]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for values in lines:
        writer.writerow(["" if values[c] is None else values[c] for c in header])
    return out.getvalue()


class Performance(BaseModel):
    """How one procedure is served, for the public: results returned in the window, how many on time, the median
    time from reception to result in working days, and the applicants' ratings."""

    procedure_code: str
    resolved: int = 0
    resolved_on_time: int = 0
    on_time_rate: float | None = None
    median_working_days: float | None = None
    ratings: int = 0
    rating_average: float | None = None
    satisfaction_rate: float | None = None


def performance(
    summaries: Iterable[Document], ratings: Iterable[Document], calendar: WorkCalendar, start: datetime
) -> list[Performance]:
    """Per procedure, from the dossiers whose result was returned since `start` and the ratings given since then."""
    days: dict[str, list[float]] = {}
    rows: dict[str, Performance] = {}
    for summary in summaries:
        finished, received = summary.get("finished_at"), summary.get("received_at")
        due = summary.get("promised_at") or summary.get("due_at")  # an extension does not make it on time
        if summary.get("outcome") != "returned" or finished is None or received is None or finished < start:
            continue
        row = rows.setdefault(summary["procedure_code"], Performance(procedure_code=summary["procedure_code"]))
        row.resolved += 1
        row.resolved_on_time += due is not None and finished <= due
        working = calendar.working_time_between(received, finished).total_seconds() / 3600 / HOURS_PER_WORKING_DAY
        days.setdefault(row.procedure_code, []).append(working)
    scores: dict[str, list[int]] = {}
    for rating in ratings:
        if rating["at"] >= start:
            scores.setdefault(rating["procedure_code"], []).append(rating["score"])
            rows.setdefault(rating["procedure_code"], Performance(procedure_code=rating["procedure_code"]))
    for code, row in rows.items():
        if row.resolved:
            row.on_time_rate = round(row.resolved_on_time / row.resolved, 4)
            row.median_working_days = round(median(days[code]), 1)
        given = scores.get(code, [])
        if given:
            row.ratings = len(given)
            row.rating_average = round(sum(given) / len(given), 2)
            row.satisfaction_rate = round(sum(s >= SATISFIED for s in given) / len(given), 4)
    return [rows[k] for k in sorted(rows)]
