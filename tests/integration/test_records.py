"""Records against the real broker and database: timeline and audit, search, statistics, forms and the archive."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pypdf
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from hoso_dev.keys import mint_token
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from hoso.auth import Role
from hoso.events import Envelope, EventType, PublicStatus, from_kafka, new_event
from hoso.events.catalog import (
    Applicant,
    Attachment,
    ComponentFiles,
    DossierApproved,
    DossierDeadlineExtended,
    DossierFeePaid,
    DossierFeeRequested,
    DossierMessageRead,
    DossierMessageSent,
    DossierReceived,
    DossierRefused,
    DossierResultReturned,
    DossierStopped,
    DossierSubmitted,
    DossierSupplementRequested,
    DossierWithdrawalRequested,
    FileRef,
    NotificationDelivered,
)
from hoso.kafka import publish_event
from hoso.mongo import Document, ensure_indexes
from hoso.pins import hash_pin
from hoso.runtime import ProcessRole
from hoso.store import Adapter, Store
from hoso.topics import DOSSIER_EVENTS, NOTIFICATION_EVENTS
from records.bootstrap import build_app
from records.domain.chain import audit, link_after
from records.domain.personal import matches
from records.handlers import _timeline_entry, record_event, record_events
from records.repository import INDEXES as RECORDS_INDEXES
from records.repository import RecordsRepository, entry_of
from records.search import local_day_bounds, statistics_query
from records.settings import RecordsSettings
from tests.integration.conftest import CommandLog
from tests.servers import DmsServer
from tests.support import eventually, read_topic, unique

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=LOCAL)


@dataclass
class Story:
    """One dossier's events, built in order with the times given."""

    agency: str
    procedure: str
    sequence: int
    dossier_id: str = field(default_factory=lambda: unique("dossier"))
    events: list[Envelope] = field(default_factory=list)

    @property
    def code(self) -> str:
        return f"{self.agency}-261101-{self.sequence:04d}"

    def base(self) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "dossier_code": self.code,
            "procedure_code": self.procedure,
            "agency_code": self.agency,
        }

    def add(self, event_type: EventType, model: Any, when: datetime, service: str = "review", **data: Any) -> Story:
        payload = model(**self.base(), **data)
        self.events.append(new_event(event_type, payload, service=service, time=when))
        return self

    def submitted(self, when: datetime, applicant: str = "Nguyễn Văn An") -> Story:
        sha = hashlib.sha256(b"report").hexdigest()
        return self.add(
            EventType.DOSSIER_SUBMITTED, DossierSubmitted, when, "intake",
            status_code=PublicStatus.NEW, procedure_version="2025-03", submitted_at=when,
            applicant=Applicant(
                id=f"citizen-{self.sequence}", name=applicant, email="an@example.vn", phone="+84901234567",
                address="Số 7 phố Hàng Bài, Hà Nội"),
            procedure_name_vi="Thẩm định báo cáo đánh giá tác động môi trường",
            components=[ComponentFiles(code="eia_report", file_ids=["f-1"], files=[
                FileRef(id="f-1", name="bao-cao.pdf", content_type="application/pdf", size=6, sha256=sha)])],
        )  # fmt: skip

    def received(self, when: datetime, due: datetime) -> Story:
        return self.add(
            EventType.DOSSIER_RECEIVED, DossierReceived, when,
            status_code=PublicStatus.RECEIVED, actor_id="officer-1", receipt_number=f"{self.code}/TN",
            received_at=when, appointment_at=due, due_at=due, tracking_pin_hash=hash_pin("12345678"),
            clock_paused=False,
        )  # fmt: skip

    def decided(self, when: datetime, *, signed: bool = False) -> Story:
        """The leader approves: the dossier is processed (9), which the statistics count as resolved. `signed`: the
        signed decision is attached (an electronic result)."""
        attachment = Attachment(id=f"qd-{self.sequence}", name="quyet-dinh.pdf") if signed else None
        return self.add(
            EventType.DOSSIER_APPROVED, DossierApproved, when,
            status_code=PublicStatus.PROCESSED, actor_id="leader-1", decision_number=f"{self.sequence}/QĐ",
            attachment=attachment,
        )  # fmt: skip

    def extended(self, when: datetime, previous: datetime, new: datetime, *, decision: str | None = None) -> Story:
        """The leader extends the time limit: with an apology, or (`decision`) recording the Prime Minister's decision
        that the law lets extend an EIA appraisal, which moves the promise."""
        granted = {"granted_by": "Thủ tướng Chính phủ", "decision_number": decision, "promised_at": new}
        return self.add(
            EventType.DOSSIER_DEADLINE_EXTENDED, DossierDeadlineExtended, when,
            status_code=PublicStatus.PROCESSING, actor_id="leader-1", reason="Cần khảo sát thực địa",
            previous_due_at=previous, new_due_at=new, **(granted if decision else {}),
        )  # fmt: skip

    def returned(self, when: datetime) -> Story:
        return self.add(
            EventType.DOSSIER_RESULT_RETURNED, DossierResultReturned, when,
            status_code=PublicStatus.RESULT_RETURNED, actor_id="officer-1", returned_at=when,
        )  # fmt: skip

    def refused(self, when: datetime) -> Story:
        return self.add(
            EventType.DOSSIER_REFUSED, DossierRefused, when,
            status_code=PublicStatus.NOT_RECEIVED, actor_id="officer-1", reason="Hồ sơ không thuộc thẩm quyền",
        )  # fmt: skip

    def withdrawn(self, requested: datetime, stopped: datetime) -> Story:
        self.add(
            EventType.DOSSIER_WITHDRAWAL_REQUESTED, DossierWithdrawalRequested, requested, "intake",
            status_code=PublicStatus.WITHDRAWAL_REQUESTED, reason="Điều chỉnh dự án",
        )  # fmt: skip
        return self.add(
            EventType.DOSSIER_STOPPED, DossierStopped, stopped,
            status_code=PublicStatus.STOPPED, actor_id="officer-1", reason="Theo đề nghị của chủ dự án",
        )  # fmt: skip

    def supplement_requested(self, when: datetime, purpose: str = "supplement") -> Story:
        return self.add(
            EventType.DOSSIER_SUPPLEMENT_REQUESTED, DossierSupplementRequested, when,
            status_code=PublicStatus.SUPPLEMENT_REQUESTED, actor_id="specialist-1", purpose=purpose,
            items=["Bản đồ vị trí dự án"], supplement_due_at=when + timedelta(days=30), clock_paused=True,
        )  # fmt: skip

    def fee_requested(self, when: datetime, *, pauses: bool = True) -> Story:
        return self.add(
            EventType.DOSSIER_FEE_REQUESTED, DossierFeeRequested, when,
            status_code=PublicStatus.AWAITING_FEE, actor_id="specialist-1", amount=5_000_000, clock_paused=pauses,
        )  # fmt: skip

    def fee(self, requested: datetime, paid: datetime) -> Story:
        self.fee_requested(requested)
        return self.add(
            EventType.DOSSIER_FEE_PAID, DossierFeePaid, paid, "intake",
            status_code=PublicStatus.PROCESSING, amount=5_000_000, payment_reference="PAY-1",
        )  # fmt: skip


