"""Notify against the real broker, the real database, a real SMTP server and a real HTTP SMS provider."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from hoso_dev.keys import mint_token
from pymongo.asynchronous.database import AsyncDatabase

from hoso.auth import Role
from hoso.events import Envelope, EventType, PublicStatus, from_kafka, new_event
from hoso.events.catalog import (
    Applicant,
    DossierDecisionProposed,
    DossierPersonalDataErased,
    DossierReceived,
    DossierSubmitted,
)
from hoso.kafka import publish_event
from hoso.mongo import Document, ensure_indexes
from hoso.pins import local_seal_key, seal_pin
from hoso.runtime import ProcessRole
from hoso.store import Store
from hoso.topics import DOSSIER_EVENTS, NOTIFICATION_EVENTS
from notify.bootstrap import build_app, read_directory
from notify.channels.email import EmailChannel
from notify.channels.sms import SIGNATURE_HEADER, sign
from notify.domain.catalog import load_catalog
from notify.domain.delivery import ERASURE_DETAIL
from notify.domain.privacy import ERASED
from notify.handlers import Notify
from notify.repository import INDEXES, NotifyRepository
from notify.settings import NotifySettings
from tests.servers import SmsProviderServer, SmtpServer, smtp_server
from tests.support import eventually, read_topic, submitted_event, unique

CALLBACK_SECRET = "callback-secret"
PIN = "40717263"
PHONE = "+84912345678"

DIRECTORY = """
officers:
  - {id: leader-1, name: Phạm Thu Dung, email: leader-1@bnnmt.example.vn, agency: BNNMT, roles: [leader]}
  - {id: leader-2, name: Ngô Bảo Châu, email: leader-2@bnnmt.example.vn, agency: BNNMT, roles: [leader]}
  - {id: leader-hn, name: Hoàng Văn Khôi, email: leader@hanoi.example.vn, agency: UBND.HN, roles: [leader]}
  - {id: specialist-1, name: Lê Văn Cường, email: specialist-1@bnnmt.example.vn, agency: BNNMT, roles: [specialist]}
"""


@pytest.fixture
def prefix() -> str:
    return unique("notify") + "."


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from smtp_server()


@pytest.fixture
def sms_provider() -> Iterator[SmsProviderServer]:
    server = SmsProviderServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def notify(
    kafka_bootstrap: str,
    mongo_url: str,
    state_dir: Path,
    prefix: str,
    smtp: SmtpServer,
    sms_provider: SmsProviderServer,
) -> AsyncIterator[FastAPI]:
    directory = state_dir / "directory.yaml"
    directory.write_text(DIRECTORY, encoding="utf-8")
    settings = NotifySettings(
        mongodb_url=mongo_url,
        mongodb_database=unique("test_notify").replace("-", "_"),
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
        consumer_group=f"{prefix}notify",
        local_mode=True,
        state_dir=state_dir,
        # Only the look at start-up: what a process writes it publishes at once.
        relay_poll_seconds=3600,
        smtp_port=smtp.port,
        smtp_timeout_seconds=2,
        sms_url=sms_provider.url,
        sms_token=sms_provider.token,
        sms_callback_secret=CALLBACK_SECRET,
        retry_base_seconds=0.3,
        retry_max_seconds=1.0,
        # Only the look at start-up: new deliveries and retries must be attempted without a full look.
        sweep_interval_seconds=3600,
        max_attempts=30,
        directory_file=directory,
    )
    app = build_app(ProcessRole.ALL, settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(notify: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=notify), base_url="http://notify") as c:
        yield c


@pytest.fixture
def auth(state_dir: Path) -> Callable[..., dict[str, str]]:
    def headers(role: str, subject: str, agency: str | None = "BNNMT", **claims: Any) -> dict[str, str]:
        roles = [Role(role)]
        token = mint_token(
            state_dir, subject=subject, roles=roles, agency=agency, issuer="hoso-local", audience="hoso", **claims
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


def submitted(email: str = "an@example.vn", phone: str | None = PHONE) -> Envelope:
    event = submitted_event()
    data = DossierSubmitted.model_validate(
        {
            **event.data,
            "applicant": Applicant(id=unique("citizen"), name="Nguyễn Văn An", email=email, phone=phone).model_dump(),
            "procedure_name_vi": "Thẩm định báo cáo đánh giá tác động môi trường",
            "procedure_name_en": "Appraisal of the environmental impact assessment report",
        }
    )
    return new_event(EventType.DOSSIER_SUBMITTED, data, service="intake")


def received(sub: Envelope, state_dir: Path) -> Envelope:
    now = datetime.now(UTC).replace(microsecond=0)
    data = DossierReceived(
        **{k: sub.data[k] for k in ("dossier_id", "dossier_code", "procedure_code", "agency_code")},
        status_code=PublicStatus.RECEIVED,
        actor_id="officer-1",
        receipt_number=f"{sub.subject}/TN",
        received_at=now,
        appointment_at=now + timedelta(days=45),
        due_at=now + timedelta(days=45),
        tracking_pin_sealed=seal_pin(PIN, local_seal_key(state_dir)),
    )
    return new_event(EventType.DOSSIER_RECEIVED, data, service="review")


async def publish(broker: KafkaBroker, prefix: str, *events: Envelope) -> None:
    for event in events:
        await publish_event(broker, prefix + DOSSIER_EVENTS, event)


async def deliveries(client: httpx.AsyncClient, auth: Any, code: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/notify/deliveries?dossier_code={code}", headers=auth("ops", "ops-1", None))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def settled(client: httpx.AsyncClient, auth: Any, code: str, count: int) -> list[dict[str, Any]]:
    """The dossier's deliveries once there are `count` of them, each final or accepted by the SMS provider."""
    found: list[dict[str, Any]] = []

    async def done() -> bool:
        found[:] = await deliveries(client, auth, code)
        return len(found) == count and all(d["final"] or d.get("provider_ref") for d in found)

    await eventually(done, timeout=30, what=f"{count} settled deliveries of {code}")
    return found


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


