"""Intake's submission through its HTTP API, against the real broker and database."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from hoso_dev.keys import mint_token
from hoso_dev.walkthrough import docx_bytes, pdf_bytes
from pymongo.asynchronous.database import AsyncDatabase

from hoso.auth import Role
from hoso.events.schemas import committed_schemas
from hoso.mongo import Document
from hoso.runtime import ProcessRole
from hoso.store import Store
from hoso.topics import DOSSIER_EVENTS
from intake.bootstrap import build_app
from intake.domain.codes import DossierCodes, SequenceExhausted, format_dossier_code
from intake.files import FileStore
from intake.repository import DossierRepository
from intake.settings import IntakeSettings
from tests.support import read_topic, unique

Client = httpx.AsyncClient
Token = Callable[..., str]
PERMIT = "MT-GPMT-TINH"  # provincial environmental permit: request letter (PDF) + proposal report (PDF/DOCX)


@pytest.fixture
async def intake(kafka_bootstrap: str, mongo_url: str, state_dir: Path) -> AsyncIterator[FastAPI]:
    settings = IntakeSettings(
        mongodb_url=mongo_url,
        mongodb_database=unique("test_intake").replace("-", "_"),
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group=unique("intake"),
        local_mode=True,
        state_dir=state_dir,
        relay_poll_seconds=3600,  # only the look at start-up: what a process writes it publishes at once
        max_upload_bytes=64 * 1024,
        payment_secret="test-payment-secret",
    )
    app = build_app(ProcessRole.ALL, settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def token(state_dir: Path) -> Token:
    def make(sub: str = "citizen-1", role: Role = Role.APPLICANT, agency: str | None = None) -> str:
        return mint_token(state_dir, subject=sub, roles=[role], agency=agency, issuer="hoso-local", audience="hoso")

    return make


@pytest.fixture
async def client(intake: FastAPI) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=intake), base_url="http://intake") as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def upload(client: Client, token: str, data: bytes, name: str = "tai-lieu.pdf") -> str:
    answer = await client.post(
        "/api/v1/files", files={"file": (name, data, "application/octet-stream")}, headers=auth(token)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def permit_body(client: Client, token: str, **fields: Any) -> dict[str, Any]:
    letter = await upload(client, token, pdf_bytes("Văn bản đề nghị"))
    report = await upload(client, token, docx_bytes(), "bao-cao.docx")
    return {
        "procedure_code": PERMIT,
        "applicant_kind": "organisation",
        "components": [
            {"code": "request_letter", "file_ids": [letter]},
            {"code": "proposal_report", "file_ids": [report]},
        ],
        "fields": {"province": "HN", "facility_name": "Nhà máy nước Sông Đà", **fields},
    }


async def submit(client: Client, token: str, body: dict[str, Any], key: str) -> httpx.Response:
    return await client.post("/api/v1/dossiers", json=body, headers={**auth(token), "Idempotency-Key": key})


async def events_of(kafka_bootstrap: str, dossier_id: str) -> list[dict[str, Any]]:
    records = await read_topic(kafka_bootstrap, DOSSIER_EVENTS, expect=1, timeout=10)
    return [
        {"type": dict(r.headers)["ce_type"].decode(), **json.loads(r.value)}
        for r in records
        if r.key == dossier_id.encode()
    ]


async def test_a_retried_submission_creates_one_dossier_and_one_complete_event(
    client: Client, token: Token, kafka_bootstrap: str
) -> None:
    body = await permit_body(client, token())
    key = unique("key-retry")  # dossier ids derive from the key, and the topic outlives a test run
    first = await submit(client, token(), body, key)
    again = await submit(client, token(), body, key)

    assert first.status_code == 201, first.text
    assert again.status_code == 200
    assert again.json() == first.json()
    dossier = first.json()
    assert dossier["agency_code"] == "UBND.HN"
    assert dossier["procedure_version"] == "2025-07"
    assert dossier["code"].startswith("UBND.HN-")
    assert dossier["code"].endswith("-0001")
    assert dossier["allowed_actions"] == ["withdraw"]
    await asyncio.sleep(1.0)  # the relay publishes within its poll interval
    [event] = await events_of(kafka_bootstrap, dossier["id"])
    assert event.pop("type") == "vn.gov.hoso.dossier.submitted.v1"
    jsonschema.validate(event, committed_schemas()["dossier.submitted.v1.json"])
    assert event["dossier_code"] == dossier["code"]
    assert event["status_code"] == 1
    assert event["applicant"]["id"] == "citizen-1"
    assert event["deadline"] == {"amount": 30, "unit": "calendar_days"}
    assert event["supplement_policy"] == "pause"
    files = [f for c in event["components"] for f in c["files"]]
    assert {f["content_type"] for f in files} == {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    assert all(len(f["sha256"]) == 64 for f in files)


async def test_a_submission_retried_after_its_files_were_not_attached_attaches_them(
    client: Client, token: Token, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = await permit_body(client, token("owner-retry"))
    file_ids = [f for c in body["components"] for f in c["file_ids"]]

    async def dies(self: FileStore, file_ids: list[str], *, dossier_id: str, agency_code: str) -> None:
        raise RuntimeError("the process died before attaching the files")

    # The dossier is inserted, then the request ends before its files are attached (a crash, a database down).
    with monkeypatch.context() as m:
        m.setattr(FileStore, "attach", dies)
        with pytest.raises(RuntimeError, match="died before attaching"):
            await submit(client, token("owner-retry"), body, "key-retry-files")
    officer = auth(token("o1", Role.RECEPTION_OFFICER, "UBND.HN"))
    again = await submit(client, token("owner-retry"), body, "key-retry-files")
    assert again.status_code == 200, again.text
    for file_id in file_ids:
        assert (await client.get(f"/api/v1/files/{file_id}", headers=officer)).status_code == 200, file_id


async def test_the_same_key_with_another_body_is_a_conflict(client: Client, token: Token) -> None:
    body = await permit_body(client, token())
    assert (await submit(client, token(), body, "key-conflict-01")).status_code == 201
    other = {**body, "fields": {**body["fields"], "facility_name": "Khác"}}
    answer = await submit(client, token(), other, "key-conflict-01")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in answer.json()["detail"]


@pytest.mark.timeout(900)
async def test_200_concurrent_submissions_get_consecutive_codes_without_gaps(client: Client, token: Token) -> None:
    bodies = [await permit_body(client, token(f"citizen-{i}")) for i in range(200)]
    answers = await asyncio.gather(
        *(submit(client, token(f"citizen-{i}"), body, f"key-concurrent-{i:04d}") for i, body in enumerate(bodies))
    )
    assert {a.status_code for a in answers} == {201}
    codes = [a.json()["code"] for a in answers]
    assert len(set(codes)) == 200
    assert sorted(int(c.rsplit("-", 1)[1]) for c in codes) == list(range(1, 201))


async def test_an_applicant_sees_only_own_dossiers_and_files(client: Client, token: Token) -> None:
    body = await permit_body(client, token("owner"))
    code = (await submit(client, token("owner"), body, "key-owner-0001")).json()["code"]
    file_id = body["components"][0]["file_ids"][0]

    assert (await client.get(f"/api/v1/dossiers/{code}", headers=auth(token("owner")))).status_code == 200
    assert (await client.get(f"/api/v1/dossiers/{code}", headers=auth(token("other")))).status_code == 404
    # Codes of the right shape that name no dossier (one with a day that does not exist) are not found either.
    agency, day, number = code.rsplit("-", 2)
    for unknown in (f"{agency}-{day}-{int(number) + 1:04d}", f"{agency}-261399-0001", f"{agency}-260231-{number}"):
        answer = await client.get(f"/api/v1/dossiers/{unknown}", headers=auth(token("owner")))
        assert answer.status_code == 404, unknown
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/dossiers", headers=auth(token("other")))).json()["items"] == []
    mine = await client.get(f"/api/v1/files/{file_id}", headers=auth(token("owner")))
    assert mine.status_code == 200
    assert mine.content.startswith(b"%PDF")
    assert (await client.get(f"/api/v1/files/{file_id}", headers=auth(token("other")))).status_code == 404
    officer = auth(token("o1", Role.RECEPTION_OFFICER, "UBND.HN"))
    elsewhere = auth(token("o2", Role.RECEPTION_OFFICER, "UBND.HCM"))
    assert (await client.get(f"/api/v1/files/{file_id}", headers=officer)).status_code == 200
    assert (await client.get(f"/api/v1/files/{file_id}", headers=elsewhere)).status_code == 404


async def test_officers_of_the_dossiers_agency_read_it_whole_and_no_one_else_does(
    client: Client, state_dir: Path
) -> None:
    def as_(sub: str, role: Role, agency: str | None = None, **claims: Any) -> dict[str, str]:
        minted = mint_token(
            state_dir, subject=sub, roles=[role], agency=agency, issuer="hoso-local", audience="hoso", **claims
        )
        return auth(minted)

    owner = as_(
        "owner-2", Role.APPLICANT, name="Công ty Nước Sông Đà", email="nuoc@example.vn", phone="+84 24 1",
        address="Số 1 đường Sông Đà, Hà Nội",
    )  # fmt: skip
    body = await permit_body(client, owner["Authorization"].removeprefix("Bearer "))
    code = (await submit(client, owner["Authorization"].removeprefix("Bearer "), body, "key-officer-01")).json()["code"]

    seen = await client.get(f"/api/v1/dossiers/{code}", headers=as_("cv-1", Role.SPECIALIST, "UBND.HN"))
    assert seen.status_code == 200, seen.text
    dossier = seen.json()
    assert dossier["applicant"] == {
        "kind": "organisation",
        "name": "Công ty Nước Sông Đà",
        "email": "nuoc@example.vn",
        "phone": "+84 24 1",
        "address": "Số 1 đường Sông Đà, Hà Nội",
        "personal_id": None,
        "tax_code": None,
    }
    assert {"name": "facility_name", "value": "Nhà máy nước Sông Đà"} in dossier["fields"]
    assert [c["code"] for c in dossier["components"]] == ["request_letter", "proposal_report"]
    assert {f["name"] for f in dossier["files"]} == {"tai-lieu.pdf", "bao-cao.docx"}
    # The applicant's actions are theirs, and the receipt's PIN is theirs alone.
    assert dossier["allowed_actions"] == []
    assert dossier["tracking_pin"] is None
    assert (await client.get(f"/api/v1/dossiers/{code}", headers=owner)).json()["allowed_actions"] == ["withdraw"]
    for stranger in (
        as_("cv-9", Role.SPECIALIST, "UBND.HCM"),
        as_("other-applicant", Role.APPLICANT),
    ):
        answer = await client.get(f"/api/v1/dossiers/{code}", headers=stranger)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/api/v1/dossiers/{code}", headers=as_("ops-1", Role.OPS))).status_code == 403


async def test_uploads_are_typed_by_content_and_size_limited(client: Client, token: Token) -> None:
    disguised = await client.post(
        "/api/v1/files",
        files={"file": ("scan.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf")},
        headers=auth(token()),
    )
    oversize = await client.post(
        "/api/v1/files",
        files={"file": ("big.pdf", pdf_bytes() + b"0" * 70_000, "application/pdf")},
        headers=auth(token()),
    )
    path_like = await client.post(
        "/api/v1/files", files={"file": ("../../etc/passwd.pdf", pdf_bytes(), "text/plain")}, headers=auth(token())
    )
    assert disguised.status_code == 415
    assert disguised.json()["errors"][0]["field"] == "file"
    assert oversize.status_code == 413
    assert path_like.status_code == 201
    assert path_like.json()["name"] == "passwd.pdf"
    assert path_like.json()["content_type"] == "application/pdf"


async def test_every_bad_component_and_field_is_named_in_one_answer_and_nothing_is_created(
    client: Client, token: Token, intake: FastAPI
) -> None:
    letter_as_docx = await upload(client, token(), docx_bytes(), "letter.docx")
    someone_elses = await upload(client, token("other"), pdf_bytes())
    body = {
        "procedure_code": PERMIT,
        "components": [
            {"code": "request_letter", "file_ids": [letter_as_docx]},
            {"code": "proposal_report", "file_ids": [someone_elses]},
            {"code": "photos", "file_ids": []},
        ],
        "fields": {"province": "XX"},
    }
    answer = await submit(client, token(), body, "key-invalid-0001")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    named = {e["field"] for e in answer.json()["errors"]}
    assert named == {
        f"components.request_letter.{letter_as_docx}",
        f"components.proposal_report.{someone_elses}",
        "components.photos",
        "fields.province",
        "fields.facility_name",
    }
    assert await intake.state.runtime.db["dossiers"].count_documents({}) == 0
    assert await intake.state.runtime.db["dossiers"].database["dossier_counters"].count_documents({}) == 0


async def provincial_eia_body(client: Client, token: str, **fields: Any) -> dict[str, Any]:
    letter = await upload(client, token, pdf_bytes("Văn bản đề nghị thẩm định"))
    report = await upload(client, token, docx_bytes(), "bao-cao-dtm.docx")
    study = await upload(client, token, docx_bytes(), "nghien-cuu-kha-thi.docx")
    return {
        "procedure_code": "MT-DTM-TINH",
        "applicant_kind": "organisation",
        "components": [
            {"code": "request_letter", "file_ids": [letter]},
            {"code": "eia_report", "file_ids": [report]},
            {"code": "feasibility_study", "file_ids": [study]},
        ],
        "fields": {"province": "DN", "project_name": "Khu đô thị ven sông Hàn", **fields},
    }


async def test_a_provincial_eia_appraisal_gets_the_time_limit_of_its_project_group(
    client: Client, token: Token, kafka_bootstrap: str
) -> None:
    """Law 72/2020 Art. 34: the limit belongs to the project group, whoever appraises (Decree 05/2025 Art. 26a)."""
    limits = {}
    for group in ("I", "II"):
        body = await provincial_eia_body(client, token(), project_group=group)
        answer = await submit(client, token(), body, unique(f"key-group-{group}"))
        assert answer.status_code == 201, answer.text
        assert answer.json()["agency_code"] == "UBND.DN"
        assert answer.json()["procedure_version"] == "2025-07"
        await asyncio.sleep(1.0)
        [event] = await events_of(kafka_bootstrap, answer.json()["id"])
        limits[group] = event["deadline"]
    assert limits == {
        "I": {"amount": 45, "unit": "calendar_days"},
        "II": {"amount": 30, "unit": "calendar_days"},
    }


async def test_a_provincial_eia_appraisal_without_its_project_group_or_with_another_is_refused_by_name(
    client: Client, token: Token
) -> None:
    for fields, key in (({}, "none"), ({"project_group": "III"}, "other")):
        body = await provincial_eia_body(client, token(), **fields)
        answer = await submit(client, token(), body, unique(f"key-group-{key}"))
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["fields.project_group"]


async def test_a_missing_required_component_is_named(client: Client, token: Token) -> None:
    body = await permit_body(client, token())
    body["components"] = body["components"][:1]
    answer = await submit(client, token(), body, "key-missing-001")
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["components.proposal_report"]


@pytest.mark.parametrize(
    ("procedure", "message"),
    [("MT-NOPE", "no procedure 'MT-NOPE'"), ("MT-DMC", "no version in force")],
)
async def test_unknown_and_expired_procedures_are_refused(
    client: Client, token: Token, procedure: str, message: str
) -> None:
    body = {**(await permit_body(client, token())), "procedure_code": procedure}
    answer = await submit(client, token(), body, f"key-proc-{procedure}")
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "procedure_code"
    assert message in error["message"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"procedure_code": ""}, "procedure_code"),
        ({"fields": {"$where": {"$gt": ""}}}, "fields.$where"),
        ({"extra_field": 1}, "extra_field"),
        ({"components": [{"code": "request_letter", "file_ids": [{"$ne": None}]}]}, "components.0.file_ids.0"),
    ],
)
async def test_malformed_bodies_and_operator_injection_are_refused_by_name(
    client: Client, token: Token, intake: FastAPI, patch: dict[str, Any], field: str
) -> None:
    body = {"procedure_code": PERMIT, "fields": {"province": "HN"}, **patch}
    answer = await submit(client, token(), body, "key-malformed-1")
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert await intake.state.runtime.db["dossiers"].count_documents({}) == 0


async def test_without_a_valid_token_nothing_is_accepted(client: Client, token: Token) -> None:
    no_token = await client.post("/api/v1/dossiers", json={}, headers={"Idempotency-Key": "key-auth-0001"})
    officer = await submit(client, token(role=Role.SPECIALIST, agency="UBND.HN"), {}, "key-auth-0002")
    no_key = await client.post("/api/v1/dossiers", json={"procedure_code": PERMIT}, headers=auth(token()))
    assert no_token.status_code == 401
    assert no_token.headers["content-type"] == "application/problem+json"
    assert officer.status_code == 403
    assert no_key.status_code == 422
    assert "Idempotency-Key" in [e["field"] for e in no_key.json()["errors"]]


async def test_an_agency_with_its_electronic_identifier_configured_numbers_its_codes_under_it(
    client: Client, token: Token, kafka_bootstrap: str
) -> None:
    # agencies.yaml ships Quảng Ninh's People's Committee as 000.00.00.H49 (Circular 10/2016/TT-BTTTT's format).
    answer = await submit(client, token(), await permit_body(client, token(), province="QNI"), unique("key-qni"))
    assert answer.status_code == 201, answer.text
    dossier = answer.json()
    assert dossier["agency_code"] == "UBND.QNI"  # routing, roles and statistics keep the agency's own code
    day = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    assert re.fullmatch(rf"000\.00\.00\.H49-{day:%y%m%d}-\d{{4}}", dossier["code"]), dossier["code"]
    again = await client.get(f"/api/v1/dossiers/{dossier['code']}", headers=auth(token()))
    assert again.status_code == 200, again.text
    assert again.json()["id"] == dossier["id"]
    await asyncio.sleep(1.0)
    [event] = await events_of(kafka_bootstrap, dossier["id"])
    assert event["dossier_code"] == dossier["code"]


async def test_an_identifier_configured_during_the_day_goes_on_from_the_days_last_number(
    database: AsyncDatabase[Document],
) -> None:
    day = date(2026, 11, 26)
    before = DossierRepository(Store(database))
    first = await before.reserve_sequence("BNNMT", day, "dossier-before")
    await database["dossiers"].insert_one({"_id": "dossier-before", "code": before.codes.format("BNNMT", day, first)})
    after = DossierRepository(Store(database), DossierCodes({"BNNMT": "000.00.01.G99"}))
    second = await after.reserve_sequence("BNNMT", day, "dossier-after")
    code = after.codes.format("BNNMT", day, second)
    await database["dossiers"].insert_one({"_id": "dossier-after", "code": code})

    assert second == first + 1
    assert code == f"000.00.01.G99-{day:%y%m%d}-{second:04d}"
    assert (await after.by_code(code) or {}).get("_id") == "dossier-after"
    assert (await after.by_code(f"BNNMT-{day:%y%m%d}-{first:04d}") or {}).get("_id") == "dossier-before"
    assert await after.by_code(f"000.00.01.G99-{day:%y%m%d}-{first:04d}") is None


async def test_a_number_given_back_and_taken_again_still_finds_its_dossier_by_code(
    database: AsyncDatabase[Document],
) -> None:
    repo = DossierRepository(Store(database))
    day = date(2026, 11, 27)
    first = await repo.reserve_sequence("BNNMT", day, "dossier-that-failed")
    await repo.release_sequence("BNNMT", day, first)
    again = await repo.reserve_sequence("BNNMT", day, "dossier-that-was-created")
    assert again == first
    code = format_dossier_code("BNNMT", day, again)
    await database["dossiers"].insert_one({"_id": "dossier-that-was-created", "code": code})
    following = await repo.reserve_sequence("BNNMT", day, "next-dossier")
    await database["dossiers"].insert_one({"_id": "next-dossier", "code": format_dossier_code("BNNMT", day, following)})

    found = await repo.by_code(code)
    assert found is not None
    assert found["_id"] == "dossier-that-was-created"
    assert following == first + 1
    assert (await repo.by_code(format_dossier_code("BNNMT", day, following)) or {}).get("_id") == "next-dossier"


async def test_a_crash_between_claiming_a_number_and_storing_the_dossier_leaves_that_number_unused(
    database: AsyncDatabase[Document],
) -> None:
    # The guarantee is uniqueness and order, not the absence of gaps.
    repo = DossierRepository(Store(database))
    day = date(2026, 11, 28)
    lost = await repo.reserve_sequence("BNNMT", day, "dossier-of-a-process-that-died")
    after = await DossierRepository(Store(database)).reserve_sequence("BNNMT", day, "next-dossier")  # another process
    assert after == lost + 1
    assert await repo.by_code(format_dossier_code("BNNMT", day, lost)) is None


async def test_the_numbers_of_a_day_end_at_9999_and_a_full_day_is_a_clear_503(
    database: AsyncDatabase[Document], client: Client, token: Token, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = DossierRepository(Store(database))
    day = date(2026, 11, 29)
    await database["dossier_counters"].insert_one({"_id": f"BNNMT|{day.isoformat()}", "sequence": 9998})
    assert await repo.reserve_sequence("BNNMT", day, "the-last-one") == 9999
    with pytest.raises(SequenceExhausted):
        await repo.reserve_sequence("BNNMT", day, "one-too-many")
    assert await repo.by_code(f"BNNMT-{day:%y%m%d}-10000") is None

    # Through the API: a problem+json saying so, a Retry-After up to the next local day, and nothing created.
    async def full(self: DossierRepository, agency_code: str, day: date, dossier_id: str) -> int:
        raise SequenceExhausted(f"{agency_code} has used all 9999 numbers of {day}")

    body = await permit_body(client, token("citizen-full"))
    monkeypatch.setattr(DossierRepository, "reserve_sequence", full)
    answer = await submit(client, token("citizen-full"), body, "key-full-day")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Dossier numbers used up"
    assert "9999" in answer.json()["detail"]
    assert 0 < int(answer.headers["Retry-After"]) <= 24 * 3600
    monkeypatch.undo()
    assert (await client.get("/api/v1/dossiers", headers=auth(token("citizen-full")))).json()["items"] == []


async def register(client: Client, token: str, body: dict[str, Any], key: str) -> httpx.Response:
    return await client.post("/api/v1/dossiers/registered", json=body, headers={**auth(token), "Idempotency-Key": key})


async def test_a_reception_officer_registers_a_paper_dossier_with_the_files_they_scanned(
    client: Client, token: Token, kafka_bootstrap: str
) -> None:
    officer = token("tn-hn", Role.RECEPTION_OFFICER, "UBND.HN")
    scanned = await permit_body(client, officer)
    body = {
        "procedure_code": scanned["procedure_code"],
        "channel": "post",
        "applicant": {
            "kind": "citizen",
            "name": "Nguyễn Thị Hoa",
            "personal_id": "001190012345",
            "phone": "+84 912 000 111",
            "address": "Số 8 ngõ 15 phố Đội Cấn, phường Ba Đình, Hà Nội",
        },
        "components": scanned["components"],
        "fields": scanned["fields"],
    }
    key = unique("key-desk")
    first = await register(client, officer, body, key)
    assert first.status_code == 201, first.text
    dossier = first.json()
    assert dossier["channel"] == "post"
    assert dossier["agency_code"] == "UBND.HN"
    assert dossier["applicant"]["personal_id"] == "001190012345"
    assert dossier["applicant"]["name"] == "Nguyễn Thị Hoa"
    assert dossier["applicant"]["address"] == "Số 8 ngõ 15 phố Đội Cấn, phường Ba Đình, Hà Nội"
    assert dossier["allowed_actions"] == []
    again = await register(client, officer, body, key)
    assert again.status_code == 200
    assert again.json()["code"] == dossier["code"]
    await asyncio.sleep(1.0)
    [event] = await events_of(kafka_bootstrap, dossier["id"])
    jsonschema.validate(
        {k: v for k, v in event.items() if k != "type"}, committed_schemas()["dossier.submitted.v1.json"]
    )
    assert event["channel"] == "post"
    assert event["registered_by"] == "tn-hn"
    assert event["applicant"]["name"] == "Nguyễn Thị Hoa"
    assert event["applicant"]["address"] == "Số 8 ngõ 15 phố Đội Cấn, phường Ba Đình, Hà Nội"
    # The officer's agency reads it like any other; its files download for the agency's officers.
    specialist = auth(token("cv-hn", Role.SPECIALIST, "UBND.HN"))
    seen = await client.get(f"/api/v1/dossiers/{dossier['code']}", headers=specialist)
    assert seen.json()["channel"] == "post"
    file_id = scanned["components"][0]["file_ids"][0]
    assert (await client.get(f"/api/v1/files/{file_id}", headers=specialist)).status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        (lambda b: b["applicant"].pop("personal_id"), "applicant", 422),
        (lambda b: b["applicant"].update(kind="organisation", tax_code="12345"), "applicant.tax_code", 422),
        (lambda b: b["applicant"].update(personal_id="00119001234X"), "applicant.personal_id", 422),
        (lambda b: b.update(channel="online"), "channel", 422),
        (lambda b: b["applicant"].update(address="Xóm"), "applicant.address", 422),
        (lambda b: b["fields"].update(province="HCM"), "fields.province", 422),
    ],
)
async def test_a_registration_with_bad_applicant_details_or_another_agencys_dossier_is_refused_by_name(
    client: Client, token: Token, change: Any, field: str, status: int
) -> None:
    officer = token("tn-hn", Role.RECEPTION_OFFICER, "UBND.HN")
    scanned = await permit_body(client, officer)
    body = {
        "procedure_code": scanned["procedure_code"],
        "channel": "in_person",
        "applicant": {"kind": "citizen", "name": "Trần Văn Nam", "personal_id": "001190054321"},
        "components": scanned["components"],
        "fields": scanned["fields"],
    }
    change(body)
    answer = await register(client, officer, body, unique("key-desk-bad"))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]], answer.json()


async def test_only_reception_officers_register_and_only_with_their_own_scans(client: Client, token: Token) -> None:
    officer = token("tn-hn", Role.RECEPTION_OFFICER, "UBND.HN")
    scanned = await permit_body(client, token("tn-other", Role.RECEPTION_OFFICER, "UBND.HN"))
    body = {
        "procedure_code": scanned["procedure_code"],
        "channel": "in_person",
        "applicant": {"kind": "organisation", "name": "Công ty TNHH Minh Long", "tax_code": "0109876543"},
        "components": scanned["components"],
        "fields": scanned["fields"],
    }
    for other in (token("cv-hn", Role.SPECIALIST, "UBND.HN"), token("citizen-9")):
        assert (await register(client, other, body, unique("key-desk-role"))).status_code == 403
    answer = await register(client, officer, body, unique("key-desk-files"))
    assert answer.status_code == 422
    assert all(
        e["field"].startswith("components.request_letter") or e["field"].startswith("components.proposal_report")
        for e in answer.json()["errors"]
    ), answer.json()
    assert answer.json()["errors"]
