"""Intake's applicant actions follow the dossier's status as review reports it; fees are paid once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from hoso_dev.walkthrough import pdf_bytes

from hoso.auth import Role
from hoso.events import EventType, PublicStatus, new_event
from hoso.events.catalog import (
    EVENT_MODELS,
    DossierFeeRequested,
    DossierPersonalDataErased,
    DossierSupplementRequested,
)
from hoso.kafka import publish_event
from hoso.topics import DOSSIER_EVENTS
from intake.domain.payment import sign
from intake.repository import DossierRepository
from tests.integration.test_intake_submission import Token, auth, events_of, permit_body, submit, upload
from tests.support import eventually, read_topic, unique

pytest_plugins = ["tests.integration.test_intake_submission"]


@pytest.fixture
async def dossier(client: httpx.AsyncClient, token: Token) -> dict[str, Any]:
    answer = await submit(client, token(), await permit_body(client, token()), unique("key-lifecycle"))
    assert answer.status_code == 201
    return dict(answer.json())


async def events_after(kafka_bootstrap: str, dossier_id: str, *, count: int) -> list[dict[str, Any]]:
    """The dossier's events once at least `count` are on the topic (and a moment more for stragglers)."""
    found: list[dict[str, Any]] = []

    async def enough() -> bool:
        found[:] = await events_of(kafka_bootstrap, dossier_id)
        return len(found) >= count

    await eventually(enough, what=f"{count} events of {dossier_id}")
    await asyncio.sleep(0.5)
    return await events_of(kafka_bootstrap, dossier_id)


def review_base(dossier: dict[str, Any], status: PublicStatus) -> dict[str, Any]:
    return {
        "dossier_id": dossier["id"],
        "dossier_code": dossier["code"],
        "procedure_code": dossier["procedure_code"],
        "agency_code": dossier["agency_code"],
        "status_code": status,
        "actor_id": "officer-1",
    }


async def status_becomes(client: httpx.AsyncClient, token: Token, code: str, status: int) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def check() -> bool:
        seen.update((await client.get(f"/api/v1/dossiers/{code}", headers=auth(token()))).json())
        return bool(seen["status"]["code"] == status)

    await eventually(check, what=f"status {status}")
    return seen


async def test_withdrawal_before_a_decision_and_a_wrong_state_answer(
    client: httpx.AsyncClient, token: Token, dossier: dict[str, Any], kafka_bootstrap: str
) -> None:
    code = dossier["code"]
    early = await client.post(
        f"/api/v1/dossiers/{code}/supplements",
        json={"components": [{"code": "request_letter", "file_ids": []}]},
        headers=auth(token()),
    )
    assert early.status_code == 409
    assert early.json()["allowed_actions"] == ["withdraw"]

    withdrawn = await client.post(
        f"/api/v1/dossiers/{code}/withdrawal", json={"reason": "Dự án tạm dừng"}, headers=auth(token())
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"]["code"] == 7
    again = await client.post(f"/api/v1/dossiers/{code}/withdrawal", json={"reason": "again"}, headers=auth(token()))
    assert again.status_code == 409
    assert again.json()["allowed_actions"] == []
    types = [e["type"] for e in await events_after(kafka_bootstrap, dossier["id"], count=2)]
    assert types == ["vn.gov.hoso.dossier.submitted.v1", "vn.gov.hoso.dossier.withdrawal_requested.v1"]


def received_fields() -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"receipt_number": "BNNMT-0001", "received_at": now, "appointment_at": now, "due_at": now}


async def review_says(
    broker: KafkaBroker,
    dossier: dict[str, Any],
    event_type: EventType,
    status: PublicStatus,
    version: int,
    **extra: Any,
) -> None:
    """Publish one of review's events for `dossier`, made by review's step `version`."""
    model = EVENT_MODELS[event_type]
    base = {k: v for k, v in review_base(dossier, status).items() if k in model.model_fields}
    data = model(**base, workflow_version=version, **extra)
    await publish_event(broker, DOSSIER_EVENTS, new_event(event_type, data, service="review"))