@pytest.fixture
def prefix() -> str:
    return unique("records") + "."


@pytest.fixture
def dms() -> Iterator[DmsServer]:
    server = DmsServer(refuse_first=2)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(kafka_bootstrap: str, mongo_url: str, state_dir: Path, prefix: str, dms: DmsServer) -> RecordsSettings:
    return RecordsSettings(
        mongodb_url=mongo_url,
        mongodb_database=unique("test_records").replace("-", "_"),
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
        consumer_group=f"{prefix}records",
        local_mode=True,
        state_dir=state_dir,
        relay_poll_seconds=3600,  # only the look at start-up: what a process writes it publishes at once
        archive_exporter="http",
        archive_url=dms.url,
        archive_retry_base_seconds=0.2,
        archive_retry_max_seconds=0.5,
        archive_interval_seconds=0.2,
    )


@pytest.fixture
async def records(settings: RecordsSettings) -> AsyncIterator[FastAPI]:
    app = build_app(ProcessRole.ALL, settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(records: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=records), base_url="http://records") as c:
        yield c


@pytest.fixture
def auth(state_dir: Path) -> Any:
    def headers(role: str, subject: str = "someone", agency: str | None = "BNNMT") -> dict[str, str]:
        roles = [Role(role)]
        token = mint_token(state_dir, subject=subject, roles=roles, agency=agency, issuer="hoso-local", audience="hoso")
        return {"Authorization": f"Bearer {token}"}

    return headers


async def publish(broker: KafkaBroker, prefix: str, events: list[Envelope], topic: str = DOSSIER_EVENTS) -> None:
    for event in events:
        await publish_event(broker, prefix + topic, event)


def delivered(story: Story, n: int) -> Envelope:
    data = NotificationDelivered(
        delivery_id=f"{n:032x}", source_event_id=story.events[0].id, dossier_id=story.dossier_id,
        dossier_code=story.code, channel="email", recipient_id="citizen-1",
        template="dossier.submitted/applicant/email", delivered_at=at(11, 3),
    )  # fmt: skip
    return new_event(EventType.NOTIFICATION_DELIVERED, data, service="notify", time=at(11, 3))


