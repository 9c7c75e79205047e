"""Content types from bytes, and a dossier's components and fields checked against its procedure version."""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date

import pytest
from hoso_dev.walkthrough import docx_bytes, pdf_bytes

from hoso.events import PublicStatus
from intake.catalog.seed import load_seed
from intake.domain.catalog import version_in_force
from intake.domain.content import UnrecognisedContent, detect_content_type
from intake.domain.lifecycle import ApplicantAction, allowed_actions
from intake.domain.submission import FileFacts, check_components, check_fields
from intake.files import display_name

PERMIT = version_in_force(load_seed(), "MT-GPMT-TINH", date(2026, 11, 27))
PDF, DOCX = "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (pdf_bytes(), PDF),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 32, "image/jpeg"),
        (docx_bytes(), DOCX),
        (xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_the_type_comes_from_the_bytes(data: bytes, expected: str) -> None:
    assert detect_content_type(data) == expected


@pytest.mark.parametrize(
    "data", [b"MZ\x90\x00\x03 an executable", b"plain text, named report.pdf", b"PK\x03\x04broken"]
)
def test_other_content_is_refused(data: bytes) -> None:
    with pytest.raises(UnrecognisedContent):
        detect_content_type(data)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\a\\đơn đề nghị.pdf", "đơn đề nghị.pdf"),
        ("", "file"),
        ("..", "file"),
    ],
)
def test_a_file_name_never_carries_a_path(given: str, shown: str) -> None:
    assert display_name(given) == shown


def facts(
    file_id: str, content_type: str = PDF, *, owner: str = "me", size: int = 1000, dossier: str | None = None
) -> FileFacts:
    return FileFacts(file_id, owner, content_type, size, dossier)


def test_a_complete_dossier_has_no_findings() -> None:
    files = {"a": facts("a"), "b": facts("b", DOCX)}
    assert check_components(PERMIT, {"request_letter": ["a"], "proposal_report": ["b"]}, files, applicant_id="me") == []
    assert check_fields(PERMIT, {"province": "HN", "facility_name": "Nhà máy"}) == []


def test_every_component_problem_is_found_at_once() -> None:
    files = {"a": facts("a", DOCX), "b": facts("b", owner="someone"), "c": facts("c", size=10**9)}
    findings = check_components(
        PERMIT, {"request_letter": ["a"], "proposal_report": ["b", "c"], "photo": []}, files, applicant_id="me"
    )
    assert [(f.field, f.message.split(":")[0].split(";")[0]) for f in findings] == [
        ("components.photo", "not a component of MT-GPMT-TINH"),
        ("components.request_letter.a", f"its content is {DOCX}"),
        ("components.proposal_report.b", "no such file of yours"),
        ("components.proposal_report.c", "1000000000 bytes exceeds the limit of 104857600 bytes"),
    ]


def test_a_missing_required_component_and_a_file_of_another_dossier_are_found() -> None:
    files = {"a": facts("a", dossier="other-dossier")}
    findings = check_components(PERMIT, {"request_letter": ["a"]}, files, applicant_id="me")
    assert {f.field for f in findings} == {"components.request_letter.a", "components.proposal_report"}


def test_a_supplement_need_not_repeat_every_required_component() -> None:
    files = {"b": facts("b", DOCX, dossier="d1")}
    assert (
        check_components(PERMIT, {"proposal_report": ["b"]}, files, applicant_id="me", dossier_id="d1", complete=False)
        == []
    )


def test_fields_are_checked_by_type_choice_and_presence() -> None:
    findings = check_fields(PERMIT, {"province": "Mars", "unknown": 1})
    assert [f.field for f in findings] == ["fields.unknown", "fields.province", "fields.facility_name"]


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (PublicStatus.NEW, [ApplicantAction.WITHDRAW]),
        (PublicStatus.SUPPLEMENT_REQUESTED, [ApplicantAction.SUPPLEMENT, ApplicantAction.WITHDRAW]),
        (PublicStatus.AWAITING_FEE, [ApplicantAction.WITHDRAW, ApplicantAction.PAY_FEE]),
        (PublicStatus.PROCESSED, []),
        (PublicStatus.NOT_RECEIVED, []),
    ],
)
def test_what_an_applicant_may_do_depends_on_the_status(status: PublicStatus, actions: list[ApplicantAction]) -> None:
    assert allowed_actions(status) == actions


def test_the_type_of_a_spooled_upload_is_read_from_its_first_bytes_and_the_file_is_left_at_its_start() -> None:
    for content, expected in ((docx_bytes(), DOCX), (pdf_bytes("Báo cáo") + b"x" * 100_000, PDF)):
        with tempfile.SpooledTemporaryFile(max_size=1024) as upload:
            upload.write(content)
            assert detect_content_type(upload) == expected
            assert upload.tell() == 0
