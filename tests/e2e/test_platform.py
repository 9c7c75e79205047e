"""From the outside: a dossier submitted through the gateway reaches review and records; run and stop behave."""

from __future__ import annotations

import http.client
import os
import time
import uuid

import httpx
import pytest
from hoso_dev.walkthrough import docx_bytes, identity_person, pdf_bytes

from hoso.auth import Role
from tests.accounts import IdentityProvider
from tests.platform import Platform

pytestmark = pytest.mark.e2e


def wait_for(check: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s")


def test_a_dossier_posted_through_the_gateway_shows_up_in_the_records_timeline(
    platform: Platform, identity: IdentityProvider
) -> None:
    # A citizen made for this run and the province's reception officer, both signed in at Keycloak.
    username = f"congdan.{uuid.uuid4().hex[:8]}"
    password = identity.new_user(
        username,
        role=Role.APPLICANT,
        full_name="Nguyễn Thị Lan",
        email=f"{username}@example.vn",
        attributes={"personal_id": "001190012345"},
    )
    applicant = identity_person(identity.issuer, username, password).token
    officer = identity_person(identity.issuer, "tiepnhan.hn").token
    with httpx.Client(base_url=platform.gateway, timeout=10) as http:
        bearer = {"Authorization": f"Bearer {applicant}"}
        letter = http.post("/api/v1/files", files={"file": ("don.pdf", pdf_bytes(), "application/pdf")}, headers=bearer)
        report = http.post(
            "/api/v1/files", files={"file": ("bc.docx", docx_bytes(), "application/pdf")}, headers=bearer
        )
        assert letter.status_code == report.status_code == 201, letter.text
        created = http.post(
            "/api/v1/dossiers",
            json={
                "procedure_code": "MT-GPMT-TINH",
                "components": [
                    {"code": "request_letter", "file_ids": [letter.json()["id"]]},
                    {"code": "proposal_report", "file_ids": [report.json()["id"]]},
                ],
                "fields": {"province": "HN", "facility_name": "Trạm xử lý nước thải"},
            },
            headers={
                "Authorization": f"Bearer {applicant}",
                "Idempotency-Key": "e2e-first-dossier",
                "X-Request-ID": "e2e-req-1",
            },
        )
        assert created.status_code == 201, created.text
        assert created.headers["X-Request-ID"] == "e2e-req-1"
        code = created.json()["code"]
        assert code.startswith("UBND.HN-")
        catalog = http.get("/api/v1/procedures")
        assert "MT-GPMT-TINH" in [p["procedure_code"] for p in catalog.json()]

        def recorded() -> bool:
            answer = http.get(
                f"/api/v1/records/dossiers/{code}/timeline", headers={"Authorization": f"Bearer {officer}"}
            )
            return answer.status_code == 200 and len(answer.json()["entries"]) >= 1

        wait_for(recorded)
        timeline = http.get(
            f"/api/v1/records/dossiers/{code}/timeline", headers={"Authorization": f"Bearer {officer}"}
        ).json()
        assert timeline["entries"][0]["event_type"] == "vn.gov.hoso.dossier.submitted.v1"
        audit = http.get(
            f"/api/v1/records/dossiers/{code}/audit", headers={"Authorization": f"Bearer {officer}"}
        ).json()
        assert audit["valid"] is True

        def reviewed() -> bool:
            answer = http.get(f"/api/v1/review/dossiers/{code}", headers={"Authorization": f"Bearer {officer}"})
            return answer.status_code == 200 and answer.json()["status_code"] == 1

        wait_for(reviewed)

        # The reception officer receives it through the gateway; the applicant then sees status 2 and a due date.
        received = http.post(
            f"/api/v1/review/dossiers/{code}/actions",
            json={"action": "receive"},
            headers={"Authorization": f"Bearer {officer}"},
        )
        assert received.status_code == 200, received.text
        assert len(received.json()["tracking_pin"]) == 8

        def seen_by_applicant() -> bool:
            answer = http.get(f"/api/v1/dossiers/{code}", headers=bearer)
            return answer.status_code == 200 and answer.json()["status"]["code"] == 2

        wait_for(seen_by_applicant)
        assert http.get(f"/api/v1/dossiers/{code}", headers=bearer).json()["due_at"] is not None

        # The applicant's e-mails reach the SMTP sink: the submission notice, then the receipt with Form 01.
        def mailed() -> bool:
            return len([m for m in platform.mail() if f"{username}@example.vn" in str(m["To"])]) == 2

        wait_for(mailed)
        receipt = next(m for m in platform.mail() if code in str(m["Subject"]) and "tiếp nhận" in str(m["Subject"]))
        assert [a.get_filename() for a in receipt.iter_attachments()] == [f"Mau-01-{code}.pdf"]
        inbox = http.get("/api/v1/notifications", headers=bearer)
        assert inbox.status_code == 200
        assert {i["dossier_code"] for i in inbox.json()["items"]} == {code}


def test_the_gateway_keeps_health_and_metrics_private_and_answers_problems(platform: Platform) -> None:
    with httpx.Client(base_url=platform.gateway, timeout=10) as http:
        for path in ("/health/ready", "/metrics"):
            hidden = http.get(path)
            assert hidden.status_code == 404
            assert hidden.headers["content-type"] == "application/problem+json"
        too_large = http.post(
            "/api/v1/dossiers", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "application/json"}
        )
        assert too_large.status_code == 413
        assert too_large.json()["status"] == 413
        docs = http.get("/api/v1/docs")
        assert docs.status_code == 200
        for service in ("intake", "review", "notify", "records"):
            assert f'href="/api/v1/docs/{service}"' in docs.text
            document = http.get(f"/api/v1/docs/{service}/openapi.json")
            assert document.status_code == 200, service
            assert document.json()["info"]["title"] == f"Hoso {service}"
            assert "swagger-ui" in http.get(f"/api/v1/docs/{service}").text
        unauthenticated = http.get("/api/v1/dossiers")
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["content-type"] == "application/problem+json"
    access_log = (platform.state / "gateway" / "access.log").read_text().splitlines()
    assert any('"method":"POST","path":"/api/v1/dossiers","status":413' in line for line in access_log)


