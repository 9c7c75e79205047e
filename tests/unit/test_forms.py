"""The forms of Circular 01/2018 as PDF: Vietnamese text survives extraction, rendering is deterministic."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pypdf
import pytest
from hoso_forms import (
    ApologyForm,
    ControlStep,
    FormData,
    ProcessControlForm,
    ReceiptForm,
    RefusalForm,
    SupplementRequestForm,
    TrackingBookForm,
    TrackingRow,
    form_for_event,
    render_form,
)

from hoso.events import PublicStatus
from hoso.events.catalog import DossierDeadlineExtended, DossierRefused

AT = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
COMMON = {"agency_code": "BNNMT", "dossier_code": "BNNMT-261127-0007", "issued_at": AT}
APPLICANT = "Công ty Cổ phần Đầu tư Hưng Thịnh"

FORMS: list[tuple[FormData, list[str]]] = [
    (
        ReceiptForm(**COMMON, applicant_name=APPLICANT, receipt_number="BNNMT-261127-0007/TN", received_at=AT,
                    appointment_at=AT + timedelta(days=45), tracking_pin="40717263",
                    components=["Báo cáo đánh giá tác động môi trường"]),
        ["GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "17 giờ 05 phút, ngày 27/11/2026", "11/01/2027", "40717263",
         "Báo cáo đánh giá tác động môi trường", APPLICANT],
    ),
    (
        SupplementRequestForm(**COMMON, items=["Bản đồ vị trí dự án tỷ lệ 1:10.000"], supplement_due_at=AT),
        ["PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "Bản đồ vị trí dự án tỷ lệ 1:10.000"],
    ),
    (RefusalForm(**COMMON, reason="Hồ sơ không thuộc thẩm quyền giải quyết"),
     ["PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ", "Hồ sơ không thuộc thẩm quyền giải quyết"]),
    (ApologyForm(**COMMON, reason="Hội đồng thẩm định họp lại", previous_due_at=AT, new_due_at=AT + timedelta(days=7)),
     ["PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Hội đồng thẩm định họp lại", "04/12/2026"]),
    (ProcessControlForm(**COMMON, steps=[ControlStep(at=AT, step="Tiếp nhận hồ sơ", actor="Trần Thị Bình")]),
     ["PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", "Tiếp nhận hồ sơ", "Trần Thị Bình"]),
    (TrackingBookForm(**COMMON, rows=[TrackingRow(dossier_code="BNNMT-261127-0007", applicant_name="Lê Thị Hồng")]),
     ["SỔ THEO DÕI HỒ SƠ", "Lê Thị Hồng"]),
]  # fmt: skip


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(("form", "expected"), FORMS, ids=[f.form.value for f, _ in FORMS])
def test_each_form_carries_its_title_the_dossier_code_and_vietnamese_text(form: FormData, expected: list[str]) -> None:
    pdf = render_form(form)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for phrase in [*expected, "BNNMT-261127-0007", "BỘ NÔNG NGHIỆP VÀ MÔI TRƯỜNG", "Độc lập - Tự do - Hạnh phúc"]:
        assert phrase in " ".join(text.split()), phrase
    assert b"DejaVu" in pdf  # the font is embedded


def test_rendering_is_deterministic_and_depends_on_the_data() -> None:
    form = FORMS[0][0]
    assert render_form(form) == render_form(form)
    assert render_form(form) != render_form(form.model_copy(update={"tracking_pin": "11111111"}))


def test_events_give_their_form() -> None:
    base = {"dossier_id": "d", "dossier_code": "BNNMT-261127-0007", "procedure_code": "MT-DTM-BO",
            "agency_code": "BNNMT", "actor_id": "leader-1"}  # fmt: skip
    refused = DossierRefused(**base, status_code=PublicStatus.NOT_RECEIVED, reason="Sai thẩm quyền")
    form = form_for_event(refused, issued_at=AT, applicant_name=APPLICANT)
    assert isinstance(form, RefusalForm)
    assert form.reason == "Sai thẩm quyền"
    extended = DossierDeadlineExtended(
        **base, status_code=PublicStatus.PROCESSING, reason="Chờ ý kiến", previous_due_at=AT, new_due_at=AT
    )
    assert isinstance(form_for_event(extended, issued_at=AT), ApologyForm)


def test_a_form_names_how_a_paper_dossier_came() -> None:
    form = ProcessControlForm(
        agency_code="BNNMT",
        dossier_code="BNNMT-261202-0003",
        procedure_name="Thẩm định báo cáo đánh giá tác động môi trường",
        applicant_name="Nguyễn Văn Bình",
        channel="post",
        issued_at=datetime(2026, 12, 2, 9, tzinfo=UTC),
    )
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(render_form(form))).pages)
    assert "Hình thức nộp hồ sơ" in text
    assert "Qua dịch vụ bưu chính" in text