async def timeline(client: httpx.AsyncClient, auth: Any, code: str, count: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []

    async def complete() -> bool:
        answer = await client.get(f"/api/v1/records/dossiers/{code}/timeline", headers=auth("ops", agency=None))
        entries[:] = answer.json()["entries"] if answer.status_code == 200 else []
        return len(entries) >= count

    await eventually(complete, timeout=30, what=f"{count} timeline entries of {code}")
    return entries


async def test_events_delivered_twice_and_unevenly_give_one_ordered_timeline_and_tampering_is_named(
    records: FastAPI,
    client: httpx.AsyncClient,
    broker: KafkaBroker,
    prefix: str,
    auth: Any,
    mongo: AsyncMongoClient[Document],
    settings: RecordsSettings,
) -> None:
    story = Story("BNNMT", "MT-DTM-BO", 1).submitted(at(11, 2)).received(at(11, 3), at(11, 20))
    story.supplement_requested(at(11, 4))
    notes = [delivered(story, 1), delivered(story, 2)]
    await publish(broker, prefix, story.events[:1] * 2)
    await publish(broker, prefix, notes[:1], NOTIFICATION_EVENTS)
    await asyncio.sleep(0.5)
    await publish(broker, prefix, [*story.events[1:], *story.events])
    await publish(broker, prefix, notes * 2, NOTIFICATION_EVENTS)

    entries = await timeline(client, auth, story.code, 5)
    await asyncio.sleep(1)  # any duplicate would have arrived by now
    entries = await timeline(client, auth, story.code, 5)
    assert len(entries) == 5
    assert [e["sequence"] for e in entries] == [1, 2, 3, 4, 5]
    assert sorted(e["event_id"] for e in entries) == sorted(e.id for e in [*story.events, *notes])
    dossier_order = [e["event_id"] for e in entries if e["status_code"] is not None]
    assert dossier_order == [e.id for e in story.events]
    assert all(entries[i]["previous_hash"] == entries[i - 1]["hash"] for i in range(1, 5))
    audit = (await client.get(f"/api/v1/records/dossiers/{story.code}/audit", headers=auth("ops", agency=None))).json()
    assert audit["valid"] is True
    assert audit["head"] == entries[-1]["hash"]

    # Someone with database access changes one stored event: the audit names that entry.
    collection = mongo[settings.mongodb_database]["timeline"]
    target = next(e for e in entries if e["event_type"] == EventType.DOSSIER_SUPPLEMENT_REQUESTED.value)
    stored = await collection.find_one({"_id": target["event_id"]})
    assert stored is not None
    forged = stored["event"].replace("Bản đồ vị trí dự án", "Không cần bổ sung")
    assert forged != stored["event"]
    await collection.update_one({"_id": target["event_id"]}, {"$set": {"event": forged}})
    audit = (await client.get(f"/api/v1/records/dossiers/{story.code}/audit", headers=auth("ops", agency=None))).json()
    assert audit["valid"] is False
    assert audit["first_invalid_sequence"] == target["sequence"]
    assert audit["first_invalid_event_id"] == target["event_id"]


def stories() -> tuple[list[Story], dict[str, dict[str, Any]]]:
    """Dossiers whose counts for November 2026 are known by construction, and those counts."""
    b, h = ("BNNMT", "MT-DTM-BO"), ("UBND.HN", "MT-GPMT-TINH")
    s = [Story(*b, n) for n in range(1, 12)] + [Story(*h, n) for n in range(1, 3)]
    s[0].submitted(at(11, 2)).received(at(11, 3), at(11, 20)).decided(at(11, 10), signed=True).returned(at(11, 10))
    s[1].submitted(at(11, 3)).received(at(11, 4), at(11, 20, 10)).decided(at(11, 20, 9)).returned(at(11, 20, 9))
    s[2].submitted(at(11, 4)).received(at(11, 5), at(11, 10)).decided(at(11, 12)).returned(at(11, 12))  # late
    s[3].submitted(at(11, 5)).received(at(11, 6), at(11, 30)).refused(at(11, 7))  # rejected
    s[4].submitted(at(11, 5)).received(at(11, 6), at(11, 30)).withdrawn(at(11, 8), at(11, 9))  # withdrawn
    s[5].submitted(at(11, 9)).received(at(11, 10), at(12, 20)).fee(at(11, 12), at(11, 14))  # paid; not yet due
    s[6].submitted(at(11, 9)).received(at(11, 10), at(11, 25))  # overdue at the end of November
    s[7].submitted(at(11, 10)).received(at(11, 11), at(12, 20)).supplement_requested(at(11, 12))  # supplement
    s[8].submitted(at(11, 10)).received(at(11, 11), at(12, 20)).fee(at(11, 12), at(12, 2))  # fee, paid later
    s[9].submitted(at(10, 19)).received(at(10, 20), at(11, 15)).decided(at(11, 5)).returned(at(11, 5))  # carried
    s[10].submitted(at(11, 30)).received(at(12, 1), at(12, 20))  # received after the period
    s[11].submitted(at(11, 14)).received(at(11, 15), at(11, 18)).decided(at(11, 19)).returned(at(11, 19))  # late
    s[12].submitted(at(11, 28)).received(at(11, 29), at(12, 10))  # not yet due
    s += [Story(*b, 12), Story(*b, 13)]
    s[13].submitted(at(11, 12)).refused(at(11, 13))  # refused at reception, never received: rejected
    long_ago = datetime(2025, 3, 3, 9, tzinfo=LOCAL)
    s[14].submitted(long_ago).received(long_ago, long_ago + timedelta(days=20)).decided(long_ago + timedelta(days=7))
    s[14].returned(long_ago + timedelta(days=7))
    s += [Story(*b, 14), Story(*b, 15)]
    # Extended with an apology, decided after the first appointment: late all the same.
    s[15].submitted(at(11, 1)).received(at(11, 2), at(11, 10)).extended(at(11, 8), at(11, 10), at(11, 20))
    s[15].decided(at(11, 15)).returned(at(11, 16))
    s[16].submitted(at(11, 2)).received(at(11, 3), at(11, 25)).decided(at(11, 24)).returned(at(12, 2))  # early
    s += [Story(*b, 16)]
    # Asked after the council to revise its report: awaiting the revised report, not a missing document.
    s[17].submitted(at(11, 2)).received(at(11, 3), at(12, 15)).supplement_requested(at(11, 20), purpose="revision")
    # Extended by the Prime Minister's decision (Law 72/2020 Art. 34(6)(d)), decided on the new date: on time.
    s += [Story(*h, 3)]
    s[18].submitted(at(11, 3)).received(at(11, 4), at(11, 12))
    s[18].extended(at(11, 10), at(11, 12), at(11, 25, 17), decision="1/QĐ-TTg").decided(at(11, 25)).returned(at(11, 26))
    zero = dict.fromkeys(
        ["carried_over", "received", "to_process", "resolved_early", "resolved_on_time", "resolved_late", "rejected",
         "withdrawn", "in_progress_not_yet_due", "in_progress_overdue", "awaiting_supplement", "awaiting_revision",
         "awaiting_fee"], 0,
    )  # fmt: skip
    # By hand: BNNMT received 0-8, 15, 16 and 17 in November (12) and carries 9 over (13 to process); resolved early
    # 0, 9, 16; on time 1; late 2 and 15 (its extension does not count); on time 4 of 3 + 1 + 2 + 1 overdue (6).
    expected = {
        "BNNMT": {**zero, "carried_over": 1, "received": 12, "to_process": 13, "resolved_early": 3,
                  "resolved_on_time": 1, "resolved_late": 2, "rejected": 2, "withdrawn": 1,
                  "in_progress_not_yet_due": 1, "in_progress_overdue": 1, "awaiting_supplement": 1,
                  "awaiting_revision": 1, "awaiting_fee": 1, "on_time_rate": 0.5714,
                  # Decision 766's counts: every story's report came as a file; s[5] paid online in November (s[8]
                  # in December); s[0]'s decision was signed and attached.
                  "received_digitised": 12, "fee_paid": 1, "fee_paid_online": 1, "resolved_electronic": 1,
                  "online_rate": 1.0, "digitised_rate": 1.0, "online_payment_rate": 1.0,
                  "electronic_result_rate": round(1 / 6, 4)},
        "UBND.HN": {**zero, "received": 3, "to_process": 3, "resolved_on_time": 1, "resolved_late": 1,
                    "in_progress_not_yet_due": 1, "on_time_rate": 0.5},
    }  # fmt: skip
    return s, expected


async def test_statistics_over_dossiers_with_known_counts_match_in_json_and_csv(
    records: FastAPI,
    client: httpx.AsyncClient,
    broker: KafkaBroker,
    prefix: str,
    auth: Any,
    mongo: AsyncMongoClient[Document],
    settings: RecordsSettings,
) -> None:
    all_stories, expected = stories()
    for story in all_stories:
        await publish(broker, prefix, story.events)
    for story in all_stories:
        await timeline(client, auth, story.code, len(story.events))

    ops = auth("ops", agency=None)
    answer = await client.get("/api/v1/records/stats", params={"from": "2026-11-01", "to": "2026-11-30"}, headers=ops)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    rows = {r["agency_code"]: r for r in body["rows"]}
    assert set(rows) == {"BNNMT", "UBND.HN"}
    for agency, counts in expected.items():
        assert {k: rows[agency][k] for k in counts} == counts, agency
    total = body["total"]
    assert (total["carried_over"], total["received"], total["to_process"]) == (1, 15, 16)
    assert total["resolved_late"] == 3
    assert total["on_time_rate"] == round(5 / 9, 4)  # (3 early + 2 on time) / (8 resolved + 1 overdue)
    # Only what the period needs is read: the dossier resolved in 2025 is not, the carried-over ones and the one
    # refused at reception are.
    start, end = local_day_bounds(date(2026, 11, 1), date(2026, 11, 30))
    read = await RecordsRepository(Store(mongo[settings.mongodb_database])).for_statistics(
        statistics_query(start, end, agency="BNNMT", procedure=None)
    )
    ids = {d["_id"] for d in read}
    bnnmt = [story for story in all_stories if story.agency == "BNNMT"]
    wanted = {story.dossier_id for n, story in enumerate(all_stories) if story in bnnmt and n not in (10, 14)}
    assert wanted <= ids  # carried over (9), refused at reception (13) and the rest of November's
    assert {all_stories[10].dossier_id, all_stories[14].dossier_id}.isdisjoint(ids)  # received after; resolved in 2025

    as_csv = await client.get(
        "/api/v1/records/stats.csv", params={"from": "2026-11-01", "to": "2026-11-30"}, headers=ops
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["agency_code"] for r in table] == ["BNNMT", "UBND.HN", "*"]
    for line, row in zip(table, [*body["rows"], total], strict=True):
        assert {k: ("" if v is None else str(v)) for k, v in row.items()} == line

    # A period over two months: each month's total is what the statistics of that month alone say, in JSON, in the
    # CSV by month and on the workbook's second sheet.
    two = await client.get("/api/v1/records/stats", params={"from": "2026-10-15", "to": "2026-11-30"}, headers=ops)
    months = two.json()["months"]
    assert [(m["month"], m["period_from"], m["period_to"]) for m in months] == [
        ("2026-10", "2026-10-15", "2026-10-31"),
        ("2026-11", "2026-11-01", "2026-11-30"),
    ]
    assert months[1]["total"] == total
    october = await client.get("/api/v1/records/stats", params={"from": "2026-10-15", "to": "2026-10-31"}, headers=ops)
    assert months[0]["total"] == october.json()["total"]
    assert months[0]["total"]["received"] == 1
    by_month = await client.get(
        "/api/v1/records/stats.csv", params={"from": "2026-10-15", "to": "2026-11-30", "by": "month"}, headers=ops
    )
    lines = list(csv.DictReader(io.StringIO(by_month.text)))
    assert [(line["month"], line["received"], line["resolved_late"]) for line in lines] == [
        ("2026-10", "1", "0"),
        ("2026-11", "15", "3"),
    ]
    book = await client.get(
        "/api/v1/records/stats.xlsx", params={"from": "2026-10-15", "to": "2026-11-30"}, headers=ops
    )
    sheet = openpyxl.load_workbook(io.BytesIO(book.content))["Theo thang"]
    header = [c.value for c in sheet[3]]
    assert [
        dict(zip(header, (c.value for c in row), strict=True))["received"] for row in sheet.iter_rows(min_row=4)
    ] == [1, 15]
    wrong = await client.get(
        "/api/v1/records/stats.csv", params={"from": "2026-11-01", "to": "2026-11-30", "by": "week"}, headers=ops
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "by"

    # An officer sees their own agency only; another agency is refused; a backwards period is a 422.
    hanoi = auth("leader", "leader-hn", "UBND.HN")
    own = await client.get("/api/v1/records/stats", params={"from": "2026-11-01", "to": "2026-11-30"}, headers=hanoi)
    assert [r["agency_code"] for r in own.json()["rows"]] == ["UBND.HN"]
    other = await client.get(
        "/api/v1/records/stats", params={"from": "2026-11-01", "to": "2026-11-30", "agency": "BNNMT"}, headers=hanoi
    )
    assert other.status_code == 403
    backwards = await client.get(
        "/api/v1/records/stats", params={"from": "2026-11-30", "to": "2026-11-01"}, headers=ops
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "to"
    for first, last in (("0001-01-01", "9999-12-31"), ("9999-12-31", "9999-12-31"), ("2016-11-01", "2026-11-30")):
        endless = await client.get("/api/v1/records/stats", params={"from": first, "to": last}, headers=ops)
        assert endless.status_code == 422, (first, last)
        assert endless.json()["errors"][0]["field"] == "to"
    applicant = await client.get(
        "/api/v1/records/stats",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=auth("applicant", agency=None),
    )
    assert applicant.status_code == 403

    # Search: by agency (forced for officers), status, overdue, applicant name, date range; paginated.
    async def search(headers: dict[str, str], **params: Any) -> dict[str, Any]:
        found = await client.get("/api/v1/records/dossiers", params=params, headers=headers)
        assert found.status_code == 200, found.text
        result: dict[str, Any] = found.json()
        return result

    officer = auth("reception_officer", "officer-1", "BNNMT")
    mine = await search(officer, page_size=100)
    assert mine["total"] == 16
    assert {i["agency_code"] for i in mine["items"]} == {"BNNMT"}
    assert {i["code"] for i in (await search(officer, status=5))["items"]} == {
        all_stories[7].code,
        all_stories[17].code,
    }
    assert {i["code"] for i in (await search(officer, status=[3, 8]))["items"]} == {
        all_stories[3].code,
        all_stories[4].code,
        all_stories[13].code,
    }
    overdue = await search(officer, overdue=True)
    assert all_stories[6].code in {i["code"] for i in overdue["items"]}
    assert all(i["overdue"] for i in overdue["items"])
    assert (await search(officer, applicant="nguyễn văn"))["total"] == 16
    assert (await search(officer, applicant=".*"))["total"] == 0  # a pattern is a literal, not a regex
    assert (await search(officer, received_to="9999-12-31"))["total"] == 15  # every one received, none refused 500
    received = await search(officer, received_from="2026-11-01", received_to="2026-11-30", page_size=3, page=2)
    assert received["total"] == 12
    assert len(received["items"]) == 3
    assert (await search(ops, agency="UBND.HN"))["total"] == 3
    refused = await client.get("/api/v1/records/dossiers", params={"agency": "UBND.HN"}, headers=officer)
    assert refused.status_code == 403
    injected = await client.get("/api/v1/records/dossiers", params={"code[$ne]": "x"}, headers=officer)
    assert injected.status_code == 200
    assert injected.json()["total"] == 16  # an unknown parameter is ignored, never an operator


async def test_overdue_is_what_review_said_of_the_clock_not_what_a_status_suggests(
    records: FastAPI,
    client: httpx.AsyncClient,
    broker: KafkaBroker,
    prefix: str,
    auth: Any,
    mongo: AsyncMongoClient[Document],
    settings: RecordsSettings,
) -> None:
    past_due = at(11, 20)
    waiting = Story("BNNMT", "MT-DTM-BO", 41).submitted(at(11, 2)).received(at(11, 3), past_due)
    waiting.supplement_requested(at(11, 4))  # paused before its due time: not overdue, however long it waits
    fee_runs = Story("BNNMT", "MT-DTM-BO", 42).submitted(at(11, 2)).received(at(11, 3), past_due)
    fee_runs.fee_requested(at(11, 4), pauses=False)  # a workflow whose fee wait does not stop the clock: overdue
    late = Story("BNNMT", "MT-DTM-BO", 43).submitted(at(11, 2)).received(at(11, 3), past_due)
    await publish(broker, prefix, [*waiting.events, *fee_runs.events, *late.events])
    for story in (waiting, fee_runs, late):
        await timeline(client, auth, story.code, len(story.events))
    officer = auth("reception_officer", "officer-1", "BNNMT")

    async def codes(**params: Any) -> dict[str, bool]:
        found = await client.get("/api/v1/records/dossiers", params={**params, "page_size": 100}, headers=officer)
        assert found.status_code == 200, found.text
        return {i["code"]: i["overdue"] for i in found.json()["items"]}

    mine = {waiting.code, fee_runs.code, late.code}
    assert {c: o for c, o in (await codes()).items() if c in mine} == {
        waiting.code: False,
        fee_runs.code: True,
        late.code: True,
    }
    assert {c for c in await codes(overdue=True) if c in mine} == {fee_runs.code, late.code}
    assert {c for c in await codes(overdue=False) if c in mine} == {waiting.code}
    # The metrics' gauge counts the same two.
    _, overdue = await RecordsRepository(Store(mongo[settings.mongodb_database])).status_counts(datetime.now(UTC))
    assert overdue == {"BNNMT": 2}


async def test_personal_data_stays_out_of_the_chain_and_its_erasure_leaves_every_audit_valid(
    records: FastAPI,
    client: httpx.AsyncClient,
    broker: KafkaBroker,
    prefix: str,
    auth: Any,
    mongo: AsyncMongoClient[Document],
    settings: RecordsSettings,
) -> None:
    story = Story("BNNMT", "MT-DTM-BO", 51).submitted(at(11, 2), "Trần Thị Mai").received(at(11, 3), at(11, 20))
    await publish(broker, prefix, story.events)
    entries = await timeline(client, auth, story.code, 2)
    db = mongo[settings.mongodb_database]
    stored = [doc async for doc in db["timeline"].find({"dossier_id": story.dossier_id})]
    for personal in ("an@example.vn", "+84901234567", "Trần Thị Mai", "Số 7 phố Hàng Bài"):
        assert all(personal not in doc["event"] for doc in stored), personal  # nowhere in what the chain signs
    applicant = json.loads(next(d for d in stored if d["sequence"] == 1)["event"])["data"]["applicant"]
    assert applicant["id"] == "citizen-51"
    assert all(applicant[k].startswith("personal:") for k in ("email", "phone", "address", "name"))
    kept = await db["personal_data"].find_one({"_id": story.dossier_id})
    assert kept is not None
    assert {pair["path"]: pair["value"] for pair in kept["values"]} == {
        "applicant.email": "an@example.vn", "applicant.phone": "+84901234567", "applicant.name": "Trần Thị Mai",
        "applicant.address": "Số 7 phố Hàng Bài, Hà Nội",
    }  # fmt: skip
    assert matches("+84901234567", applicant["phone"], kept["salt"])  # the digest proves the value while kept
    officer = auth("specialist", "specialist-1", "BNNMT")
    form = await client.get(f"/api/v1/records/dossiers/{story.code}/forms/01.pdf", headers=officer)
    receipt = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(form.content)).pages).split())
    assert "Trần Thị Mai" in receipt
    assert "Địa chỉ: Số 7 phố Hàng Bài, Hà Nội" in receipt

    url = f"/api/v1/records/dossiers/{story.code}/personal-data/erasure"
    admin = auth("admin", "admin-bnnmt", "BNNMT")
    reason = "Yêu cầu xoá dữ liệu của chủ thể dữ liệu ngày 01/12/2026, số 12/YC"
    assert (await client.post(url, json={"reason": reason}, headers=officer)).status_code == 403
    other = await client.post(url, json={"reason": reason}, headers=auth("admin", "admin-hn", "UBND.HN"))
    assert other.status_code == 404
    blank = await client.post(url, json={"reason": "   "}, headers=admin)
    assert blank.status_code == 422
    assert "reason" in blank.text
    erased = await client.post(url, json={"reason": reason}, headers=admin)
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["erased"] == ["applicant.address", "applicant.email", "applicant.name", "applicant.phone"]
    assert (body["erased_now"], body["actor_id"], body["reason"]) == (True, "admin-bnnmt", reason)

    kept = await db["personal_data"].find_one({"_id": story.dossier_id})
    assert kept is not None
    assert (kept["values"], kept["salt"]) == (None, None)
    summary = await db["dossiers"].find_one({"_id": story.dossier_id})
    assert summary is not None
    assert summary["applicant_name"] == ""
    # The erasure joins the timeline (published through records' outbox), and the chain still verifies.
    entries = await timeline(client, auth, story.code, 3)
    assert entries[-1]["event_type"] == EventType.DOSSIER_PERSONAL_DATA_ERASED.value
    audit_answer = await client.get(f"/api/v1/records/dossiers/{story.code}/audit", headers=officer)
    assert audit_answer.json()["valid"] is True
    assert audit_answer.json()["entries"] == 3
    form = await client.get(f"/api/v1/records/dossiers/{story.code}/forms/01.pdf", headers=officer)
    assert form.status_code == 200
    erased_receipt = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(form.content)).pages)
    assert "Trần Thị Mai" not in erased_receipt
    assert "Hàng Bài" not in erased_receipt
    again = await client.post(url, json={"reason": "lần hai"}, headers=admin)
    assert again.status_code == 200
    assert (again.json()["erased_now"], again.json()["reason"]) == (False, reason)  # once; the first one stands

    # The submission delivered again after the erasure keeps nothing personal.
    await publish(broker, prefix, story.events[:1])
    await asyncio.sleep(1)
    assert (await db["personal_data"].find_one({"_id": story.dossier_id}) or {}).get("values") is None
    assert len(await timeline(client, auth, story.code, 3)) == 3


