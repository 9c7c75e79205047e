"""Intake's drafts and fee quotes through its HTTP API, against the real broker and database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hoso_dev.walkthrough import docx_bytes, pdf_bytes
from pymongo import AsyncMongoClient

from hoso.auth import Role
from hoso.mongo import Document, bson_now
from hoso.runtime import ProcessRole
from hoso.store import Store
from intake.bootstrap import build_app
from intake.drafts import DraftStore
from intake.settings import IntakeSettings
from tests.integration.test_intake_submission import Client, Token, auth, token, upload
from tests.support import unique

__all__ = ["token"]
EIA = "MT-DTM-BO"


@pytest.fixture
def database_name() -> str:
    return unique("test_drafts").replace("-", "_")


@pytest.fixture
async def client(kafka_bootstrap: str, mongo_url: str, state_dir: Path, database_name: str) -> AsyncIterator[Client]:
    settings = IntakeSettings(
        mongodb_url=mongo_url,
        mongodb_database=database_name,
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group=unique("intake"),
        local_mode=True,
        state_dir=state_dir,
        relay_poll_seconds=3600,
        max_upload_bytes=64 * 1024,
    )
    app: FastAPI = build_app(ProcessRole.API, settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
        yield c


def eia_fields(**overrides: Any) -> dict[str, Any]:
    return {
        "project_name": "Nhà máy xi măng Sông Đà",
        "project_location": "Tỉnh Phú Thọ",
        "project_group": "I",
        "total_investment_vnd": 150_000_000_000,
        "project_type": "5",
        **overrides,
    }


async def new_draft(client: Client, tok: str, **body: Any) -> httpx.Response:
    payload = {"procedure_code": EIA, "applicant_kind": "organisation", **body}
    return await client.post("/api/v1/drafts", json=payload, headers=auth(tok))


async def test_a_draft_keeps_what_is_given_and_names_what_is_still_missing(client: Client, token: Token) -> None:
    letter = await upload(client, token(), pdf_bytes("Văn bản đề nghị"))
    created = await new_draft(
        client,
        token(),
        fields={"project_name": "Nhà máy xi măng Sông Đà"},
        components=[{"code": "request_letter", "file_ids": [letter]}],
    )
    assert created.status_code == 201, created.text
    draft = created.json()
    assert "code" not in draft
    assert draft["fields"] == {"project_name": "Nhà máy xi măng Sông Đà"}
    assert [f["id"] for f in draft["files"]] == [letter]
    missing = {m["field"] for m in draft["missing"]}
    assert {
        "components.eia_report",
        "components.feasibility_study",
        "fields.project_location",
        "fields.project_group",
    } <= missing
    assert "components.request_letter" not in missing
    again = await client.get(f"/api/v1/drafts/{draft['id']}", headers=auth(token()))
    assert again.json() == draft
    mine = await client.get("/api/v1/drafts", headers=auth(token()))
    assert [d["id"] for d in mine.json()["items"]] == [draft["id"]]
    # A draft is no dossier: nothing was filed.
    dossiers = await client.get("/api/v1/dossiers", headers=auth(token()))
    assert dossiers.json()["total"] == 0


async def test_a_complete_draft_has_nothing_missing_and_submits_once_by_its_key(client: Client, token: Token) -> None:
    components = [
        {"code": "request_letter", "file_ids": [await upload(client, token(), pdf_bytes("Đề nghị"))]},
        {"code": "eia_report", "file_ids": [await upload(client, token(), docx_bytes(), "dtm.docx")]},
        {"code": "feasibility_study", "file_ids": [await upload(client, token(), pdf_bytes("Khả thi"))]},
    ]
    draft = (await new_draft(client, token(), fields=eia_fields(), components=components)).json()
    assert draft["missing"] == []
    body = {k: draft[k] for k in ("procedure_code", "applicant_kind", "components", "fields")}
    key = f"draft-{draft['id']}"
    first = await client.post("/api/v1/dossiers", json=body, headers={**auth(token()), "Idempotency-Key": key})
    second = await client.post("/api/v1/dossiers", json=body, headers={**auth(token()), "Idempotency-Key": key})
    assert first.status_code == 201, first.text
    assert second.status_code == 200
    assert second.json()["code"] == first.json()["code"]
    assert (await client.get("/api/v1/dossiers", headers=auth(token()))).json()["total"] == 1


async def test_a_draft_belongs_to_its_author_alone(client: Client, token: Token) -> None:
    draft = (await new_draft(client, token("author"), fields={"project_name": "Dự án A"})).json()
    other = auth(token("someone-else"))
    path = f"/api/v1/drafts/{draft['id']}"
    assert (await client.get(path, headers=other)).status_code == 404
    put = await client.put(path, json={"procedure_code": EIA, "fields": {}}, headers=other)
    assert put.status_code == 404
    assert (await client.delete(path, headers=other)).status_code == 404
    assert (await client.get("/api/v1/drafts", headers=other)).json()["items"] == []
    assert (await client.get(path, headers=auth(token("author")))).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"components": [{"code": "site_map", "file_ids": []}]}, "components.site_map"),
        ({"fields": {"budget": "nhiều"}}, "fields.budget"),
        ({"fields": {"total_investment_vnd": "một trăm tỷ"}}, "fields.total_investment_vnd"),
        ({"fields": {"project_type": "9"}}, "fields.project_type"),
        ({"procedure_code": "MT-KHONG-CO"}, "procedure_code"),
    ],
)
async def test_a_draft_refuses_what_is_wrong_naming_the_field(
    client: Client, token: Token, body: dict[str, Any], field: str
) -> None:
    answer = await new_draft(client, token(), **body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in answer.json()["errors"]]


async def test_a_draft_refuses_a_file_of_someone_else_and_a_file_of_the_wrong_type(
    client: Client, token: Token
) -> None:
    theirs = await upload(client, token("someone-else"), pdf_bytes("Không phải của tôi"))
    answer = await new_draft(client, token(), components=[{"code": "request_letter", "file_ids": [theirs]}])
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == f"components.request_letter.{theirs}"
    report = await upload(client, token(), docx_bytes(), "don.docx")
    answer = await new_draft(client, token(), components=[{"code": "request_letter", "file_ids": [report]}])
    assert answer.status_code == 422
    assert "accepted: application/pdf" in answer.json()["errors"][0]["message"]


async def test_a_draft_is_replaced_whole_and_stays_with_its_procedure(client: Client, token: Token) -> None:
    draft = (await new_draft(client, token(), fields={"project_name": "Tên cũ"})).json()
    path = f"/api/v1/drafts/{draft['id']}"
    put = await client.put(
        path, json={"procedure_code": EIA, "fields": {"project_location": "Huế"}}, headers=auth(token())
    )
    assert put.status_code == 200, put.text
    assert put.json()["fields"] == {"project_location": "Huế"}
    moved = await client.put(path, json={"procedure_code": "MT-GPMT-TINH", "fields": {}}, headers=auth(token()))
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["field"] == "procedure_code"
    assert (await client.delete(path, headers=auth(token()))).status_code == 204
    assert (await client.get(path, headers=auth(token()))).status_code == 404


async def add_file(
    client: Client, tok: str, draft_id: str, component: str, data: bytes, name: str = "tep.pdf"
) -> httpx.Response:
    return await client.post(
        f"/api/v1/drafts/{draft_id}/components/{component}/files",
        files={"file": (name, data, "application/octet-stream")},
        headers=auth(tok),
    )


async def test_a_file_sent_to_a_component_is_checked_as_it_arrives_and_kept_in_the_draft(
    client: Client, token: Token, mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    stored = mongo[database_name]["uploads.files"]
    draft = (await new_draft(client, token(), fields={"project_name": "Nhà máy xi măng Sông Đà"})).json()
    # The request letter takes one PDF: a Word file is refused at once, naming the file field.
    wrong_type = await add_file(client, token(), draft["id"], "request_letter", docx_bytes(), "don.docx")
    assert wrong_type.status_code == 422
    assert wrong_type.json()["errors"][0]["field"] == "file"
    assert "accepted: application/pdf" in wrong_type.json()["errors"][0]["message"]
    assert await stored.count_documents({}) == 0  # a refused file is not kept
    added = await add_file(client, token(), draft["id"], "request_letter", pdf_bytes("Văn bản đề nghị"), "don.pdf")
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["fields"] == {"project_name": "Nhà máy xi măng Sông Đà"}  # the rest of the draft is kept
    [letter] = body["files"]
    assert letter["name"] == "don.pdf"
    assert body["components"] == [{"code": "request_letter", "file_ids": [letter["id"]]}]
    assert "components.request_letter" not in {m["field"] for m in body["missing"]}
    second = await add_file(client, token(), draft["id"], "request_letter", pdf_bytes("Bản thứ hai"))
    assert second.status_code == 422
    assert second.json()["errors"] == [{"field": "file", "in": "body", "message": "at most 1 file(s)"}]
    word = await add_file(client, token(), draft["id"], "eia_report", docx_bytes())
    assert word.status_code == 201, word.text
    kept = (await client.get(f"/api/v1/drafts/{draft['id']}", headers=auth(token()))).json()
    assert {c["code"]: len(c["file_ids"]) for c in kept["components"]} == {"request_letter": 1, "eia_report": 1}
    assert await stored.count_documents({}) == 2


async def test_files_sent_at_once_to_one_draft_are_all_kept(client: Client, token: Token) -> None:
    draft = (await new_draft(client, token())).json()
    sent = await asyncio.gather(
        *(add_file(client, token(), draft["id"], "eia_report", pdf_bytes(f"Chương {n}")) for n in range(3)),
        add_file(client, token(), draft["id"], "feasibility_study", pdf_bytes("Khả thi")),
    )
    assert [a.status_code for a in sent] == [201] * 4, [a.text for a in sent]
    kept = (await client.get(f"/api/v1/drafts/{draft['id']}", headers=auth(token()))).json()
    assert {c["code"]: len(c["file_ids"]) for c in kept["components"]} == {"eia_report": 3, "feasibility_study": 1}


@pytest.mark.parametrize(
    ("component", "data", "status", "field"),
    [
        ("not_a_component", pdf_bytes(), 404, None),
        ("request_letter", b"", 422, "file"),
        ("request_letter", b"plain text, not a document", 415, "file"),
        ("request_letter", pdf_bytes() + b"x" * (64 * 1024), 413, "file"),
    ],
)
async def test_a_file_a_draft_cannot_take_is_refused_with_its_reason(
    client: Client, token: Token, component: str, data: bytes, status: int, field: str | None
) -> None:
    draft = (await new_draft(client, token())).json()
    answer = await add_file(client, token(), draft["id"], component, data)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert answer.json()["errors"][0]["field"] == field
    assert (await client.get(f"/api/v1/drafts/{draft['id']}", headers=auth(token()))).json()["components"] == []


async def test_only_its_author_adds_files_to_a_draft(client: Client, token: Token) -> None:
    draft = (await new_draft(client, token())).json()
    other = await add_file(client, token("someone-else"), draft["id"], "request_letter", pdf_bytes())
    assert other.status_code == 404
    officer = await add_file(
        client, token("officer-1", Role.RECEPTION_OFFICER, "BNNMT"), draft["id"], "request_letter", pdf_bytes()
    )
    assert officer.status_code == 403


async def test_an_expired_draft_is_swept_and_gone(
    client: Client, token: Token, mongo: AsyncMongoClient[Document], database_name: str
) -> None:
    draft = (await new_draft(client, token(), fields={"project_name": "Sắp hết hạn"})).json()
    store = DraftStore(Store(mongo[database_name]), retention=timedelta(days=30))
    assert await store.sweep(now=bson_now() + timedelta(days=29)) == 0
    assert await store.sweep(now=bson_now() + timedelta(days=31)) == 1
    assert (await client.get(f"/api/v1/drafts/{draft['id']}", headers=auth(token()))).status_code == 404


async def test_the_fee_quote_follows_the_catalog_rule(client: Client) -> None:
    answer = await client.get(
        f"/api/v1/procedures/{EIA}/fee", params={"total_investment_vnd": "150000000000", "project_type": "5"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["amount_vnd"] == 47_000_000  # Circular 38/2023: above 100 and up to 200 billion
    small = await client.get(
        f"/api/v1/procedures/{EIA}/fee", params={"total_investment_vnd": "10000000000", "project_type": "6"}
    )
    assert small.json()["amount_vnd"] == 6_000_000


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"total_investment_vnd": "abc", "project_type": "5"}, "total_investment_vnd"),
        ({"project_type": "5"}, "total_investment_vnd"),
        ({"total_investment_vnd": "1000"}, "project_type"),
    ],
)
async def test_a_fee_that_cannot_be_computed_names_the_field(
    client: Client, params: dict[str, str], field: str
) -> None:
    answer = await client.get(f"/api/v1/procedures/{EIA}/fee", params=params)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == field


async def test_a_fee_quote_for_a_day_before_the_catalogs_schedule_applies_names_the_day_and_gives_no_amount(
    client: Client,
) -> None:
    project = {"total_investment_vnd": "150000000000", "project_type": "5"}
    before = await client.get(f"/api/v1/procedures/{EIA}/fee", params={**project, "on": "2016-05-02"})
    assert before.status_code == 422
    [error] = before.json()["errors"]
    assert (error["field"], error["in"]) == ("on", "query")
    assert "applies from 2018-08-10" in error["message"]
    assert "the agency states the fee" in error["message"]
    since = await client.get(f"/api/v1/procedures/{EIA}/fee", params={**project, "on": "2018-08-10"})
    assert since.status_code == 200, since.text
    assert (since.json()["version"], since.json()["amount_vnd"]) == ("2015", 47_000_000)  # Circular 56/2018


async def test_the_fee_of_an_unknown_procedure_is_not_found(client: Client) -> None:
    assert (await client.get("/api/v1/procedures/MT-KHONG-CO/fee")).status_code == 404
