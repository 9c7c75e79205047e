"""Intake's submission through its HTTP API, against the real broker and database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hoso.auth import Role
from hoso.devkeys import mint_token
from hoso.runtime import ProcessRole
from hoso.topics import DOSSIER_EVENTS
from intake.bootstrap import build_app
from intake.settings import IntakeSettings
from tests.support import read_topic, unique

Client = httpx.AsyncClient


@pytest.fixture
async def intake(
    kafka_bootstrap: str, mongo_url: str, state_dir: Path
) -> AsyncIterator[tuple[FastAPI, IntakeSettings]]:
    settings = IntakeSettings(
        mongodb_url=mongo_url,
        mongodb_database=unique("test_intake").replace("-", "_"),
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group=unique("intake"),
        local_mode=True,
        state_dir=state_dir,
        relay_poll_seconds=0.2,
    )
    app = build_app(ProcessRole.ALL, settings)
    async with app.router.lifespan_context(app):
        yield app, settings
        await app.state.runtime.mongo.drop_database(settings.database_name)


@pytest.fixture
def token(state_dir: Path) -> Callable[..., str]:
    def make(sub: str = "citizen-1", role: Role = Role.APPLICANT, agency: str | None = None) -> str:
        return mint_token(state_dir, subject=sub, roles=[role], agency=agency, issuer="hoso-local", audience="hoso")

    return make


@pytest.fixture
async def client(intake: tuple[FastAPI, IntakeSettings]) -> AsyncIterator[Client]:
    transport = httpx.ASGITransport(app=intake[0])
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
        yield c


def body(agency: str, **extra: Any) -> dict[str, Any]:
    return {"procedure_code": "1.010727", "agency_code": agency, "fields": {"project_name": "Nhà máy nước"}, **extra}


async def submit(client: Client, token: str, payload: dict[str, Any], key: str) -> httpx.Response:
    return await client.post(
        "/api/v1/dossiers", json=payload, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    )


async def events_of(kafka_bootstrap: str, dossier_id: str) -> list[dict[str, Any]]:
    records = await read_topic(kafka_bootstrap, DOSSIER_EVENTS, expect=1, timeout=10)
    return [
        {"type": dict(r.headers)["ce_type"].decode(), **json.loads(r.value)}
        for r in records
        if r.key == dossier_id.encode()
    ]


async def test_a_retried_submission_creates_one_dossier_and_one_event(
    client: Client, token: Callable[..., str], kafka_bootstrap: str
) -> None:
    agency = unique("A").replace("-", "").upper()[:10]
    first = await submit(client, token(), body(agency), "key-retry-0001")
    again = await submit(client, token(), body(agency), "key-retry-0001")

    assert first.status_code == 201, first.text
    assert again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["code"].endswith("-0001")
    await asyncio.sleep(1.0)  # the relay publishes within the poll interval
    events = await events_of(kafka_bootstrap, first.json()["id"])
    assert [e["type"] for e in events] == ["vn.gov.hoso.dossier.submitted.v1"]
    assert events[0]["dossier_code"] == first.json()["code"]
    assert events[0]["status_code"] == 1
    assert events[0]["applicant"]["id"] == "citizen-1"


async def test_the_same_key_with_another_body_is_a_conflict(client: Client, token: Callable[..., str]) -> None:
    agency = unique("B").replace("-", "").upper()[:10]
    assert (await submit(client, token(), body(agency), "key-conflict-01")).status_code == 201
    answer = await submit(client, token(), body(agency, fields={"project_name": "other"}), "key-conflict-01")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in answer.json()["detail"]


async def test_concurrent_submissions_get_consecutive_codes_without_gaps(
    client: Client, token: Callable[..., str]
) -> None:
    agency = unique("C").replace("-", "").upper()[:10]
    answers = await asyncio.gather(
        *(submit(client, token(f"citizen-{i}"), body(agency), f"key-concurrent-{i:04d}") for i in range(60))
    )
    assert {a.status_code for a in answers} == {201}
    sequences = sorted(int(a.json()["code"].rsplit("-", 1)[1]) for a in answers)
    assert sequences == list(range(1, 61))


async def test_an_applicant_sees_only_own_dossiers(client: Client, token: Callable[..., str]) -> None:
    agency = unique("D").replace("-", "").upper()[:10]
    created = await submit(client, token("owner"), body(agency), "key-owner-0001")
    code = created.json()["code"]
    mine = await client.get(f"/api/v1/dossiers/{code}", headers={"Authorization": f"Bearer {token('owner')}"})
    theirs = await client.get(f"/api/v1/dossiers/{code}", headers={"Authorization": f"Bearer {token('other')}"})
    listing = await client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {token('other')}"})
    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert listing.json()["items"] == []


@pytest.mark.parametrize(
    ("payload", "headers", "status", "field"),
    [
        (body("BAD agency!"), {"Idempotency-Key": "key-bad-00001"}, 422, "agency_code"),
        (body("BNNMT", procedure_code=""), {"Idempotency-Key": "key-bad-00002"}, 422, "procedure_code"),
        (body("BNNMT", fields={"$where": {"$gt": ""}}), {"Idempotency-Key": "key-bad-00003"}, 422, "fields.$where"),
        (body("BNNMT", extra_field=1), {"Idempotency-Key": "key-bad-00004"}, 422, "extra_field"),
        (body("BNNMT"), {}, 422, "Idempotency-Key"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field_and_creates_nothing(
    client: Client,
    token: Callable[..., str],
    intake: tuple[FastAPI, IntakeSettings],
    payload: dict[str, Any],
    headers: dict[str, str],
    status: int,
    field: str,
) -> None:
    answer = await client.post(
        "/api/v1/dossiers", json=payload, headers={"Authorization": f"Bearer {token()}", **headers}
    )
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert await intake[0].state.runtime.db["dossiers"].count_documents({}) == 0


async def test_without_a_valid_token_nothing_is_accepted(client: Client, token: Callable[..., str]) -> None:
    no_token = await client.post("/api/v1/dossiers", json=body("BNNMT"), headers={"Idempotency-Key": "key-auth-0001"})
    officer = await submit(client, token(role=Role.SPECIALIST, agency="BNNMT"), body("BNNMT"), "key-auth-0002")
    assert no_token.status_code == 401
    assert no_token.headers["content-type"] == "application/problem+json"
    assert officer.status_code == 403