async def test_one_event_gives_exactly_the_expected_messages_and_three_deliveries_of_it_still_give_one_each(
    notify: FastAPI,
    client: httpx.AsyncClient,
    broker: KafkaBroker,
    prefix: str,
    auth: Any,
    state_dir: Path,
    smtp: SmtpServer,
    sms_provider: SmsProviderServer,
) -> None:
    sub = submitted()
    rec = received(sub, state_dir)
    await publish(broker, prefix, sub, rec, rec, rec)

    # submitted: e-mail + in-app; received: e-mail (with Form 01) + SMS + in-app.
    found = await settled(client, auth, sub.subject, 5)
    assert sorted((d["event_type"], d["channel"]) for d in found) == [
        ("dossier.received", "email"),
        ("dossier.received", "in_app"),
        ("dossier.received", "sms"),
        ("dossier.submitted", "email"),
        ("dossier.submitted", "in_app"),
    ]
    await eventually(lambda: _true(len(smtp.to("an@example.vn")) == 2), what="two e-mails")
    mails = smtp.to("an@example.vn")
    assert len(mails) == 2
    receipt_mail = next(m for m in mails if "Giấy tiếp nhận" in str(m["Subject"]))
    receipt_delivery = next(d for d in found if d["event_type"] == "dossier.received" and d["channel"] == "email")
    assert receipt_mail["Message-ID"] == f"<{receipt_delivery['id']}@hoso.gov.vn>"
    attachments = list(receipt_mail.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"Mau-01-{sub.subject}.pdf"]
    text = pdf_text(attachments[0].get_payload(decode=True))
    assert sub.subject in text
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert "Nguyễn Văn An" in text
    assert PIN in text
    body = receipt_mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Thẩm định báo cáo đánh giá tác động môi trường" in body.get_content()

    texts = [m for m in sms_provider.messages() if m["to"] == PHONE]
    assert len(texts) == 1
    assert PIN in texts[0]["text"]
    assert texts[0]["from"] == "HOSO"

    # The same events delivered again change nothing.
    await publish(broker, prefix, sub, rec)
    await settled(client, auth, sub.subject, 5)
    assert len(smtp.to("an@example.vn")) == 2
    assert len([m for m in sms_provider.messages() if m["to"] == PHONE]) == 1

    # The SMS waits for the provider's receipt; e-mail and in-app are delivered.
    statuses = {d["channel"]: d["status"] for d in found if d["event_type"] == "dossier.received"}
    assert statuses == {"email": "delivered", "sms": "sending", "in_app": "delivered"}


async def _true(value: bool) -> bool:
    return value