async def test_a_withdrawal_is_not_undone_by_a_step_review_made_before_it_took_the_request(
    client: httpx.AsyncClient, token: Token, dossier: dict[str, Any], broker: KafkaBroker, kafka_bootstrap: str
) -> None:
    code = dossier["code"]
    withdrawn = await client.post(
        f"/api/v1/dossiers/{code}/withdrawal", json={"reason": "Dự án tạm dừng"}, headers=auth(token())
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # Review requested a supplement (its step 2) before it read the withdrawal: the applicant still sees 7, and a
    # supplement is refused instead of accepted and then dead-lettered by review.
    due = datetime.now(UTC) + timedelta(days=30)
    await review_says(
        broker, dossier, EventType.DOSSIER_SUPPLEMENT_REQUESTED, PublicStatus.SUPPLEMENT_REQUESTED, 2,
        items=["Bản đồ"], supplement_due_at=due,
    )  # fmt: skip
    await events_after(kafka_bootstrap, dossier["id"], count=2)
    records = await read_topic(kafka_bootstrap, DOSSIER_EVENTS, expect=1, timeout=10)
    [request_id] = [
        dict(r.headers)["ce_id"].decode()
        for r in records
        if r.key == dossier["id"].encode() and b"withdrawal_requested" in dict(r.headers)["ce_type"]
    ]
    # Intake has read the supplement request; until review has taken the withdrawal, 7 stands and a supplement is
    # refused.
    seen: dict[str, Any] = {}

    async def read(condition: Callable[[dict[str, Any]], bool]) -> bool:
        seen.update((await client.get(f"/api/v1/dossiers/{code}", headers=auth(token()))).json())
        return condition(seen)

    await eventually(partial(read, lambda d: d["supplement_request"] is not None), what="the supplement request")
    assert (seen["status"]["code"], seen["withdrawal"]["accepted_at"], seen["allowed_actions"]) == (7, None, [])
    early = await client.post(
        f"/api/v1/dossiers/{code}/supplements",
        json={"components": [{"code": "request_letter", "file_ids": []}]},
        headers=auth(token()),
    )
    assert early.status_code == 409
    await review_says(
        broker, dossier, EventType.DOSSIER_WITHDRAWAL_ACCEPTED, PublicStatus.WITHDRAWAL_REQUESTED, 3,
        reason="Dự án tạm dừng", answers_event=request_id,
    )  # fmt: skip
    await eventually(partial(read, lambda d: d["withdrawal"]["accepted_at"] is not None), what="the withdrawal taken")
    assert seen["status"]["code"] == 7
    assert seen["allowed_actions"] == []
    late = await client.post(
        f"/api/v1/dossiers/{code}/supplements",
        json={"components": [{"code": "request_letter", "file_ids": []}]},
        headers=auth(token()),
    )
    assert late.status_code == 409
    # A step older than the one shown changes nothing; review's next one does.
    await review_says(broker, dossier, EventType.DOSSIER_RECEIVED, PublicStatus.RECEIVED, 1, **received_fields())
    await review_says(broker, dossier, EventType.DOSSIER_STOPPED, PublicStatus.STOPPED, 4, reason="Theo yêu cầu")
    seen = await status_becomes(client, token, code, 8)
    assert seen["receipt_number"] is None


async def test_a_withdrawal_that_review_outran_shows_review_s_status(
    client: httpx.AsyncClient, token: Token, dossier: dict[str, Any], broker: KafkaBroker
) -> None:
    code = dossier["code"]
    withdrawn = await client.post(f"/api/v1/dossiers/{code}/withdrawal", json={"reason": "Rút"}, headers=auth(token()))
    assert withdrawn.status_code == 200, withdrawn.text
    # Review refused the dossier at reception before it read the request: that outcome stands.
    await review_says(broker, dossier, EventType.DOSSIER_REFUSED, PublicStatus.NOT_RECEIVED, 2, reason="Sai thủ tục")
    seen = await status_becomes(client, token, code, 3)
    assert seen["decision"]["outcome"] == "refused"


async def test_a_supplement_requested_by_review_is_answered_once(
    client: httpx.AsyncClient, token: Token, dossier: dict[str, Any], broker: KafkaBroker, kafka_bootstrap: str
) -> None:
    due = datetime.now(UTC) + timedelta(days=30)
    request = DossierSupplementRequested(
        **review_base(dossier, PublicStatus.SUPPLEMENT_REQUESTED),
        items=["Bản đồ vị trí dự án"],
        supplement_due_at=due,
        clock_paused=True,
    )
    assert dossier["clock_paused"] is False
    await publish_event(
        broker, DOSSIER_EVENTS, new_event(EventType.DOSSIER_SUPPLEMENT_REQUESTED, request, service="review")
    )
    seen = await status_becomes(client, token, dossier["code"], 5)
    assert seen["supplement_request"]["items"] == ["Bản đồ vị trí dự án"]
    assert seen["allowed_actions"] == ["supplement", "withdraw"]
    assert seen["clock_paused"] is True  # as review's event said

    map_file = await upload(client, token(), pdf_bytes("Bản đồ"))
    body = {"components": [{"code": "proposal_report", "file_ids": [map_file]}], "note": "Bổ sung bản đồ"}
    supplemented = await client.post(
        f"/api/v1/dossiers/{dossier['code']}/supplements", json=body, headers=auth(token())
    )
    assert supplemented.status_code == 200, supplemented.text
    assert supplemented.json()["status"]["code"] == 4
    assert supplemented.json()["supplement_request"] is None
    assert supplemented.json()["clock_paused"] is False  # the supplement sets it running again
    assert [s["purpose"] for s in supplemented.json()["supplements"]] == ["supplement"]
    twice = await client.post(f"/api/v1/dossiers/{dossier['code']}/supplements", json=body, headers=auth(token()))
    assert twice.status_code == 409
    events = await events_after(kafka_bootstrap, dossier["id"], count=3)
    [sent_event] = [e for e in events if e["type"] == "vn.gov.hoso.dossier.supplemented.v1"]
    assert sent_event["purpose"] == "supplement"


async def test_a_supplement_whose_answer_was_lost_after_it_was_recorded_leaves_its_files_readable(
    client: httpx.AsyncClient,
    token: Token,
    dossier: dict[str, Any],
    broker: KafkaBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    due = datetime.now(UTC) + timedelta(days=30)
    await review_says(
        broker, dossier, EventType.DOSSIER_SUPPLEMENT_REQUESTED, PublicStatus.SUPPLEMENT_REQUESTED, 4,
        items=["Bản đồ"], supplement_due_at=due,
    )  # fmt: skip
    await status_becomes(client, token, dossier["code"], 5)
    map_file = await upload(client, token(), pdf_bytes("Bản đồ"))
    body = {"components": [{"code": "proposal_report", "file_ids": [map_file]}], "note": "Bổ sung bản đồ"}
    recorded = DossierRepository.act

    async def dies_after_recording(self: DossierRepository, *args: Any, **kwargs: Any) -> bool:
        await recorded(self, *args, **kwargs)
        raise RuntimeError("the process died after recording the supplement")

    # The supplement is recorded and the process dies before answering; the applicant's retry finds it done.
    with monkeypatch.context() as m:
        m.setattr(DossierRepository, "act", dies_after_recording)
        with pytest.raises(RuntimeError, match="died after recording"):
            await client.post(f"/api/v1/dossiers/{dossier['code']}/supplements", json=body, headers=auth(token()))
    again = await client.post(f"/api/v1/dossiers/{dossier['code']}/supplements", json=body, headers=auth(token()))
    assert again.status_code == 409
    officer = auth(token("o1", Role.RECEPTION_OFFICER, dossier["agency_code"]))
    assert (await client.get(f"/api/v1/files/{map_file}", headers=officer)).status_code == 200


def signed_callback(
    reference: str,
    amount_vnd: int,
    secret: str = "test-payment-secret",
    **extra: str,
) -> dict[str, str]:
    params = {
        "vnp_Amount": str(amount_vnd * 100),
        "vnp_TxnRef": reference,
        "vnp_ResponseCode": "00",
        "vnp_TransactionStatus": "00",
        "vnp_TransactionNo": "14123456",
        "vnp_TmnCode": "HOSO0001",
        **extra,
    }
    return {**params, "vnp_SecureHash": sign(params, secret)}


async def test_a_fee_is_paid_once_and_forged_callbacks_change_nothing(
    client: httpx.AsyncClient,
    token: Token,
    dossier: dict[str, Any],
    broker: KafkaBroker,
    kafka_bootstrap: str,
    intake: FastAPI,
) -> None:
    fee = DossierFeeRequested(**review_base(dossier, PublicStatus.AWAITING_FEE), amount=Decimal(1_500_000))
    await publish_event(broker, DOSSIER_EVENTS, new_event(EventType.DOSSIER_FEE_REQUESTED, fee, service="review"))
    await status_becomes(client, token, dossier["code"], 6)
    link = await client.get(f"/api/v1/dossiers/{dossier['code']}/payment", headers=auth(token()))
    assert link.status_code == 200, link.text
    reference = link.json()["reference"]
    query = dict(parse_qsl(urlsplit(link.json()["payment_url"]).query))
    assert query["vnp_Amount"] == "150000000"
    assert query["vnp_SecureHash"] == sign(query, "test-payment-secret")

    callback = "/api/v1/payments/callbacks/vnpay"
    forged = await client.get(callback, params=signed_callback(reference, 1_500_000, secret="guessed"))
    wrong_amount = await client.get(callback, params=signed_callback(reference, 1_000))
    unknown = await client.get(callback, params=signed_callback("UBND.HN-261127-9999-00000000", 1_500_000))
    assert (forged.status_code, forged.json()["RspCode"]) == (400, "97")
    assert forged.headers["content-type"] == "application/problem+json"
    assert (wrong_amount.status_code, wrong_amount.json()["RspCode"]) == (400, "04")
    assert (unknown.status_code, unknown.json()["RspCode"]) == (404, "01")
    assert (await client.get(f"/api/v1/dossiers/{dossier['code']}", headers=auth(token()))).json()["status"][
        "code"
    ] == 6

    paid = await client.get(callback, params=signed_callback(reference, 1_500_000))
    again = await client.get(callback, params=signed_callback(reference, 1_500_000))
    assert paid.json() == {"RspCode": "00", "Message": "Confirm Success"}
    assert again.json()["RspCode"] == "02"
    after = (await client.get(f"/api/v1/dossiers/{dossier['code']}", headers=auth(token()))).json()
    assert after["status"]["code"] == 4
    assert after["fee"]["paid_at"] is not None
    events = await events_after(kafka_bootstrap, dossier["id"], count=3)
    paid_events = [e for e in events if e["type"].endswith("fee_paid.v1")]
    assert len(paid_events) == 1
    assert paid_events[0]["payment_reference"] == "14123456"


async def test_an_admin_publishes_a_version_and_dossiers_keep_theirs(
    client: httpx.AsyncClient, token: Token, dossier: dict[str, Any]
) -> None:
    admin = auth(token("admin-1", Role.ADMIN, "UBND.HN"))
    current = (await client.get("/api/v1/procedures/MT-GPMT-TINH")).json()["in_force"]
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date()
    new = {**current, "version": "2027", "effective_from": tomorrow.isoformat(), "effective_to": None}
    new["deadline"] = {"amount": 20, "unit": "working_days", "uncertain": False, "note": "A shorter provincial limit"}

    invalid = await client.post(
        "/api/v1/procedures", json={**new, "deadline": {"amount": -1, "unit": "x"}}, headers=admin
    )
    assert invalid.status_code == 422
    assert {"deadline.amount", "deadline.unit"} <= {e["field"] for e in invalid.json()["errors"]}
    backdated = await client.post("/api/v1/procedures", json={**new, "effective_from": "2020-01-01"}, headers=admin)
    assert [e["field"] for e in backdated.json()["errors"]] == ["effective_from"]
    not_admin = await client.post("/api/v1/procedures", json=new, headers=auth(token()))
    assert not_admin.status_code == 403

    published = await client.post("/api/v1/procedures", json=new, headers=admin)
    assert published.status_code == 201, published.text
    again = await client.post("/api/v1/procedures", json=new, headers=admin)
    assert again.status_code == 409

    later = (await client.get(f"/api/v1/procedures/MT-GPMT-TINH?on={tomorrow.isoformat()}")).json()
    assert later["in_force"]["version"] == "2027"
    assert later["in_force"]["deadline"]["amount"] == 20
    history = {v["version"]: v for v in later["versions"]}
    assert history["2025-07"]["effective_to"] == (tomorrow - timedelta(days=1)).isoformat()
    mine = (await client.get(f"/api/v1/dossiers/{dossier['code']}", headers=auth(token()))).json()
    assert mine["procedure_version"] == "2025-07"


async def test_an_erasure_of_personal_data_erases_intake_s_copy_of_it(
    client: httpx.AsyncClient, token: Token, broker: KafkaBroker
) -> None:
    officer = token("tn-hn", Role.RECEPTION_OFFICER, "UBND.HN")
    scanned = await permit_body(client, officer)
    person = {
        "kind": "citizen",
        "name": "Nguyễn Thị Hoa",
        "personal_id": "001190012345",
        "phone": "+84 912 000 111",
        "address": "Số 8 phố Đội Cấn, Hà Nội",
    }
    body = {
        **{k: scanned[k] for k in ("procedure_code", "components", "fields")},
        "channel": "post",
        "applicant": person,
    }
    registered = await client.post(
        "/api/v1/dossiers/registered", json=body, headers={**auth(officer), "Idempotency-Key": unique("key-erase")}
    )
    assert registered.status_code == 201, registered.text
    dossier = registered.json()
    assert dossier["applicant"]["phone"] == "+84 912 000 111"
    erased = DossierPersonalDataErased(
        dossier_id=dossier["id"],
        dossier_code=dossier["code"],
        erased=["applicant.address", "applicant.name", "applicant.phone"],
        reason="Yêu cầu của chủ thể dữ liệu",
        actor_id="admin-hn",
        erased_at=datetime.now(UTC),
    )
    await publish_event(
        broker, DOSSIER_EVENTS, new_event(EventType.DOSSIER_PERSONAL_DATA_ERASED, erased, service="records")
    )
    seen: dict[str, Any] = {}

    async def gone() -> bool:
        seen.update((await client.get(f"/api/v1/dossiers/{dossier['code']}", headers=auth(officer))).json())
        return seen["applicant"]["phone"] is None

    await eventually(gone, what="the applicant's phone erased")
    assert seen["applicant"] == {
        "kind": "citizen", "name": None, "email": None, "phone": None, "address": None, "personal_id": None,
        "tax_code": None,
    }  # fmt: skip
    assert seen["code"] == dossier["code"]
    assert seen["components"] == dossier["components"]  # what was filed stays


async def test_a_revision_asked_after_the_council_is_shown_as_one_and_the_revised_report_arrives_through_intake(
    client: httpx.AsyncClient, token: Token, dossier: dict[str, Any], broker: KafkaBroker, kafka_bootstrap: str
) -> None:
    due = datetime.now(UTC) + timedelta(days=365)
    await review_says(
        broker, dossier, EventType.DOSSIER_SUPPLEMENT_REQUESTED, PublicStatus.SUPPLEMENT_REQUESTED, 6,
        items=["Chương 3: tính lại tải lượng"], supplement_due_at=due, purpose="revision", clock_paused=True,
    )  # fmt: skip
    seen = await status_becomes(client, token, dossier["code"], 5)
    assert seen["supplement_request"]["purpose"] == "revision"
    assert seen["allowed_actions"] == ["supplement", "withdraw"]
    report = await upload(client, token(), pdf_bytes("Báo cáo ĐTM đã chỉnh sửa"))
    body = {"components": [{"code": "proposal_report", "file_ids": [report]}], "note": "Báo cáo đã chỉnh sửa"}
    sent = await client.post(f"/api/v1/dossiers/{dossier['code']}/supplements", json=body, headers=auth(token()))
    assert sent.status_code == 200, sent.text
    [kept] = sent.json()["supplements"]
    assert (kept["purpose"], kept["components"][0]["file_ids"]) == ("revision", [report])
    events = await events_after(kafka_bootstrap, dossier["id"], count=3)
    [revised] = [e for e in events if e["type"] == "vn.gov.hoso.dossier.supplemented.v1"]
    assert revised["purpose"] == "revision"  # named on the timeline as the revised report, not a supplement


async def test_a_council_member_reads_the_dossier_of_their_council_and_its_files_and_nothing_else(
    client: httpx.AsyncClient, token: Token, dossier: dict[str, Any], broker: KafkaBroker
) -> None:
    code, agency = dossier["code"], dossier["agency_code"]
    expert = token("expert-hn", Role.COUNCIL_MEMBER, agency)
    stranger = token("expert-other", Role.COUNCIL_MEMBER, agency)
    file_id = dossier["components"][0]["file_ids"][0]
    before = await client.get(f"/api/v1/dossiers/{code}", headers=auth(expert))
    assert before.status_code == 404  # no council yet
    members = [
        {"name": "PGS.TS. Hoàng Thị Minh", "role": "reviewer", "account_id": "expert-hn"},
        {"name": "Nguyễn Văn Chủ", "role": "chair"},
    ]
    await review_says(
        broker, dossier, EventType.DOSSIER_APPRAISAL_RECORDED, PublicStatus.PROCESSING, 5,
        step="council_established", decision_number="12/QĐ-UBND", members=members,
    )  # fmt: skip
    seen: dict[str, Any] = {}

    async def readable() -> bool:
        answer = await client.get(f"/api/v1/dossiers/{code}", headers=auth(expert))
        seen.update(answer.json() if answer.status_code == 200 else {})
        return answer.status_code == 200

    await eventually(readable, what="the council member reads the dossier")
    # Who filed it, and nothing to reach them by; the files to review.
    assert seen["applicant"]["name"]
    assert (seen["applicant"]["email"], seen["applicant"]["phone"], seen["applicant"]["address"]) == (None, None, None)
    assert seen["allowed_actions"] == []
    assert file_id in {f["id"] for f in seen["files"]}
    assert (await client.get(f"/api/v1/files/{file_id}", headers=auth(expert))).status_code == 200
    # Not the messages between the applicant and the agency; not another council's member.
    assert (await client.get(f"/api/v1/dossiers/{code}/messages", headers=auth(expert))).status_code in (403, 404)
    assert (await client.get(f"/api/v1/dossiers/{code}", headers=auth(stranger))).status_code == 404
    assert (await client.get(f"/api/v1/files/{file_id}", headers=auth(stranger))).status_code == 404
    elsewhere = token("expert-hn", Role.COUNCIL_MEMBER, "UBND.HCM")
    assert (await client.get(f"/api/v1/dossiers/{code}", headers=auth(elsewhere))).status_code == 404
