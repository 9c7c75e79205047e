"""Attacks on the running platform through the gateway: other people's dossiers and files, other agencies, forged
and stale tokens, operator injection, lying uploads, PIN guessing, and personal data in the logs."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hoso_dev.keys import JWKS_FILE, KEY_FILE
from hoso_dev.walkthrough import PDF, Walkthrough, identity_person, pdf_bytes

from hoso.auth import Role
from tests.accounts import IdentityProvider
from tests.platform import Platform

pytestmark = pytest.mark.security

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers["content-type"]
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    return body


def claims(**override: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "intruder", "roles": ["applicant"], "iss": "hoso-local", "aud": "hoso", "iat": now, "nbf": now,
            "exp": now + 600}  # fmt: skip
    base.update(override)
    return {k: v for k, v in base.items() if v is not None}


def signed(state: Path, payload: dict[str, Any], *, key: bytes | None = None, kid: str | None = None) -> str:
    keys = state / "keys"
    real_kid = json.loads((keys / JWKS_FILE).read_text())["keys"][0]["kid"]
    return jwt.encode(
        payload, key or (keys / KEY_FILE).read_bytes(), algorithm="RS256", headers={"kid": kid or real_kid}
    )


def test_an_applicant_cannot_read_or_change_another_applicants_dossier_or_file(
    walk: Walkthrough, identity: IdentityProvider
) -> None:
    code = walk.submit_eia("Dự án của người khác")
    file_id = walk.upload("rieng-tu.pdf", pdf_bytes("Tài liệu riêng"), PDF)
    username = f"nguoila.{walk.run}"
    password = identity.new_user(username, role=Role.APPLICANT, full_name="Người lạ", email=f"{username}@example.vn")
    other = identity_person(identity.issuer, username, password)
    h = other.headers
    problem(walk.http.get(f"/api/v1/dossiers/{code}", headers=h), 404)
    problem(walk.http.post(f"/api/v1/dossiers/{code}/withdrawal", json={"reason": "Rút hộ"}, headers=h), 404)
    supplement = {"components": [{"code": "eia_report", "file_ids": [file_id]}]}
    problem(walk.http.post(f"/api/v1/dossiers/{code}/supplements", json=supplement, headers=h), 404)
    problem(walk.http.get(f"/api/v1/files/{file_id}", headers=h), 404)
    problem(walk.http.get(f"/api/v1/records/dossiers/{code}/timeline", headers=h), 404)
    problem(walk.http.get(f"/api/v1/dossiers/{code}/messages", headers=h), 404)
    problem(walk.http.post(f"/api/v1/dossiers/{code}/messages", json={"text": "Xin chào"}, headers=h), 404)
    problem(walk.http.post(f"/api/v1/dossiers/{code}/messages/read", headers=h), 404)
    problem(walk.http.post(f"/api/v1/records/dossiers/{code}/rating", json={"score": 1}, headers=h), 404)
    assert code not in walk.http.get("/api/v1/dossiers", headers=h).text
    # ... nor use someone else's file in their own dossier.
    body = {"procedure_code": "MT-DTM-BO", "components": [{"code": "request_letter", "file_ids": [file_id]}]}
    stolen = walk.http.post("/api/v1/dossiers", json=body, headers={**h, "Idempotency-Key": "steal-" + walk.run})
    assert stolen.status_code in (404, 422), stolen.text
    assert walk.http.get(f"/api/v1/files/{file_id}", headers=walk.applicant.headers).status_code == 200


def test_an_officer_of_another_agency_sees_and_does_nothing(walk: Walkthrough, identity: IdentityProvider) -> None:
    walk.register_preferences()
    code = walk.submit_eia("Dự án của Bộ")
    walk.wait_review(code, "awaiting_reception")
    hanoi = identity_person(identity.issuer, "tiepnhan.hn")
    leader = identity_person(identity.issuer, "lanhdao.hn")
    problem(walk.http.get(f"/api/v1/review/dossiers/{code}", headers=hanoi.headers), 404)
    problem(
        walk.http.post(f"/api/v1/review/dossiers/{code}/actions", json={"action": "receive"}, headers=hanoi.headers),
        404,
    )
    problem(walk.http.get(f"/api/v1/records/dossiers/{code}/timeline", headers=leader.headers), 404)
    problem(walk.http.get("/api/v1/records/dossiers", params={"agency": "BNNMT"}, headers=leader.headers), 403)
    problem(walk.http.get("/api/v1/review/tasks", params={"agency": "BNNMT"}, headers=leader.headers), 403)
    assert walk.review_view(code)["state"] == "awaiting_reception"  # type: ignore[index]


def _expired(state: Path) -> str:
    past = int(time.time()) - 7200
    return signed(state, claims(iat=past, nbf=past, exp=past + 3600))


def _not_yet_valid(state: Path) -> str:
    return signed(state, claims(nbf=int(time.time()) + 3600))


def _other_key(state: Path) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return signed(state, claims(), key=pem)


def _tampered(state: Path) -> str:
    header, _, signature = signed(state, claims()).split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims(roles=["admin"])).encode()).decode().rstrip("=")
    return f"{header}.{payload}.{signature}"


TOKENS: dict[str, Any] = {
    "expired": _expired,
    "not yet valid": _not_yet_valid,
    "wrong audience": lambda s: signed(s, claims(aud="another-system")),
    "wrong issuer": lambda s: signed(s, claims(iss="https://evil.example")),
    "alg none": lambda s: jwt.encode(claims(), None, algorithm="none"),
    "re-signed with another key": _other_key,
    "unknown key id": lambda s: signed(s, claims(), kid="not-our-key"),
    "tampered payload": _tampered,
    "garbage": lambda s: "not.a.token",
}


@pytest.mark.parametrize("case", sorted(TOKENS))
def test_forged_and_stale_tokens_are_refused(platform: Platform, case: str) -> None:
    token = TOKENS[case](platform.state)
    with httpx.Client(base_url=platform.gateway, timeout=10) as http:
        for path in ("/api/v1/dossiers", "/api/v1/review/tasks", "/api/v1/notifications", "/api/v1/records/dossiers"):
            problem(http.get(path, headers={"Authorization": f"Bearer {token}"}), 401)


def test_operator_injection_in_query_strings_and_bodies_changes_nothing(walk: Walkthrough) -> None:
    code = walk.submit_eia("Dự án thử tiêm toán tử")
    h = walk.applicant.headers
    for params in ({"status[$ne]": "1"}, {"status": '{"$ne": 1}'}, {"limit": '{"$gt": 0}'}):
        answer = walk.http.get("/api/v1/dossiers", params=params, headers=h)
        assert answer.status_code in (200, 422), answer.text
        if answer.status_code == 422:
            problem(answer, 422)
    bad_bodies = [
        {"procedure_code": {"$ne": ""}, "components": []},
        {"procedure_code": "MT-DTM-BO", "components": [], "fields": {"$where": "sleep(1000)"}},
        {"procedure_code": "MT-DTM-BO", "components": [{"code": {"$gt": ""}, "file_ids": []}]},
    ]
    for n, body in enumerate(bad_bodies):
        sent = walk.http.post("/api/v1/dossiers", json=body, headers={**h, "Idempotency-Key": f"inj-{walk.run}-{n}"})
        problem(sent, 422)
    action = walk.http.post(
        f"/api/v1/review/dossiers/{code}/actions", json={"action": {"$ne": "x"}}, headers=walk.reception.headers
    )
    problem(action, 422)
    problem(walk.http.get(f"/api/v1/tracking/{code}", params={"pin[$ne]": "0"}), 422)
    problem(walk.http.get(f"/api/v1/tracking/{code}", params={"pin": '{"$ne": "0"}'}), 404)
    search = walk.http.get(
        "/api/v1/records/dossiers", params={"applicant": '{"$regex": ".*"}'}, headers=walk.leader.headers
    )
    assert search.status_code == 200
    assert search.json()["total"] == 0


def test_uploads_are_judged_by_their_bytes_size_and_never_by_their_name(walk: Walkthrough) -> None:
    h = walk.applicant.headers
    lying = walk.http.post("/api/v1/files", files={"file": ("bao-cao.pdf", PNG, "application/pdf")}, headers=h)
    assert lying.status_code == 201, lying.text
    assert lying.json()["content_type"] == "image/png"  # what the bytes are, not what the name or the header says
    script = walk.http.post(
        "/api/v1/files", files={"file": ("x.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf")}, headers=h
    )
    problem(script, 415)
    oversize = walk.http.post(
        "/api/v1/files", files={"file": ("big.pdf", b"%PDF-" + b"0" * (2 * 1024 * 1024), PDF)}, headers=h
    )
    problem(oversize, 413)
    for name in ("../../etc/passwd.pdf", "..\\..\\windows\\win.ini.pdf", "/etc/shadow.pdf"):
        stored = walk.http.post("/api/v1/files", files={"file": (name, pdf_bytes(), PDF)}, headers=h)
        assert stored.status_code == 201, stored.text
        kept = stored.json()["name"]
        assert "/" not in kept
        assert "\\" not in kept
        assert ".." not in kept
        assert walk.http.get(f"/api/v1/files/{stored.json()['id']}", headers=h).content == pdf_bytes()


def test_guessing_tracking_pins_hits_the_rate_limit(walk: Walkthrough) -> None:
    code = walk.submit_eia("Dự án bị dò mã tra cứu")
    statuses = [walk.http.get(f"/api/v1/tracking/{code}", params={"pin": f"{n:08d}"}).status_code for n in range(60)]
    assert set(statuses[:5]) == {404}
    assert 429 in statuses
    limited = walk.http.get(f"/api/v1/tracking/{code}", params={"pin": "12345678"})
    problem(limited, 429)
    assert limited.headers["retry-after"] == "60"


def test_no_personal_data_in_any_log(platform: Platform, walk: Walkthrough) -> None:
    walk.register_preferences()
    code = walk.submit_eia("Dự án kiểm tra nhật ký")
    walk.wait_review(code, "awaiting_reception")
    pin = str(walk.act(walk.reception, code, "receive")["tracking_pin"])
    walk.wait_mail(code, "Giấy tiếp nhận", to=walk.applicant.email)
    assert walk.http.get(f"/api/v1/tracking/{code}", params={"pin": pin}).status_code in (200, 429)
    secrets = [walk.applicant.email, walk.reception.email, pin]
    logs = [*(platform.state / "logs").glob("*.log"), platform.state / "gateway" / "access.log"]
    assert len(logs) >= 9
    for path in logs:
        text = path.read_text(errors="replace")
        for secret in secrets:
            assert secret not in text, (path.name, secret)