async def test_forms_are_rendered_from_the_timeline(
    records: FastAPI, client: httpx.AsyncClient, broker: KafkaBroker, prefix: str, auth: Any
) -> None:
    story = Story("BNNMT", "MT-DTM-BO", 21).submitted(at(11, 2)).received(at(11, 3), at(11, 20))
    story.supplement_requested(at(11, 4))
    await publish(broker, prefix, story.events)
    await timeline(client, auth, story.code, 3)
    officer = auth("specialist", "specialist-1", "BNNMT")
    for form, phrase in (
        ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
        ("02", "Bản đồ vị trí dự án"),
        ("05", "Yêu cầu bổ sung hồ sơ"),
        ("06", "SỔ THEO DÕI HỒ SƠ"),
    ):
        answer = await client.get(f"/api/v1/records/dossiers/{story.code}/forms/{form}.pdf", headers=officer)
        assert answer.status_code == 200, (form, answer.text)
        assert answer.headers["content-type"] == "application/pdf"
        text = " ".join("".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(answer.content)).pages).split())
        assert story.code in text
        assert phrase in text, form
    never = await client.get(f"/api/v1/records/dossiers/{story.code}/forms/03.pdf", headers=officer)
    assert never.status_code == 404
    unknown = await client.get(f"/api/v1/records/dossiers/{story.code}/forms/09.pdf", headers=officer)
    assert unknown.status_code == 422
    elsewhere = auth("specialist", "s-hn", "UBND.HN")
    assert (
        await client.get(f"/api/v1/records/dossiers/{story.code}/forms/01.pdf", headers=elsewhere)
    ).status_code == 404