async def test_a_signed_provider_receipt_settles_the_sms_and_a_wrong_signature_is_refused(
    notify: FastAPI,
    client: httpx.AsyncClient,
    broker: KafkaBroker,
    prefix: str,
    auth: Any,
    state_dir: Path,
    kafka_bootstrap: str,
) -> None:
    sub = submitted()
    await publish(broker, prefix, sub, received(sub, state_dir))
    found = await settled(client, auth, sub.subject, 5)
    sms = next(d for d in found if d["channel"] == "sms")
    body = json.dumps({"reference": sms["id"], "id": sms["provider_ref"], "status": "delivered"}).encode()

    wrong = await client.post("/api/v1/notify/callbacks/sms", content=body, headers={SIGNATURE_HEADER: "sha256=00"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    unsigned = await client.post("/api/v1/notify/callbacks/sms", content=body)
    assert unsigned.status_code == 401
    other_provider = await client.post(
        "/api/v1/notify/callbacks/other", content=body, headers={SIGNATURE_HEADER: sign(body, CALLBACK_SECRET)}
    )
    assert other_provider.status_code == 404
    bad = b'{"reference": "zz", "status": "lost"}'
    malformed = await client.post(
        "/api/v1/notify/callbacks/sms", content=bad, headers={SIGNATURE_HEADER: sign(bad, CALLBACK_SECRET)}
    )
    assert malformed.status_code == 422
    assert {e["field"] for e in malformed.json()["errors"]} == {"reference", "status"}

    ok = await client.post(
        "/api/v1/notify/callbacks/sms", content=body, headers={SIGNATURE_HEADER: sign(body, CALLBACK_SECRET)}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"delivery_id": sms["id"], "status": "delivered", "final": True}
    after = next(d for d in await deliveries(client, auth, sub.subject) if d["id"] == sms["id"])
    assert [h["status"] for h in after["history"]] == ["created", "sending", "sending", "delivered"]

    # Every delivery of the dossier has now its notification.delivered, once.
    records = await read_topic(kafka_bootstrap, prefix + NOTIFICATION_EVENTS, expect=5)
    outcomes = {json.loads(r.value)["delivery_id"] for r in records if r.key.decode() == sub.partitionkey}
    assert outcomes == {d["id"] for d in found}


async def test_smtp_down_for_a_while_loses_nothing_and_the_statuses_tell_the_story(
    notify: FastAPI, client: httpx.AsyncClient, broker: KafkaBroker, prefix: str, auth: Any, smtp: SmtpServer
) -> None:
    smtp.stop()
    sub = submitted(phone=None)
    await publish(broker, prefix, sub)

    async def failing() -> bool:
        found = await deliveries(client, auth, sub.subject)
        email = [d for d in found if d["channel"] == "email"]
        return bool(email) and email[0]["attempts"] >= 2

    await eventually(failing, timeout=20, what="failed attempts while the relay is down")
    assert smtp.to("an@example.vn") == []
    smtp.start()

    found = await settled(client, auth, sub.subject, 2)
    email = next(d for d in found if d["channel"] == "email")
    assert email["status"] == "delivered"
    story = [h["status"] for h in email["history"]]
    assert story[0] == "created"
    assert story[-1] == "delivered"
    assert "technical-failure" in story
    assert len(smtp.to("an@example.vn")) == 1


async def test_a_permanent_failure_ends_in_permanent_failure_and_a_notification_failed_event(
    notify: FastAPI,
    client: httpx.AsyncClient,
    broker: KafkaBroker,
    prefix: str,
    auth: Any,
    state_dir: Path,
    kafka_bootstrap: str,
) -> None:
    sub = submitted(email="refuse-me@example.vn", phone="+84001234567")
    await publish(broker, prefix, sub, received(sub, state_dir))
    found = await settled(client, auth, sub.subject, 5)
    failed = {(d["event_type"], d["channel"]): d for d in found if d["status"] == "permanent-failure"}
    assert set(failed) == {("dossier.submitted", "email"), ("dossier.received", "email"), ("dossier.received", "sms")}
    assert all(d["final"] and d["attempts"] == 1 for d in failed.values())
    assert "550" in failed[("dossier.received", "email")]["last_detail"]

    records = await read_topic(kafka_bootstrap, prefix + NOTIFICATION_EVENTS, expect=5)
    events = [from_kafka(r.key, r.value, r.headers) for r in records if r.key.decode() == sub.partitionkey]
    failures = {e.data["delivery_id"]: e.data for e in events if e.type is EventType.NOTIFICATION_FAILED}
    assert set(failures) == {d["id"] for d in failed.values()}
    assert {f["failure"] for f in failures.values()} == {"permanent-failure"}


async def test_the_in_app_inbox_belongs_to_its_recipient(
    notify: FastAPI, client: httpx.AsyncClient, broker: KafkaBroker, prefix: str, auth: Any
) -> None:
    sub = submitted()
    await publish(broker, prefix, sub)
    await settled(client, auth, sub.subject, 2)
    applicant = sub.data["applicant"]["id"]
    mine = auth("applicant", applicant, None)

    page = await client.get("/api/v1/notifications", headers=mine)
    assert page.status_code == 200
    items = page.json()["items"]
    assert [i["dossier_code"] for i in items] == [sub.subject]
    assert items[0]["subject"] == f"Đã nộp hồ sơ {sub.subject}"
    assert items[0]["read_at"] is None

    someone_else = await client.post(
        f"/api/v1/notifications/{items[0]['id']}/read", headers=auth("applicant", "citizen-2", None)
    )
    assert someone_else.status_code == 404
    theirs = await client.get("/api/v1/notifications", headers=auth("applicant", "citizen-2", None))
    assert theirs.json()["items"] == []

    read = await client.post(f"/api/v1/notifications/{items[0]['id']}/read", headers=mine)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    unread = await client.get("/api/v1/notifications?unread=true", headers=mine)
    assert unread.json()["total"] == 0
    assert (await client.get("/api/v1/notifications", headers={})).status_code == 401


async def test_preferences_choose_the_language_and_turn_channels_off(
    notify: FastAPI, client: httpx.AsyncClient, broker: KafkaBroker, prefix: str, auth: Any, smtp: SmtpServer
) -> None:
    sub = submitted()
    applicant = sub.data["applicant"]["id"]
    mine = auth("applicant", applicant, None)
    saved = await client.put(
        "/api/v1/notify/preferences", json={"language": "en", "channels": {"sms": False}}, headers=mine
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["channels"] == {"email": True, "sms": False, "in_app": True}
    bad = await client.put("/api/v1/notify/preferences", json={"language": "fr"}, headers=mine)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "language"

    await publish(broker, prefix, sub)
    found = await settled(client, auth, sub.subject, 2)
    assert {d["language"] for d in found} == {"en"}
    await eventually(lambda: _true(len(smtp.to("an@example.vn")) == 1), what="the e-mail")
    assert str(smtp.to("an@example.vn")[0]["Subject"]) == f"Dossier {sub.subject} was submitted online"


async def test_a_proposed_decision_reaches_every_leader_of_the_agency_and_no_other(
    notify: FastAPI, client: httpx.AsyncClient, broker: KafkaBroker, prefix: str, auth: Any, smtp: SmtpServer
) -> None:
    sub = submitted()
    proposal = new_event(
        EventType.DOSSIER_DECISION_PROPOSED,
        DossierDecisionProposed(
            **{k: sub.data[k] for k in ("dossier_id", "dossier_code", "procedure_code", "agency_code")},
            status_code=PublicStatus.PROCESSING,
            actor_id="specialist-1",
            proposal="approve",
            summary="Báo cáo đạt yêu cầu",
        ),
        service="review",
    )
    await publish(broker, prefix, sub, proposal)
    found = await settled(client, auth, sub.subject, 6)
    leaders = sorted((d["recipient_id"], d["channel"]) for d in found if d["event_type"] == "dossier.decision_proposed")
    assert leaders == [("leader-1", "email"), ("leader-1", "in_app"), ("leader-2", "email"), ("leader-2", "in_app")]
    await eventually(lambda: _true(len(smtp.to("leader-2@bnnmt.example.vn")) == 1), what="the leader's e-mail")
    assert smtp.to("leader@hanoi.example.vn") == []

    # An officer of another agency does not see this dossier's deliveries.
    other = await client.get(
        f"/api/v1/notify/deliveries?dossier_code={sub.subject}", headers=auth("leader", "leader-hn", "UBND.HN")
    )
    assert other.json()["items"] == []
    applicant = await client.get(
        f"/api/v1/notify/deliveries?dossier_code={sub.subject}", headers=auth("applicant", "x", None)
    )
    assert applicant.status_code == 403


async def test_templates_are_listed_and_previewed_with_sample_data(client: httpx.AsyncClient, auth: Any) -> None:
    ops = auth("ops", "ops-1", None)
    listed = await client.get("/api/v1/notify/templates", headers=ops)
    assert listed.status_code == 200
    keys = {t["key"] for t in listed.json()["items"]}
    assert "dossier.received/applicant/email" in keys
    url = "/api/v1/notify/templates/dossier.deadline_extended/applicant/email?lang=vi"
    preview = await client.get(url, headers=ops)
    assert preview.status_code == 200, preview.text
    assert "Thư xin lỗi" in preview.json()["subject"]
    assert "BNNMT-261127-0001" in preview.json()["body"]
    missing = await client.get("/api/v1/notify/templates/dossier.archived/applicant/email", headers=ops)
    assert missing.status_code == 404
    assert (await client.get("/api/v1/notify/templates", headers=auth("applicant", "x", None))).status_code == 403


async def test_a_batch_of_events_creates_each_delivery_once_whatever_was_applied_before(
    database: AsyncDatabase[Document], mongo_url: str, state_dir: Path
) -> None:
    directory = state_dir / "directory.yaml"
    directory.write_text(DIRECTORY, encoding="utf-8")
    settings = NotifySettings(mongodb_url=mongo_url, local_mode=True, state_dir=state_dir, directory_file=directory)
    repo = NotifyRepository(Store(database))
    await ensure_indexes(database, INDEXES)
    await repo.load_directory(read_directory(directory))
    catalog = load_catalog(settings.rules_file, settings.templates_dir)
    notify = Notify(repo, catalog, settings, EmailChannel(settings.smtp_relay))
    first, second = submitted(), submitted()
    first_received = received(first, state_dir)

    await notify.on_event(first)  # applied alone before (the one-by-one way)
    created_alone = set(notify.sender._created)
    # A batch holding that event again and another one twice; then the same batch redelivered.
    await notify.on_events([first, first_received, second, first_received])
    created_in_batch = set(notify.sender._created) - created_alone
    await notify.on_events([first, first_received, second, first_received])

    # No SMS channel here: submitted gives e-mail + in-app, received e-mail + in-app.
    found = {d["_id"]: d for d in await repo.deliveries.find({})}
    assert sorted((d["dossier_code"], d["event_type"], d["channel"]) for d in found.values()) == sorted(
        [
            (first.subject, "dossier.submitted", "email"),
            (first.subject, "dossier.submitted", "in_app"),
            (first.subject, "dossier.received", "email"),
            (first.subject, "dossier.received", "in_app"),
            (second.subject, "dossier.submitted", "email"),
            (second.subject, "dossier.submitted", "in_app"),
        ]
    )
    assert set(notify.sender._created) == set(found)
    assert len(created_alone) == 2
    assert len(created_in_batch) == 4
    assert all(d["version"] == 1 and d["status"] == "created" for d in found.values())
    # The dossier as notify remembers it: the fields of both its events.
    dossier = await repo.dossier(first.data["dossier_id"])
    assert dossier is not None
    assert dossier["receipt_number"] == f"{first.subject}/TN"
    assert dossier["applicant"]["email"] == "an@example.vn"
    # The received e-mail names the dossier's procedure, known from the event before it in the batch.
    receipt = next(d for d in found.values() if d["event_type"] == "dossier.received" and d["channel"] == "email")
    assert receipt["facts"]["procedure_name"] == "Thẩm định báo cáo đánh giá tác động môi trường"


async def test_a_worker_finds_the_deliveries_of_a_worker_that_died_at_its_next_full_look(
    database: AsyncDatabase[Document], mongo_url: str, state_dir: Path, smtp: SmtpServer
) -> None:
    directory = state_dir / "directory.yaml"
    directory.write_text(DIRECTORY, encoding="utf-8")
    repo = NotifyRepository(Store(database))
    await ensure_indexes(database, INDEXES)
    await repo.load_directory(read_directory(directory))

    def worker(sweep: float) -> Notify:
        settings = NotifySettings(
            mongodb_url=mongo_url, local_mode=True, state_dir=state_dir, directory_file=directory,
            smtp_port=smtp.port, smtp_timeout_seconds=2, sweep_interval_seconds=sweep,
        )  # fmt: skip
        return Notify(repo, load_catalog(settings.rules_file, settings.templates_dir), settings,
                      EmailChannel(settings.smtp_relay))  # fmt: skip

    survivor, doomed = worker(sweep=0.5), worker(sweep=3600)
    sender = asyncio.create_task(survivor.run_sender())
    try:
        await asyncio.sleep(0.3)  # the survivor's look at start-up is over
        sub = submitted(phone=None)
        await doomed.on_events([sub])  # created; its worker dies before sending them
        assert len(doomed.sender._created) == 2
        assert survivor.sender._created == set()

        async def sent() -> bool:
            docs = await repo.deliveries.find({"dossier_code": sub.subject})
            return len(docs) == 2 and all(d["status"] == "delivered" for d in docs)

        await eventually(sent, timeout=20, what="the dead worker's deliveries sent by the other")
        assert len(smtp.to("an@example.vn")) == 1
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def test_an_erasure_of_the_applicants_data_leaves_it_nowhere_in_notify_and_nothing_more_is_sent_to_it(
    notify: FastAPI,
    client: httpx.AsyncClient,
    broker: KafkaBroker,
    prefix: str,
    auth: Any,
    state_dir: Path,
    smtp: SmtpServer,
    sms_provider: SmsProviderServer,
) -> None:
    smtp.stop()  # the e-mails wait for the relay, to be sent again
    sub = submitted(email="mai.erased@example.vn")
    await publish(broker, prefix, sub, received(sub, state_dir))

    async def waiting() -> bool:
        found = await deliveries(client, auth, sub.subject)
        by = {(d["event_type"], d["channel"]): d for d in found}
        return (
            len(found) == 5
            and all(d["attempts"] >= 1 and not d["final"] for c, d in by.items() if c[1] == "email")
            and bool(by[("dossier.received", "sms")].get("provider_ref"))
            and all(d["status"] == "delivered" for c, d in by.items() if c[1] == "in_app")
        )

    await eventually(waiting, timeout=30, what="e-mails failing, the SMS accepted, the in-app messages delivered")
    secrets = ["mai.erased@example.vn", PHONE, "Nguyễn Văn An"]
    db: AsyncDatabase[Document] = notify.state.runtime.db
    assert await holding(db, secrets)  # notify kept them where it keeps them

    erasure = DossierPersonalDataErased(
        dossier_id=sub.partitionkey, dossier_code=sub.subject, reason="Đề nghị của chủ thể dữ liệu, số 12/ĐN",
        erased=["applicant.email", "applicant.name", "applicant.phone"], actor_id="admin-1",
        erased_at=datetime.now(UTC),
    )  # fmt: skip
    await publish(broker, prefix, new_event(EventType.DOSSIER_PERSONAL_DATA_ERASED, erasure, service="records"))

    async def erased() -> bool:
        # The memory of the dossier forgets the values last, once every copy is erased.
        memory = await db["dossiers"].find_one({"_id": sub.partitionkey})
        return memory is not None and memory.get("personal_data_erased_at") is not None

    await eventually(erased, timeout=30, what="the erasure done")
    found = {(d["event_type"], d["channel"]): d for d in await deliveries(client, auth, sub.subject)}
    for key in [("dossier.submitted", "email"), ("dossier.received", "email")]:
        assert (found[key]["status"], found[key]["final"], found[key]["address"]) == ("permanent-failure", True, ERASED)
        assert found[key]["last_detail"] == ERASURE_DETAIL
    sms = found[("dossier.received", "sms")]
    assert (sms["status"], sms["final"], sms["address"]) == ("sending", False, ERASED)  # its receipt may still come
    assert found[("dossier.received", "in_app")]["address"] == sub.data["applicant"]["id"]
    assert await holding(db, secrets) == []

    smtp.start()
    await asyncio.sleep(2)  # retries would have been due several times (backoff up to 1 s)
    assert smtp.to("mai.erased@example.vn") == []

    # Later events of the dossier, the submission delivered again among them, reach the applicant in the app only.
    await publish(broker, prefix, sub, received(sub, state_dir))

    async def told_in_app() -> bool:
        return len(await deliveries(client, auth, sub.subject)) == 6

    await eventually(told_in_app, timeout=30, what="the in-app message of the later event")
    before = {d["id"] for d in found.values()}
    later = [d for d in await deliveries(client, auth, sub.subject) if d["id"] not in before]
    assert [(d["event_type"], d["channel"]) for d in later] == [("dossier.received", "in_app")]
    assert await holding(db, secrets) == []


async def holding(db: AsyncDatabase[Document], secrets: list[str]) -> list[str]:
    """The collections of notify's database where a document holds one of `secrets`."""
    found = []
    for name in sorted(await db.list_collection_names()):
        async for doc in db[name].find({}):
            if any(secret in json.dumps(doc, default=str, ensure_ascii=False) for secret in secrets):
                found.append(name)
                break
    return found
