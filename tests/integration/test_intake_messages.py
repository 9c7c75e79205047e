"""Messages on a dossier between its applicant and its agency: both sides write with attachments, each sees when the
other read them, no one else reads them, and the events carry a digest of the text, never the text."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
from hoso_dev.walkthrough import pdf_bytes

from hoso.auth import Role
from tests.integration.test_intake_submission import Token, auth, events_of, permit_body, submit, upload
from tests.support import unique

pytest_plugins = ["tests.integration.test_intake_submission"]


async def test_applicant_and_agency_write_to_each_other_and_each_sees_when_the_other_read(
    client: httpx.AsyncClient, token: Token, kafka_bootstrap: str
) -> None:
    applicant = token("citizen-msg")
    dossier = (await submit(client, applicant, await permit_body(client, applicant), unique("key-msg"))).json()
    code = dossier["code"]
    officer = token("cv-msg", Role.SPECIALIST, "UBND.HN")
    url = f"/api/v1/dossiers/{code}/messages"

    # The agency writes with an attachment the officer uploaded; the applicant can download it.
    guide = await upload(client, officer, pdf_bytes("Hướng dẫn bổ sung"), "huong-dan.pdf")
    sent = await client.post(
        url, json={"text": "Đề nghị gửi bản đồ vị trí", "file_ids": [guide]}, headers=auth(officer)
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert message["side"] == "agency"
    assert message["read_at"] is None
    assert [a["name"] for a in message["attachments"]] == ["huong-dan.pdf"]
    assert (await client.get(f"/api/v1/files/{guide}", headers=auth(applicant))).status_code == 200

    mine = (await client.get(url, headers=auth(applicant))).json()
    assert mine["unread"] == 1
    assert mine["items"][0]["text"] == "Đề nghị gửi bản đồ vị trí"
    # Looking is not reading: only opening the messages marks them read, and only the other side's.
    assert (await client.get(url, headers=auth(officer))).json()["items"][0]["read_at"] is None
    opened = (await client.post(f"{url}/read", headers=auth(applicant))).json()
    assert opened["unread"] == 0
    read_at = opened["items"][0]["read_at"]
    assert read_at is not None
    assert (await client.get(url, headers=auth(officer))).json()["items"][0]["read_at"] == read_at
    # The agency opening its own message does not mark it read.
    await client.post(f"{url}/read", headers=auth(token("tn-msg", Role.RECEPTION_OFFICER, "UBND.HN")))

    answer = await client.post(url, json={"text": "Đã gửi bản đồ"}, headers=auth(applicant))
    assert answer.status_code == 201
    assert answer.json()["side"] == "applicant"
    seen = (await client.get(url, headers=auth(officer))).json()
    assert seen["unread"] == 1
    assert [m["side"] for m in seen["items"]] == ["agency", "applicant"]

    await asyncio.sleep(1.0)
    events = [e for e in await events_of(kafka_bootstrap, dossier["id"]) if "message" in e["type"]]
    kinds = [e["type"].removeprefix("vn.gov.hoso.").removesuffix(".v1") for e in events]
    assert kinds == ["dossier.message_sent", "dossier.message_read", "dossier.message_sent"]
    assert events[0]["text_sha256"] == hashlib.sha256("Đề nghị gửi bản đồ vị trí".encode()).hexdigest()
    assert all("Đề nghị" not in str(e) for e in events)


async def test_messages_are_refused_by_name_and_read_by_no_one_else(client: httpx.AsyncClient, token: Token) -> None:
    applicant = token("citizen-msg2")
    dossier = (await submit(client, applicant, await permit_body(client, applicant), unique("key-msg2"))).json()
    url = f"/api/v1/dossiers/{dossier['code']}/messages"
    someone_elses = await upload(client, token("citizen-other"), pdf_bytes("Khác"), "khac.pdf")
    bad: list[tuple[dict[str, Any], str]] = [
        ({"text": ""}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"text": "Xem tệp", "file_ids": [someone_elses]}, "file_ids.0"),
        ({"text": "Xem tệp", "file_ids": ["not-an-id"]}, "file_ids.0"),
        ({"text": "Xin chào", "to": "all"}, "to"),
    ]
    for body, field in bad:
        refused = await client.post(url, json=body, headers=auth(applicant))
        assert refused.status_code == 422, body
        assert refused.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
    for stranger in (token("citizen-other"), token("cv-hcm", Role.SPECIALIST, "UBND.HCM")):
        assert (await client.get(url, headers=auth(stranger))).status_code == 404
        assert (await client.post(url, json={"text": "Chào"}, headers=auth(stranger))).status_code == 404
    assert (await client.get(url, headers=auth(token("ops-1", Role.OPS)))).status_code == 403