def test_every_process_reports_ready_with_its_metrics(platform: Platform) -> None:
    for name, port in (("intake", 18001), ("records", 18004), ("review", 18102), ("notify", 18103), ("portal", 18005)):
        assert httpx.get(f"http://127.0.0.1:{port}/health/ready").json()["status"] == "ok", name
        assert "hoso_http_request_duration_seconds" in httpx.get(f"http://127.0.0.1:{port}/metrics").text


def test_a_service_keeps_an_idle_connection_open_beyond_uvicorns_five_seconds(platform: Platform) -> None:
    # The gateway reuses idle upstream connections for 60 s; a service closing one first turns the next request
    # on it (a POST nginx does not retry) into a 502.
    for name, port in (("intake", 18001), ("portal", 18005)):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/health/live")
            first = connection.getresponse()
            assert (first.status, first.read()) == (200, b'{"status":"ok"}'), name
            opened = connection.sock
            time.sleep(6.5)
            connection.request("GET", "/health/live")  # on the same socket: a closed one fails here or below
            again = connection.getresponse()
            assert again.status == 200, name
            assert again.read() == b'{"status":"ok"}', name
            assert connection.sock is opened, f"{name}: a new connection was opened"
        finally:
            connection.close()


def test_running_up_again_starts_no_second_copy(platform: Platform) -> None:
    before = platform.pids()
    assert len(before) == 10  # four services' api and worker, the portal and the mail sink
    again = platform.run("up")
    assert again.returncode == 0, again.stderr
    assert platform.pids() == before
    assert "already running" in again.stderr


def test_down_stops_every_process_and_up_brings_it_back(platform: Platform) -> None:
    pids = [*platform.pids().values(), int((platform.state / "gateway" / "nginx.pid").read_text())]
    stopped = platform.run("down")
    assert stopped.returncode == 0, stopped.stderr
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
    assert alive == []
    # Up again for the suites that follow: a stopped platform starts cleanly.
    restarted = platform.run("up")
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert len(platform.pids()) == len(pids) - 1
