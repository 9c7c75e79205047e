"""Review against the real broker and database: officer actions over HTTP, intake's events over Kafka."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from hoso_dev.keys import mint_token

from hoso.auth import Role
from hoso.events import Envelope, EventType, PublicStatus, new_event
from hoso.events.catalog import DeadlineTerms, DossierFeePaid, DossierSupplemented, DossierWithdrawalRequested
from hoso.kafka import publish_event
from hoso.pins import unseal_pin
from hoso.runtime import ProcessRole
from hoso.topics import DOSSIER_EVENTS
from review.bootstrap import build_app
from review.settings import ReviewSettings
from tests.support import eventually, read_topic, submitted_event, unique

AGENCY = "BNNMT"
Officer = Callable[[str], dict[str, str]]


@pytest.fixture
def prefix() -> str:
    return unique("review") + "."


def review_settings(
    kafka_bootstrap: str, mongo_url: str, state_dir: Path, prefix: str, database: str
) -> ReviewSettings:
    return ReviewSettings(
        mongodb_url=mongo_url,
        mongodb_database=database,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
        consumer_group=f"{prefix}review",
        local_mode=True,
        state_dir=state_dir,
        relay_poll_seconds=3600,  # only the look at start-up: what a process writes it publishes at once
        scheduler_interval_seconds=0.3,
    )


@pytest.fixture
async def review(kafka_bootstrap: str, mongo_url: str, state_dir: Path, prefix: str) -> AsyncIterator[FastAPI]:
    settings = review_settings(kafka_bootstrap, mongo_url, state_dir, prefix, unique("test_review").replace("-", "_"))
    app = build_app(ProcessRole.ALL, settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(review: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=review), base_url="http://review") as c:
        yield c


@pytest.fixture
def officer(state_dir: Path) -> Callable[..., dict[str, str]]:
    def headers(role: str, subject: str | None = None, agency: str = AGENCY) -> dict[str, str]:
        token = mint_token(
            state_dir,
            subject=subject or f"{role}-1",
            roles=[Role(role)],
            agency=agency,
            issuer="hoso-local",
            audience="hoso",
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


_SEQUENCE = itertools.count(1)


class Dossier:
    """One dossier driven through review: intake's events published, officers acting over HTTP."""

    def __init__(self, client: httpx.AsyncClient, broker: KafkaBroker, prefix: str, officer: Any, **kw: Any) -> None:
        self.client, self.broker, self.prefix, self.officer = client, broker, prefix, officer
        # The generic workflow's paths (Law 55/2014's versions) unless a test names another procedure version.
        self.submitted = submitted_event(sequence=next(_SEQUENCE), **{"procedure_version": "2019", **kw})
        self.id = self.submitted.partitionkey
        self.code = self.submitted.subject

    async def publish(self, event: Envelope) -> None:
        await publish_event(self.broker, self.prefix + DOSSIER_EVENTS, event)

    async def submit(self) -> None:
        await self.publish(self.submitted)
        await self.wait_for("awaiting_reception")

    def intake_event(self, event_type: EventType, **extra: Any) -> Envelope:
        payload = self.submitted.data
        base = {k: payload[k] for k in ("dossier_id", "dossier_code", "procedure_code", "agency_code")}
        model: Any = {
            EventType.DOSSIER_SUPPLEMENTED: DossierSupplemented,
            EventType.DOSSIER_FEE_PAID: DossierFeePaid,
            EventType.DOSSIER_WITHDRAWAL_REQUESTED: DossierWithdrawalRequested,
        }[event_type]
        return new_event(event_type, model(**base, **extra), service="intake")

    async def get(self, role: str = "leader") -> httpx.Response:
        return await self.client.get(f"/api/v1/review/dossiers/{self.code}", headers=self.officer(role))

    async def wait_for(self, state: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        async def reached() -> bool:
            answer = await self.get()
            seen.update(answer.json() if answer.status_code == 200 else {})
            return answer.status_code == 200 and seen.get("state") == state

        await eventually(reached, timeout=30, what=f"{self.code} in state {state}")
        return seen

    async def act(self, role: str, expect: int = 200, subject: str | None = None, **body: Any) -> dict[str, Any]:
        answer = await self.client.post(
            f"/api/v1/review/dossiers/{self.code}/actions", json=body, headers=self.officer(role, subject)
        )
        assert answer.status_code == expect, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def events(self, kafka_bootstrap: str, expect: int) -> list[tuple[str, int, dict[str, Any]]]:
        """(type, status code, data) of this dossier's events on the topic, in order."""
        found: list[tuple[str, int, dict[str, Any]]] = []

        async def enough() -> bool:
            records = await read_topic(kafka_bootstrap, self.prefix + DOSSIER_EVENTS, expect=1, timeout=5)
            # Delivery is at least once (every process relays its outbox): consumers, and this test, dedupe by id.
            seen: set[bytes] = set()
            found.clear()
            for r in records:
                headers = dict(r.headers)
                if r.key != self.id.encode() or headers["ce_id"] in seen:
                    continue
                seen.add(headers["ce_id"])
                kind = headers["ce_type"].decode().removeprefix("vn.gov.hoso.").removesuffix(".v1")
                data = json.loads(r.value)
                found.append((kind, data["status_code"], data))
            return len(found) >= expect

        await eventually(enough, timeout=30, what=f"{expect} events of {self.code}")
        return found


@pytest.fixture
def dossier(client: httpx.AsyncClient, broker: KafkaBroker, prefix: str, officer: Any) -> Callable[..., Dossier]:
    return lambda **kw: Dossier(client, broker, prefix, officer, **kw)


async def test_the_whole_eia_path_publishes_each_step_in_order(
    dossier: Callable[..., Dossier], kafka_bootstrap: str, state_dir: Path
) -> None:
    d = dossier()
    await d.submit()
    received = await d.act("reception_officer", action="receive")
    pin = received["tracking_pin"]
    assert received["dossier"]["status_code"] == 2
    assert received["dossier"]["due_at"] is not None
    await d.act("leader", action="assign", assignee_id="specialist-1")
    await d.act("specialist", action="request_supplement", items=["Bản đồ khu vực dự án"], reason="Thiếu bản đồ")
    await d.events(kafka_bootstrap, expect=4)  # intake answers what it has seen on the topic
    await d.publish(
        d.intake_event(EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="s-1")
    )
    await d.wait_for("in_appraisal")
    await d.act("specialist", action="propose_decision", proposal="approve", reason="Báo cáo đạt yêu cầu")
    await d.act("leader", action="approve", decision_number="123/QĐ-BNNMT")
    final = await d.act("reception_officer", action="return_result")

    assert final["dossier"]["status_code"] == 10
    assert final["dossier"]["terminal"]
    assert final["tracking_pin"] is None
    assert [h["name"] for h in final["dossier"]["history"]] == [
        "dossier.submitted",
        "receive",
        "assign",
        "request_supplement",
        "dossier.supplemented",
        "propose_decision",
        "approve",
        "return_result",
    ]
    events = await d.events(kafka_bootstrap, expect=9)
    assert [(t, s) for t, s, _ in events] == [
        ("dossier.submitted", 1),
        ("dossier.received", 2),
        ("dossier.assigned", 4),
        ("dossier.supplement_requested", 5),
        ("dossier.supplemented", 4),
        ("dossier.processing_resumed", 4),
        ("dossier.decision_proposed", 4),
        ("dossier.approved", 9),
        ("dossier.result_returned", 10),
    ]
    received_event = events[1][2]
    assert (
        unseal_pin(
            received_event["tracking_pin_sealed"], ReviewSettings(local_mode=True, state_dir=state_dir).seal_key or ""
        )
        == pin
    )
    assert pin not in json.dumps([e[2] for e in events])


async def test_refusal_at_reception_and_then_no_more_actions(
    dossier: Callable[..., Dossier], kafka_bootstrap: str
) -> None:
    d = dossier()
    await d.submit()
    refused = await d.act("reception_officer", action="refuse", reason="Hồ sơ không thuộc thẩm quyền")
    assert refused["dossier"]["status_code"] == 3
    late = await d.act("reception_officer", expect=409, action="receive")
    assert late["allowed_actions"] == []
    assert late["status_code"] == 3
    assert late["type"] == "about:blank" or "title" in late
    events = await d.events(kafka_bootstrap, expect=2)
    assert [(t, s) for t, s, _ in events] == [("dossier.submitted", 1), ("dossier.refused", 3)]
    assert events[1][2]["reason"] == "Hồ sơ không thuộc thẩm quyền"


async def test_withdrawal_then_stop(dossier: Callable[..., Dossier], kafka_bootstrap: str) -> None:
    d = dossier()
    await d.submit()
    await d.act("reception_officer", action="receive")
    await d.events(kafka_bootstrap, expect=2)  # intake answers what it has seen on the topic
    await d.publish(
        d.intake_event(
            EventType.DOSSIER_WITHDRAWAL_REQUESTED, status_code=PublicStatus.WITHDRAWAL_REQUESTED, reason="Dừng dự án"
        )
    )
    waiting = await d.wait_for("withdrawal_requested")
    assert waiting["status_code"] == 7
    assert waiting["available_actions"] == ["stop"]
    stopped = await d.act("leader", action="stop", reason="Công dân rút hồ sơ")
    assert stopped["dossier"]["status_code"] == 8
    events = await d.events(kafka_bootstrap, expect=5)
    assert [(t, s) for t, s, _ in events] == [
        ("dossier.submitted", 1),
        ("dossier.received", 2),
        ("dossier.withdrawal_requested", 7),
        ("dossier.withdrawal_accepted", 7),  # review acknowledges the request
        ("dossier.stopped", 8),
    ]


@pytest.mark.parametrize(
    ("procedure", "fee"),
    [
        ({"procedure_code": "MT-GPMT-BO", "procedure_version": "2025"}, 50_000_000),  # a permit (Circular 02/2022)
        ({"procedure_code": "MT-DTM-BO", "procedure_version": "2019"}, 8_000_000),  # an EIA of Law 55/2014
    ],
    ids=["permit", "eia-2019"],
)
async def test_the_fee_is_paid_while_the_review_goes_on_and_no_decision_is_proposed_before(
    dossier: Callable[..., Dossier], kafka_bootstrap: str, procedure: dict[str, str], fee: int
) -> None:
    d = dossier(**procedure)
    await d.submit()
    due = (await d.act("reception_officer", action="receive"))["dossier"]["due_at"]
    await d.act("leader", action="assign", assignee_id="specialist-1")
    asked = await d.act("specialist", action="request_fee", amount_vnd=fee)
    assert asked["dossier"]["status_code"] == 4
    assert not asked["dossier"]["clock_paused"]
    assert asked["dossier"]["due_at"] == due
    proposal = {"action": "propose_decision", "proposal": "approve", "reason": "Đủ điều kiện"}
    early = await d.act("specialist", expect=409, **proposal)
    assert f"{fee} VND is not paid yet" in early["detail"]
    await d.events(kafka_bootstrap, expect=4)
    await d.publish(
        d.intake_event(
            EventType.DOSSIER_FEE_PAID, status_code=PublicStatus.PROCESSING, amount=fee, payment_reference="P-1"
        )
    )

    async def paid() -> bool:
        return (await d.get()).json()["fee_paid_at"] is not None

    await eventually(paid, timeout=30, what=f"{d.code}'s fee recorded as paid")
    seen = (await d.get()).json()
    assert (seen["state"], seen["due_at"], seen["clock_paused"]) == ("in_appraisal", due, False)
    await d.act("specialist", **proposal)
    events = await d.events(kafka_bootstrap, expect=7)
    assert [(t, s) for t, s, _ in events] == [
        ("dossier.submitted", 1),
        ("dossier.received", 2),
        ("dossier.assigned", 4),
        ("dossier.fee_requested", 4),
        ("dossier.fee_paid", 4),
        ("dossier.processing_resumed", 4),
        ("dossier.decision_proposed", 4),
    ]
    assert events[3][2]["amount"] in (str(fee), fee)


async def test_a_leader_extends_the_deadline_with_a_reason(
    dossier: Callable[..., Dossier], kafka_bootstrap: str
) -> None:
    d = dossier()
    await d.submit()
    due = datetime.fromisoformat((await d.act("reception_officer", action="receive"))["dossier"]["due_at"])
    refused = await d.act(
        "specialist", expect=403, action="extend_deadline", reason="x", new_due_at=(due + timedelta(days=9)).isoformat()
    )
    assert "leader" in refused["detail"]
    missing = await d.act(
        "leader", expect=422, action="extend_deadline", new_due_at=(due + timedelta(days=9)).isoformat()
    )
    assert [e["field"] for e in missing["errors"]] == ["reason"]
    new_due = due + timedelta(days=14)
    extended = await d.act(
        "leader", action="extend_deadline", reason="Hội đồng thẩm định họp bổ sung", new_due_at=new_due.isoformat()
    )
    assert datetime.fromisoformat(extended["dossier"]["due_at"]) == new_due
    events = await d.events(kafka_bootstrap, expect=3)
    kind, status, data = events[2]
    assert (kind, status) == ("dossier.deadline_extended", 2)
    assert datetime.fromisoformat(data["previous_due_at"]) == due
    assert datetime.fromisoformat(data["new_due_at"]) == new_due
    assert data["reason"] == "Hội đồng thẩm định họp bổ sung"


async def test_an_impossible_transition_event_goes_to_the_dlq_and_later_dossiers_go_on(
    dossier: Callable[..., Dossier], kafka_bootstrap: str, prefix: str
) -> None:
    d = dossier()
    await d.submit()
    await d.act("reception_officer", action="receive")
    # A supplement nobody asked for: the dossier waits for none.
    await d.publish(
        d.intake_event(EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="x")
    )
    later = dossier()
    await later.submit()  # processed although the bad event came first
    [dead] = await read_topic(kafka_bootstrap, f"{prefix}{DOSSIER_EVENTS}.dlq.review", expect=1)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq_reason"] == "impossible-transition"
    assert "dossier.supplemented cannot apply" in headers["dlq_error"]
    assert "state received" in headers["dlq_error"]
    assert (await d.get()).json()["state"] == "received"


async def test_officers_see_only_their_agency_and_queues_sort_by_due_date(
    dossier: Callable[..., Dossier], client: httpx.AsyncClient, officer: Any
) -> None:
    first, second = dossier(), dossier()
    await first.submit()
    await second.submit()
    foreign = await client.get(f"/api/v1/review/dossiers/{first.code}", headers=officer("leader", agency="UBND.HN"))
    assert foreign.status_code == 404
    assert await first.act("leader", expect=404, action="assign", assignee_id="x") if False else True
    await second.act("reception_officer", action="receive")
    page = await client.get(
        "/api/v1/review/tasks", params={"role": "reception_officer"}, headers=officer("reception_officer")
    )
    assert page.status_code == 200
    codes = [t["code"] for t in page.json()["items"]]
    assert first.code in codes
    assert second.code not in codes
    received = await client.get("/api/v1/review/tasks", params={"status": 2}, headers=officer("leader"))
    assert [t["code"] for t in received.json()["items"]] == [second.code]
    other = await client.get("/api/v1/review/tasks", params={"agency": "UBND.HN"}, headers=officer("leader"))
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    workflows = await client.get("/api/v1/review/workflows/MT-DTM-BO", headers=officer("leader"))
    assert workflows.status_code == 200
    assert workflows.json()["workflows"][0]["id"] == "appraisal"


async def test_two_workers_running_the_schedulers_emit_one_overdue_per_dossier(
    kafka_bootstrap: str, mongo_url: str, state_dir: Path, prefix: str, broker: KafkaBroker, officer: Any
) -> None:
    database = unique("test_review").replace("-", "_")
    settings = review_settings(kafka_bootstrap, mongo_url, state_dir, prefix, database)
    api = build_app(ProcessRole.API, settings)
    workers = [build_app(ProcessRole.WORKER, settings) for _ in range(2)]
    async with (
        api.router.lifespan_context(api),
        workers[0].router.lifespan_context(workers[0]),
        workers[1].router.lifespan_context(workers[1]),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://review") as client,
    ):
        dossiers = [Dossier(client, broker, prefix, officer, deadline=None) for _ in range(3)]
        for d in dossiers:
            await d.submit()
            soon = datetime.now(UTC) + timedelta(seconds=3)
            await d.act("reception_officer", action="receive", new_due_at=soon.isoformat())
        for d in dossiers:
            await d.wait_for("received")
            await d.events(kafka_bootstrap, expect=4)  # submitted, received, due soon, overdue
        await asyncio.sleep(2)  # both schedulers kept running after the deadline
        for d in dossiers:
            kinds = [t for t, _, _ in await d.events(kafka_bootstrap, expect=4)]
            assert kinds.count("dossier.overdue") == 1, kinds
            assert kinds.count("dossier.due_soon") <= 1, kinds


async def test_the_desk_queue_filters_by_procedure_and_text_and_counts_what_waits_on_each_role(
    dossier: Callable[..., Dossier], client: httpx.AsyncClient, officer: Any
) -> None:
    eia = dossier(applicant_name="Công ty Xi măng Sông Đà")
    permit = dossier(procedure_code="MT-GPMT-BO", applicant_name="Hợp tác xã Thành Công")
    third = dossier(applicant_name="Nguyễn Thị Lan")
    for each in (eia, permit, third):
        await each.submit()
    await eia.act("reception_officer", action="receive")
    await third.act("reception_officer", action="receive")
    await third.act("leader", action="assign", assignee_id="cv-7")

    async def codes(**params: Any) -> list[str]:
        answer = await client.get("/api/v1/review/tasks", params=params, headers=officer("leader"))
        assert answer.status_code == 200, answer.text
        return [t["code"] for t in answer.json()["items"]]

    assert await codes(procedure="MT-GPMT-BO") == [permit.code]
    # Part of the name, in another case; part of the code.
    assert await codes(q="xi MĂNG") == [eia.code]
    assert await codes(q=third.code[-6:]) == [third.code]
    assert await codes(q="không có ai") == []
    assert await codes(q="Thành", procedure="MT-DTM-BO") == []
    # A search with characters that mean something to a regular expression finds them as typed, nothing more.
    assert await codes(q=".*") == []

    counts = await client.get("/api/v1/review/tasks/counts", headers=officer("specialist", subject="cv-7"))
    assert counts.status_code == 200, counts.text
    body = counts.json()
    assert body["open"] == 3
    assert body["by_role"] == {"reception_officer": 1, "specialist": 2, "leader": 2}
    assert body["assigned_to_me"] == 1
    assert body["overdue"] == 0
    assert body["paused"] == 0
    task = next(t for t in (await client.get("/api/v1/review/tasks", headers=officer("leader"))).json()["items"])
    assert task["clock"] in ("running", "due_soon", "none")
    assert (await client.get("/api/v1/review/tasks", params={"q": ""}, headers=officer("leader"))).status_code == 422


async def test_the_second_of_two_officers_acting_on_what_they_saw_is_told_it_changed_meanwhile(
    dossier: Callable[..., Dossier], client: httpx.AsyncClient
) -> None:
    one = dossier()
    await one.submit()
    await one.act("reception_officer", action="receive")
    seen = (await one.get()).json()
    assert seen["version"] >= 2
    assert [a["name"] for a in seen["action_forms"]] == ["assign", "extend_deadline"]
    assign = seen["action_forms"][0]
    assert assign["label_vi"] == "Phân công chuyên viên"
    assert assign["fields"][0] == {
        "name": "assignee_id",
        "kind": "officer",
        "required": True,
        "choices": None,
        "min_items": None,
    }

    async def assign_to(who: str) -> httpx.Response:
        body = {"action": "assign", "assignee_id": who, "expected_version": seen["version"]}
        return await client.post(
            f"/api/v1/review/dossiers/{one.code}/actions", json=body, headers=one.officer("leader")
        )

    first, second = await asyncio.gather(assign_to("cv-1"), assign_to("cv-2"))
    answers = sorted([first, second], key=lambda a: a.status_code)
    assert [a.status_code for a in answers] == [200, 409], [a.text for a in answers]
    refused = answers[1].json()
    assert answers[1].headers["content-type"].startswith("application/problem+json")
    assert refused["title"] == "Changed meanwhile"
    now = (await one.get()).json()
    assert refused["version"] == now["version"] == seen["version"] + 1
    assert now["assignee_id"] == answers[0].json()["dossier"]["assignee_id"]


GROUP_II = {
    "procedure_code": "MT-DTM-TINH",
    "procedure_version": "2022",
    "deadline": DeadlineTerms(amount=30, unit="calendar_days"),  # as intake sends it from the catalog
}
COUNCIL = [
    {"name": "Nguyễn Văn Chủ", "role": "chair"},
    {"name": "Lê Thị Phó", "role": "vice_chair"},
    {"name": "Phạm Văn Thư", "role": "secretary"},
    {"name": "GS. Trần Bình", "role": "reviewer", "affiliation": "Đại học Quốc gia Hà Nội", "account_id": "expert-1"},
    {"name": "TS. Hồ Minh", "role": "reviewer"},
    {"name": "Võ Thị Một", "role": "member"},
    {"name": "Đặng Văn Hai", "role": "member"},
]


async def to_council(d: Dossier, kafka_bootstrap: str) -> None:
    """An EIA dossier of group II from filing to its council: completed at reception, received, assigned."""
    await d.submit()
    asked = await d.act("reception_officer", action="request_supplement", items=["Bản vẽ mặt bằng"], reason="Thiếu")
    assert (asked["dossier"]["state"], asked["dossier"]["due_at"]) == ("awaiting_completion", None)
    await d.events(kafka_bootstrap, expect=2)
    await d.publish(d.intake_event(EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.NEW, supplement_id="s-0"))
    await d.wait_for("awaiting_reception")
    received = await d.act("reception_officer", action="receive")
    due = datetime.fromisoformat(received["dossier"]["due_at"])
    assert timedelta(days=29) < due - datetime.now(UTC) < timedelta(days=34)  # 30 days, to the close of a working day
    await d.act("leader", action="assign", assignee_id="specialist-1")


async def test_an_eia_appraisal_runs_through_its_council_revision_and_approval(
    dossier: Callable[..., Dossier], kafka_bootstrap: str
) -> None:
    d = dossier(**GROUP_II)
    await to_council(d, kafka_bootstrap)
    await d.act("specialist", action="request_fee", amount_vnd=6_000_000)
    too_few = await d.act(
        "leader", expect=422, action="establish_council", decision_number="12/QĐ-UBND", members=COUNCIL[:6]
    )
    assert too_few["errors"][0]["field"] == "members"
    council = await d.act("leader", action="establish_council", decision_number="12/QĐ-UBND", members=COUNCIL)
    assert council["dossier"]["council"]["decision_number"] == "12/QĐ-UBND"

    # A council member sees and reviews the dossier of their own council, through their own account, and no other.
    stranger = await d.client.get(f"/api/v1/review/dossiers/{d.code}", headers=d.officer("council_member", "x-9"))
    assert stranger.status_code == 404
    seen = await d.client.get(f"/api/v1/review/dossiers/{d.code}", headers=d.officer("council_member", "expert-1"))
    assert seen.status_code == 200
    assert seen.json()["available_actions"] == ["submit_review"]
    # Their desk lists the dossiers of their councils; another member's lists none of this one.
    mine = await d.client.get("/api/v1/review/councils", headers=d.officer("council_member", "expert-1"))
    assert d.code in [t["code"] for t in mine.json()["items"]]
    theirs = await d.client.get("/api/v1/review/councils", headers=d.officer("council_member", "x-9"))
    assert d.code not in [t["code"] for t in theirs.json()["items"]]
    applicant = await d.client.get("/api/v1/review/councils", headers=d.officer("applicant", "citizen-1"))
    assert applicant.status_code == 403
    await d.act(
        "council_member",
        subject="expert-1",
        action="submit_review",
        conclusion="approve_with_revisions",
        reason="Bổ sung",
    )
    await d.act("specialist", action="record_site_survey", reason="Khảo sát khu vực dự án ngày 10/12")
    consulted = await d.act("specialist", action="record_consultation", reason="Sở Xây dựng: thống nhất")
    assert [c["summary"] for c in consulted["dossier"]["council"]["consultations"]] == ["Sở Xây dựng: thống nhất"]

    # The council meets once the fee is paid; asking for it stopped no clock.
    unpaid = await d.act("specialist", expect=409, action="record_meeting", conclusion="approve", reason="BB")
    assert unpaid["title"] == "Not possible yet"
    assert "not paid yet" in unpaid["detail"]
    await d.events(kafka_bootstrap, expect=11)  # intake answers what it has seen on the topic
    await d.publish(
        d.intake_event(
            EventType.DOSSIER_FEE_PAID,
            status_code=PublicStatus.PROCESSING,
            amount=6_000_000,
            payment_reference="r-1",
        )
    )

    async def paid() -> bool:
        return bool((await d.get()).json().get("fee_paid_at"))

    await eventually(paid, timeout=30, what="the fee recorded")
    await d.act(
        "specialist",
        action="record_meeting",
        conclusion="approve_with_revisions",
        reason="Thông qua, chỉnh sửa chương 3",
    )
    revision = await d.act("specialist", action="request_revision", items=["Chương 3"], reason="Theo kết luận")
    assert revision["dossier"]["state"] == "awaiting_revision"
    assert revision["dossier"]["clock_paused"] is True
    revision_due = datetime.fromisoformat(revision["dossier"]["revision_due_at"])
    assert timedelta(days=364) < revision_due - datetime.now(UTC) < timedelta(days=367)  # twelve months

    await d.events(kafka_bootstrap, expect=15)  # intake answers what it has seen on the topic
    await d.publish(
        d.intake_event(
            EventType.DOSSIER_SUPPLEMENTED, status_code=PublicStatus.PROCESSING, supplement_id="s-1", purpose="revision"
        )
    )
    revised = await d.wait_for("revised")
    approval_due = datetime.fromisoformat(revised["due_at"])
    assert timedelta(days=19) < approval_due - datetime.now(UTC) < timedelta(days=24)  # 20 days from the report
    await d.act("specialist", action="propose_decision", proposal="approve", reason="Đạt sau chỉnh sửa")
    final = await d.act("leader", action="approve", decision_number="45/QĐ-UBND")
    assert final["dossier"]["status_code"] == 9
    events = await d.events(kafka_bootstrap, expect=19)
    steps = [(t, s, e.get("step") or e.get("purpose") or "") for t, s, e in events]
    assert (
        steps
        == [
            ("dossier.submitted", 1, ""),
            ("dossier.supplement_requested", 5, "supplement"),
            ("dossier.supplemented", 1, "supplement"),
            ("dossier.processing_resumed", 1, ""),
            ("dossier.received", 2, ""),
            ("dossier.assigned", 4, ""),
            ("dossier.fee_requested", 4, ""),
            ("dossier.appraisal_recorded", 4, "council_established"),
            ("dossier.appraisal_recorded", 4, "review_submitted"),
            ("dossier.appraisal_recorded", 4, "site_surveyed"),
            ("dossier.appraisal_recorded", 4, "consulted"),
            ("dossier.fee_paid", 4, ""),
            ("dossier.processing_resumed", 4, ""),
            ("dossier.appraisal_recorded", 4, "meeting_held"),
            ("dossier.supplement_requested", 5, "revision"),
            ("dossier.supplemented", 4, "revision"),
            ("dossier.processing_resumed", 4, ""),
            ("dossier.decision_proposed", 4, ""),
            ("dossier.approved", 9, ""),
        ][: len(steps)]
    )
    assert len(steps) == 19


async def test_an_eia_appraisal_is_extended_only_by_the_prime_ministers_decision_which_moves_the_promise(
    dossier: Callable[..., Dossier], kafka_bootstrap: str
) -> None:
    d = dossier(**GROUP_II)
    await to_council(d, kafka_bootstrap)
    seen = (await d.client.get(f"/api/v1/review/dossiers/{d.code}", headers=d.officer("leader"))).json()
    due = datetime.fromisoformat(seen["due_at"])
    [form] = [f for f in seen["action_forms"] if f["name"] == "extend_deadline"]
    assert form["granted_by"]["authority_vi"] == "Thủ tướng Chính phủ"
    assert form["label_vi"] == "Gia hạn thời hạn thẩm định theo quyết định của Thủ tướng Chính phủ"
    new_due = due + timedelta(days=30)
    missing = await d.act("leader", expect=422, action="extend_deadline", reason="x", new_due_at=new_due.isoformat())
    assert [e["field"] for e in missing["errors"]] == ["decision_number"]
    extended = await d.act(
        "leader",
        action="extend_deadline",
        reason="Dự án phức tạp, cần khảo sát bổ sung",
        new_due_at=new_due.isoformat(),
        decision_number="1520/QĐ-TTg",
    )
    assert datetime.fromisoformat(extended["dossier"]["due_at"]) == new_due
    events = await d.events(kafka_bootstrap, expect=7)
    kind, _, data = events[-1]
    assert kind == "dossier.deadline_extended"
    assert (data["granted_by"], data["decision_number"]) == ("Thủ tướng Chính phủ", "1520/QĐ-TTg")
    assert data["article"] == "Law 72/2020/QH14 Art. 34(6)(d)"
    assert datetime.fromisoformat(data["previous_due_at"]) == due
    assert datetime.fromisoformat(data["promised_at"]) == new_due  # the law's extension: on time against it


async def test_a_revision_window_that_passes_stops_the_dossier(
    dossier: Callable[..., Dossier], kafka_bootstrap: str
) -> None:
    d = dossier(**GROUP_II)
    await to_council(d, kafka_bootstrap)
    await d.act("leader", action="establish_council", decision_number="13/QĐ-UBND", members=COUNCIL)
    await d.act("specialist", action="record_meeting", conclusion="approve_with_revisions", reason="Chỉnh sửa")
    soon = datetime.now(UTC) + timedelta(seconds=2)
    await d.act("specialist", action="request_revision", items=["Chương 3"], reason="x", new_due_at=soon.isoformat())
    stopped = await d.wait_for("stopped")
    assert (stopped["status_code"], stopped["terminal"]) == (8, True)
    events = await d.events(kafka_bootstrap, expect=10)
    assert [t for t, _, _ in events[-3:]] == [
        "dossier.appraisal_recorded",
        "dossier.supplement_requested",
        "dossier.stopped",
    ]
    kind, status, data = events[-1]
    assert (kind, status, data["actor_id"]) == ("dossier.stopped", 8, "system")
    assert data["reason"].startswith("Quá thời hạn chỉnh sửa, bổ sung báo cáo")