async def test_an_ended_dossier_is_archived_once_even_when_the_dms_refuses_twice(
    records: FastAPI,
    client: httpx.AsyncClient,
    broker: KafkaBroker,
    prefix: str,
    auth: Any,
    dms: DmsServer,
    kafka_bootstrap: str,
) -> None:
    story = Story("BNNMT", "MT-DTM-BO", 31).submitted(at(11, 2)).received(at(11, 3), at(11, 20))
    story.returned(at(11, 10))
    await publish(broker, prefix, story.events)
    officer = auth("leader", "leader-1", "BNNMT")

    async def archived() -> bool:
        answer = await client.get(f"/api/v1/records/dossiers/{story.code}/archive", headers=officer)
        return answer.status_code == 200 and answer.headers["x-hoso-archive-state"] == "exported"

    await eventually(archived, timeout=30, what="the archive exported")
    await asyncio.sleep(1)  # further passes of the exporter must not send it again
    assert dms.attempts == 3
    assert len(dms.accepted) == 1
    headers, sent = dms.accepted[0]
    assert headers["Content-Type"] == "application/zip"
    assert headers["Idempotency-Key"] == story.dossier_id

    download = await client.get(f"/api/v1/records/dossiers/{story.code}/archive", headers=officer)
    assert download.content == sent
    assert download.headers["x-hoso-package-sha256"] == hashlib.sha256(sent).hexdigest()
    package = zipfile.ZipFile(io.BytesIO(sent))
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["dossier"]["code"] == story.code
    assert manifest["dossier"]["outcome"] == "returned"
    assert manifest["components"][0]["files"][0]["sha256"] == hashlib.sha256(b"report").hexdigest()
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert set(listed) == set(package.namelist()) - {"manifest.json"}
    assert {"timeline.json", "forms/mau-01.pdf", "forms/mau-05.pdf", "forms/mau-06.pdf"} <= set(listed)
    for path, digest in listed.items():
        assert hashlib.sha256(package.read(path)).hexdigest() == digest, path
    entries = json.loads(package.read("timeline.json"))["entries"]
    assert [e["event_id"] for e in entries] == [e.id for e in story.events]
    assert manifest["timeline"]["chain_head"] == entries[-1]["hash"]

    # dossier.archived is published once and lands in the timeline after the ending.
    records_on_topic = await read_topic(kafka_bootstrap, prefix + DOSSIER_EVENTS, expect=len(story.events) + 1)
    archived_events = [
        e for r in records_on_topic if (e := from_kafka(r.key, r.value, r.headers)).type is EventType.DOSSIER_ARCHIVED
    ]
    assert len(archived_events) == 1
    assert archived_events[0].data["package_sha256"] == hashlib.sha256(sent).hexdigest()
    assert archived_events[0].data["chain_head"] == manifest["timeline"]["chain_head"]
    final = await timeline(client, auth, story.code, len(story.events) + 1)
    assert final[-1]["event_type"] == EventType.DOSSIER_ARCHIVED.value

    applicant = auth("applicant", "citizen-99", None)
    assert (await client.get(f"/api/v1/records/dossiers/{story.code}/archive", headers=applicant)).status_code == 404


