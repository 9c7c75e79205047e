"""Logs are JSON with context, and personal data never reaches them."""

from __future__ import annotations

import json

import pytest
import structlog

from hoso.logs import configure_logging, get_logger, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("mail an.nguyen@example.vn now", "mail a***@example.vn now"),
        ("call 0912345678", "call ***8"),
        ("call +84 912 345 678", "call ***8"),
        ("CCCD 001099012345", "CCCD *********345"),
        ("CMND 123456789", "CMND ******789"),
    ],
)
def test_personal_data_is_masked(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


def test_dossier_codes_and_dates_are_not_mistaken_for_personal_data() -> None:
    text = "dossier BNNMT-261127-0001 due 2026-12-01"
    assert mask_text(text) == text


def test_log_lines_are_json_with_service_context_and_masking(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("intake")
    with structlog.contextvars.bound_contextvars(request_id="r-1", dossier_code="BNNMT-261127-0001"):
        get_logger("t").info("dossier.submitted", applicant={"email": "an@example.vn", "phone": "0912345678"})
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["service"] == "intake"
    assert line["request_id"] == "r-1"
    assert line["dossier_code"] == "BNNMT-261127-0001"
    assert line["applicant"] == {"email": "a***@example.vn", "phone": "***8"}
    assert line["level"] == "info"
