"""The forms of Circular 01/2018 as PDF: Vietnamese text survives extraction, rendering is deterministic."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pypdf
import pytest
from hoso_forms import (
    ApologyForm,
    ComponentLine,
    ControlStep,
    FormData,
    FormDossier,
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
        ReceiptForm(**COMMON, applicant_name=APPLICANT, applicant_address="Số 5 đường Hòa Bình, tỉnh Phú Thọ",
                    receipt_number="BNNMT-261127-0007/TN", received_at=AT,
                    appointment_at=AT + timedelta(days=45), tracking_pin="40717263",
                    components=[ComponentLine(name="Báo cáo đánh giá tác động môi trường", paper_copies=7, files=1)],
                    officer="Trần Thị Bình", officer_title="Chuyên viên Bộ phận Một cửa", channel="in_person"),
        ["GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "17 giờ 05 phút, ngày 27/11/2026", "11/01/2027", "40717263",
         "Báo cáo đánh giá tác động môi trường", "7 bản giấy, 1 tệp điện tử", APPLICANT, "Trần Thị Bình",
         "Chuyên viên Bộ phận Một cửa", "Nơi nhận kết quả: Bộ phận Một cửa của cơ quan tiếp nhận",
         "Địa chỉ: Số 5 đường Hòa Bình, tỉnh Phú Thọ"],
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
            "agency_code": "BNNMT", "actor_id": "leader-1", "actor_name": "Phạm Thu Dung",
            "actor_title": "Phó Cục trưởng"}  # fmt: skip
    dossier = FormDossier(applicant_name=APPLICANT, applicant_phone="+84 24 3773 0001")
    refused = DossierRefused(**base, status_code=PublicStatus.NOT_RECEIVED, reason="Sai thẩm quyền")
    form = form_for_event(refused, issued_at=AT, dossier=dossier)
    assert isinstance(form, RefusalForm)
    assert (form.reason, form.applicant_phone) == ("Sai thẩm quyền", "+84 24 3773 0001")
    assert (form.officer, form.officer_title) == ("Phạm Thu Dung", "Phó Cục trưởng")  # signed by name, not by id
    extended = DossierDeadlineExtended(
        **base, status_code=PublicStatus.PROCESSING, reason="Chờ ý kiến", previous_due_at=AT, new_due_at=AT
    )
    assert isinstance(form_for_event(extended, issued_at=AT, dossier=dossier), ApologyForm)
    # The Prime Minister's extension of an EIA appraisal (Law 72/2020 Art. 34(6)(d)) is no apology: no Form 04.
    granted = extended.model_copy(update={"granted_by": "Thủ tướng Chính phủ", "decision_number": "1520/QĐ-TTg"})
    assert form_for_event(granted, issued_at=AT, dossier=dossier) is None
    by_timer = refused.model_copy(update={"actor_id": "system", "actor_name": "", "actor_title": ""})
    assert (form_for_event(by_timer, issued_at=AT, dossier=dossier) or form).officer == ""


def test_a_submission_s_components_are_listed_by_name_with_their_copies() -> None:
    dossier = FormDossier.of(
        procedure_name="Thẩm định báo cáo đánh giá tác động môi trường",
        applicant_name=APPLICANT,
        contact={"email": "lienhe@hungthinh.vn", "phone": None, "address": "Lô A2, khu công nghiệp Thăng Long"},
        channel="online",
        components=[
            {"code": "request_letter", "name": "Văn bản đề nghị thẩm định", "paper_copies": 1, "file_ids": ["f-1"]},
            {"code": "eia_report", "name": "", "file_ids": []},
        ],
    )
    assert dossier.components == [
        ComponentLine(name="Văn bản đề nghị thẩm định", paper_copies=1, files=1),
        ComponentLine(name="eia_report", paper_copies=None, files=0),
    ]
    assert (dossier.applicant_email, dossier.applicant_phone) == ("lienhe@hungthinh.vn", "")
    assert dossier.applicant_address == "Lô A2, khu công nghiệp Thăng Long"


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