async def test_a_batch_with_redeliveries_and_duplicates_records_each_event_once_in_order(store: Store) -> None:
    await ensure_indexes(store.db, RECORDS_INDEXES)
    repo = RecordsRepository(store)
    a, b, c = (Story("BNNMT", "MT-DTM-BO", n).submitted(at(11, 2)) for n in (21, 22, 23))
    for story in (a, b, c):
        story.received(at(11, 3), at(11, 20)).supplement_requested(at(11, 4))
    c.returned(at(11, 5))
    # `a`'s first event was recorded before (the batch is a redelivery for it); `b`'s first comes twice.
    assert await record_events(repo, a.events[:1]) == []
    batch = [b.events[0], c.events[0], a.events[0], a.events[1], b.events[0], c.events[1], a.events[2]]
    batch += [b.events[1], b.events[2], c.events[2], c.events[3]]

    ended = await record_events(repo, batch)
    # The same batch again (a crash before the offsets were committed) changes nothing.
    again = await record_events(repo, batch)

    for story in (a, b, c):
        entries = await repo.timeline_of(story.code)
        assert [e["_id"] for e in entries] == [e.id for e in story.events]
        assert audit([entry_of(e) for e in entries]).valid
        assert await repo.chain_head(story.dossier_id) == (len(entries), entries[-1]["hash"])
        summary = await repo.dossier(story.dossier_id)
        assert summary is not None
        assert summary["applied_events"] == [e.id for e in story.events]
        assert [h["event_id"] for h in summary["status_history"]] == [e.id for e in story.events]
        first_recorded = entries[0]["recorded_at"]
        assert first_recorded <= summary["recorded_at"] <= first_recorded + timedelta(seconds=5)
    assert [(summary["code"], event_id) for summary, event_id in ended] == [(c.code, c.events[3].id)]
    assert [event_id for _, event_id in again] == [c.events[3].id]

    # A later event chains after the batch's entries.
    a.returned(at(11, 6))
    await record_events(repo, a.events[3:])
    entries = await repo.timeline_of(a.code)
    assert [e["sequence"] for e in entries] == [1, 2, 3, 4]
    assert audit([entry_of(e) for e in entries]).valid


