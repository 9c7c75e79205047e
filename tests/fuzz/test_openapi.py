"""Schemathesis against every service's OpenAPI document, straight to the service and through the gateway: no answer
is a 5xx, and every 4xx is application/problem+json."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hoso_dev.keys import mint_token
from hypothesis import HealthCheck, settings
from schemathesis.generation.case import Case

from hoso.auth import Role
from tests.platform import GATEWAY_PORT, ROOT, Platform

pytestmark = pytest.mark.fuzz

EXAMPLES = 12
# Every role but admin (so no procedure version is published by chance), in the agency the other suites use.
ROLES = [Role.APPLICANT, Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER, Role.OPS]
PORTS = {"intake": 18001, "review": 18002, "notify": 18003, "records": 18004}
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)

intake = schemathesis.openapi.from_path(ROOT / "docs/openapi/intake.json")
review = schemathesis.openapi.from_path(ROOT / "docs/openapi/review.json")
notify = schemathesis.openapi.from_path(ROOT / "docs/openapi/notify.json")
records = schemathesis.openapi.from_path(ROOT / "docs/openapi/records.json")


@pytest.fixture(scope="module")
def headers(platform: Platform) -> dict[str, str]:
    token = mint_token(
        platform.state, subject="fuzzer", roles=ROLES, agency="BNNMT", issuer="hoso-local", audience="hoso"
    )
    return {"Authorization": f"Bearer {token}"}


def exercise(case: Case, service: str, via: str, headers: dict[str, str]) -> None:
    port = GATEWAY_PORT if via == "gateway" else PORTS[service]
    response = case.call(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30)
    # Some answers are files (a workbook, a PDF): what they begin with, as text where it is text.
    start = response.content[:300].decode("utf-8", errors="replace")
    where = f"{case.method} {case.formatted_path} via {via}: {response.status_code} {start}"
    assert response.status_code < 500, where
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type") or [""]
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), where
        body: Any = response.json()
        assert body["status"] == response.status_code, where
        assert body.get("title"), where


VIA = pytest.mark.parametrize("via", ["direct", "gateway"])


@intake.parametrize()
@VIA
@FUZZ_SETTINGS
def test_intake(case: Case, via: str, headers: dict[str, str]) -> None:
    exercise(case, "intake", via, headers)


@review.parametrize()
@VIA
@FUZZ_SETTINGS
def test_review(case: Case, via: str, headers: dict[str, str]) -> None:
    exercise(case, "review", via, headers)


@notify.parametrize()
@VIA
@FUZZ_SETTINGS
def test_notify(case: Case, via: str, headers: dict[str, str]) -> None:
    exercise(case, "notify", via, headers)


@records.parametrize()
@VIA
@FUZZ_SETTINGS
def test_records(case: Case, via: str, headers: dict[str, str]) -> None:
    exercise(case, "records", via, headers)