async def test_a_long_batch_refused_near_its_start_still_chains_every_dossier(
    database: AsyncDatabase[Document],
) -> None:
    await ensure_indexes(database, RECORDS_INDEXES)
    repo = RecordsRepository(Store(database))
    stories = [Story("BNNMT", "MT-DTM-BO", n).submitted(at(11, 2)).received(at(11, 3), at(11, 20)) for n in range(60)]
    for story in stories:
        story.supplement_requested(at(11, 4))
    await record_events(repo, stories[1].events[:1])  # recorded before: the batch is refused at its second entry
    # Round by round, so that most dossiers have entries on both sides of the 100th.
    batch = [story.events[n] for n in range(3) for story in stories]
    assert len(batch) > 100

    await record_events(repo, batch)

    for story in stories:
        entries = await repo.timeline_of(story.code)
        assert [e["_id"] for e in entries] == [e.id for e in story.events], story.code
        assert audit([entry_of(e) for e in entries]).valid, story.code


async def test_a_dossiers_timeline_and_summary_are_found_by_code_through_id_look_ups_only(
    logged: tuple[AsyncDatabase[Document], CommandLog], adapter: Adapter
) -> None:
    database, commands = logged
    await ensure_indexes(database, RECORDS_INDEXES)
    repo = RecordsRepository(Store(database, adapter))
    story = Story("BNNMT", "MT-DTM-BO", 31).submitted(at(11, 2)).received(at(11, 3), at(11, 20))
    story.supplement_requested(at(11, 4))
    await record_events(repo, story.events[:2])
    await record_event(repo, story.events[2])  # the one-by-one way

    commands.clear()
    entries = await repo.timeline_of(story.code)
    summary = await repo.dossier_by_code(story.code)
    assert [e["_id"] for e in entries] == [e.id for e in story.events]
    assert summary is not None
    assert summary["_id"] == story.dossier_id
    assert commands.filters
    assert all(list(f) == ["_id"] for _, f in commands.filters), commands.filters
    assert await repo.timeline_of("BNNMT-261101-9999") == []
    assert await repo.dossier_by_code("BNNMT-261101-9999") is None


async def test_an_entry_recorded_just_before_a_crash_joins_its_chain_when_the_event_comes_again(store: Store) -> None:
    await ensure_indexes(store.db, RECORDS_INDEXES)
    repo = RecordsRepository(store)
    story = Story("BNNMT", "MT-DTM-BO", 32).submitted(at(11, 2)).received(at(11, 3), at(11, 20))
    story.returned(at(11, 5))
    await record_events(repo, story.events[:2])
    # The last event's entry was inserted, then the process died before moving the head.
    last = story.events[2]
    sequence, head = await repo.chain_head(story.dossier_id)
    payload = last.payload()
    assert isinstance(payload, DossierResultReturned)
    assert await repo.append(_timeline_entry(last, payload, link_after(sequence, head, last.canonical())))
    assert len(await repo.timeline_of(story.code)) == 2

    await record_event(repo, last)  # redelivered

    entries = await repo.timeline_of(story.code)
    assert [e["_id"] for e in entries] == [e.id for e in story.events]
    assert audit([entry_of(e) for e in entries]).valid
    assert await repo.chain_head(story.dossier_id) == (3, entries[-1]["hash"])


async def test_the_applicant_rates_a_returned_result_once_and_it_counts_in_the_statistics_and_performance(
    client: httpx.AsyncClient, broker: KafkaBroker, prefix: str, auth: Any
) -> None:
    done = Story("BNNMT", "MT-DTM-TINH", 41).submitted(at(11, 2)).received(at(11, 2, 7), at(11, 20))
    done.returned(at(11, 4, 17))
    open_one = Story("BNNMT", "MT-DTM-TINH", 42).submitted(at(11, 2)).received(at(11, 3), at(11, 20))
    await publish(broker, prefix, done.events + open_one.events)
    owner = auth("applicant", "citizen-41", None)
    await timeline(client, auth, done.code, 3)
    await timeline(client, auth, open_one.code, 2)
    url = f"/api/v1/records/dossiers/{done.code}/rating"
    assert (await client.get(url, headers=owner)).status_code == 404

    # Bad scores are named; someone else, an officer, or a dossier without its result cannot rate.
    for body in ({"score": 0}, {"score": 6}, {"score": "năm"}, {"score": 4, "extra": 1}):
        refused = await client.post(url, json=body, headers=owner)
        assert refused.status_code == 422, body
        assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.post(url, json={"score": 4}, headers=auth("applicant", "citizen-9", None))).status_code == 404
    assert (await client.post(url, json={"score": 4}, headers=auth("leader", "leader-1"))).status_code == 403
    early = await client.post(
        f"/api/v1/records/dossiers/{open_one.code}/rating",
        json={"score": 5},
        headers=auth("applicant", "citizen-42", None),
    )
    assert early.status_code == 409

    rated = await client.post(url, json={"score": 4, "comment": "Cán bộ hướng dẫn tận tình"}, headers=owner)
    assert rated.status_code == 201, rated.text
    assert rated.json()["score"] == 4
    again = await client.post(url, json={"score": 1}, headers=owner)
    assert again.status_code == 409
    assert (await client.get(url, headers=owner)).json()["score"] == 4

    today = datetime.now(LOCAL).date().isoformat()
    stats = await client.get(
        "/api/v1/records/stats",
        params={"from": today, "to": today, "procedure": "MT-DTM-TINH"},
        headers=auth("leader", "leader-1"),
    )
    assert stats.json()["total"]["ratings"] == 1
    assert stats.json()["total"]["rating_average"] == 4.0
    workbook = await client.get(
        "/api/v1/records/stats.xlsx",
        params={"from": today, "to": today, "procedure": "MT-DTM-TINH"},
        headers=auth("leader", "leader-1"),
    )
    assert workbook.status_code == 200
    assert workbook.content.startswith(b"PK")
    public = await client.get("/api/v1/records/performance", params={"procedure": "MT-DTM-TINH", "months": 36})
    assert public.status_code == 200, public.text
    [row] = public.json()["procedures"]
    assert row["resolved"] >= 1
    assert row["ratings"] == 1
    assert row["rating_average"] == 4.0


async def test_messages_join_the_timeline_with_their_digest_and_change_no_status(
    client: httpx.AsyncClient, broker: KafkaBroker, prefix: str, auth: Any
) -> None:
    story = Story("BNNMT", "MT-DTM-BO", 51).submitted(at(11, 2)).received(at(11, 3), at(11, 20))
    base = {**story.base(), "message_id": "m-1", "side": "agency"}
    digest = hashlib.sha256("Đề nghị gửi bản đồ".encode()).hexdigest()
    story.events.append(
        new_event(
            EventType.DOSSIER_MESSAGE_SENT,
            DossierMessageSent(**base, author_id="specialist-1", text_sha256=digest, sent_at=at(11, 4)),
            service="intake",
            time=at(11, 4),
        )
    )
    story.events.append(
        new_event(
            EventType.DOSSIER_MESSAGE_READ,
            DossierMessageRead(**base, reader_id="citizen-51", read_at=at(11, 5)),
            service="intake",
            time=at(11, 5),
        )
    )
    await publish(broker, prefix, story.events)
    entries = await timeline(client, auth, story.code, 4)
    assert [e["event_type"] for e in entries][-2:] == [
        "vn.gov.hoso.dossier.message_sent.v1",
        "vn.gov.hoso.dossier.message_read.v1",
    ]
    assert entries[-1]["status_code"] is None
    audit = (await client.get(f"/api/v1/records/dossiers/{story.code}/audit", headers=auth("ops", agency=None))).json()
    assert audit["valid"] is True
    found = await client.get(
        "/api/v1/records/dossiers", params={"code": story.code}, headers=auth("leader", "leader-1", "BNNMT")
    )
    assert found.json()["items"][0]["status_code"] == 2
