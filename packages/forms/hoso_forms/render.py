"""Forms as PDF with fpdf2 and the embedded DejaVu Sans font (every Vietnamese letter, subset into the file)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from hoso_forms.models import (
    TITLES,
    ApologyForm,
    ComponentLine,
    FormData,
    ProcessControlForm,
    ReceiptForm,
    RefusalForm,
    SupplementRequestForm,
    TrackingBookForm,
    _Form,
    agency_name,
)

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
LINE = 7.0


def vi_datetime(moment: datetime | None) -> str:
    """`17 giờ 05 phút, ngày 27/11/2026` in Vietnam's time."""
    if moment is None:
        return ""
    local = moment.astimezone(LOCAL)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


def vi_date(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(LOCAL):%d/%m/%Y}"


def _text(value: str) -> str:
    # Composed letters: the font has a glyph for each (ễ, ợ, Đ), so extracted text reads the same as typed text.
    return unicodedata.normalize("NFC", value)


CHANNELS = {"online": "Trực tuyến", "in_person": "Trực tiếp tại Bộ phận Một cửa", "post": "Qua dịch vụ bưu chính"}


class _Document(FPDF):
    def __init__(self, form: _Form, *, landscape: bool = False) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_creation_date(form.issued_at)
        self.set_title(_text(TITLES[form.form]))
        self.set_author(_text(agency_name(form.agency_code)))
        self.set_creator("Hoso")
        self.set_margins(20, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def line_of(self, text: str, *, bold: bool = False, size: float = 11, align: Align = Align.L) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(0, LINE, _text(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def field(self, label: str, value: str) -> None:
        self.set_font(FAMILY, "B", 11)
        self.write(LINE, _text(f"{label}: "))
        self.set_font(FAMILY, "", 11)
        self.multi_cell(0, LINE, _text(value), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def header_block(self, form: _Form) -> None:
        half = (self.w - self.l_margin - self.r_margin) / 2
        top = self.get_y()
        self.set_font(FAMILY, "B", 10)
        self.multi_cell(half, 5, _text(agency_name(form.agency_code).upper()), align=Align.C)
        left_end = self.get_y()
        self.set_xy(self.l_margin + half, top)
        self.multi_cell(half, 5, _text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), align=Align.C)
        self.set_x(self.l_margin + half)
        self.multi_cell(half, 5, _text("Độc lập - Tự do - Hạnh phúc"), align=Align.C)
        self.set_y(max(left_end, self.get_y()) + 3)
        self.set_font(FAMILY, "", 10)
        self.cell(0, 5, _text(f"Mã hồ sơ: {form.dossier_code}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(6)
        self.line_of(TITLES[form.form], bold=True, size=13, align=Align.C)
        self.ln(3)

    def common(self, form: _Form) -> None:
        if form.applicant_name:
            self.field("Tổ chức, cá nhân nộp hồ sơ", form.applicant_name)
        if form.applicant_address:
            self.field("Địa chỉ", form.applicant_address)
        if form.applicant_phone:
            self.field("Số điện thoại", form.applicant_phone)
        if form.applicant_email:
            self.field("Thư điện tử", form.applicant_email)
        if form.channel:
            self.field("Hình thức nộp hồ sơ", CHANNELS[form.channel])
        if form.procedure_name:
            self.field("Thủ tục hành chính", form.procedure_name)

    def items(self, heading: str, entries: Sequence[str]) -> None:
        if not entries:
            return
        self.field(heading, "")
        for number, entry in enumerate(entries, start=1):
            self.line_of(f"{number}. {entry}")

    def signature(self, form: _Form, role: str) -> None:
        self.ln(6)
        half = (self.w - self.l_margin - self.r_margin) / 2
        self.set_x(self.l_margin + half)
        self.set_font(FAMILY, "", 10)
        self.multi_cell(half, 5, _text(f"Ngày {vi_date(form.issued_at)}"), align=Align.C)
        self.set_x(self.l_margin + half)
        self.set_font(FAMILY, "B", 10)
        self.multi_cell(half, 5, _text(role), align=Align.C)
        self.set_x(self.l_margin + half)
        self.set_font(FAMILY, "", 9)
        self.multi_cell(half, 5, _text("(Ký và ghi rõ họ tên)"), align=Align.C)
        if form.officer:
            self.ln(12)
            self.set_x(self.l_margin + half)
            self.set_font(FAMILY, "B", 10)
            self.multi_cell(half, 5, _text(form.officer), align=Align.C)
        if form.officer_title:
            self.set_x(self.l_margin + half)
            self.set_font(FAMILY, "", 10)
            self.multi_cell(half, 5, _text(form.officer_title), align=Align.C)

    def table_of(self, heading: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> None:
        self.set_font(FAMILY, "", 9)
        with self.table(col_widths=tuple(widths), line_height=5, text_align="LEFT", align="LEFT") as table:
            head = table.row()
            for title in heading:
                head.cell(_text(title))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(_text(value))


# Where the result is handed over, by how the dossier came (an applicant who filed online receives it online).
RESULT_PLACES = {
    "online": "Trực tuyến, trên Cổng dịch vụ công (bản điện tử)",
    "in_person": "Bộ phận Một cửa của cơ quan tiếp nhận",
    "post": "Qua dịch vụ bưu chính công ích, tại địa chỉ của tổ chức, cá nhân",
}


def _copies(line: ComponentLine) -> str:
    parts = [f"{line.paper_copies} bản giấy"] if line.paper_copies else []
    if line.files:
        parts.append(f"{line.files} tệp điện tử")
    return ", ".join(parts)


def _receipt(doc: _Document, form: ReceiptForm) -> None:
    doc.field("Số biên nhận", form.receipt_number)
    doc.common(form)
    if form.components:
        doc.field("Thành phần hồ sơ", "")
        rows = [[str(n), c.name, _copies(c)] for n, c in enumerate(form.components, start=1)]
        doc.table_of(["TT", "Tên loại giấy tờ", "Số lượng"], rows, (10, 120, 45))
        doc.ln(2)
    doc.field("Thời gian nhận hồ sơ", vi_datetime(form.received_at))
    doc.field("Thời gian trả kết quả", vi_datetime(form.appointment_at))
    if form.channel:
        doc.field("Nơi nhận kết quả", RESULT_PLACES[form.channel])
    if form.tracking_pin:
        doc.field("Mã tra cứu hồ sơ (giữ bí mật)", form.tracking_pin)
        doc.line_of("Tra cứu tình trạng hồ sơ bằng mã hồ sơ và mã tra cứu trên Cổng dịch vụ công.", size=10)
    doc.signature(form, "NGƯỜI TIẾP NHẬN HỒ SƠ")


def _supplement(doc: _Document, form: SupplementRequestForm) -> None:
    doc.common(form)
    doc.line_of("Sau khi xem xét, hồ sơ của Quý ông/bà cần bổ sung, hoàn thiện các nội dung sau:")
    doc.items("Nội dung yêu cầu bổ sung", form.items)
    if form.reason:
        doc.field("Lý do", form.reason)
    doc.field("Thời hạn bổ sung", vi_datetime(form.supplement_due_at))
    doc.line_of("Quá thời hạn trên mà không bổ sung, hồ sơ sẽ bị từ chối giải quyết.", size=10)
    doc.signature(form, "NGƯỜI HƯỚNG DẪN")


def _refusal(doc: _Document, form: RefusalForm) -> None:
    doc.common(form)
    doc.line_of("Cơ quan tiếp nhận từ chối tiếp nhận, giải quyết hồ sơ với lý do sau:")
    doc.field("Lý do", form.reason)
    doc.line_of("Xin thông báo để Quý ông/bà được biết và thực hiện.", size=10)
    doc.signature(form, "NGƯỜI TIẾP NHẬN HỒ SƠ")


def _apology(doc: _Document, form: ApologyForm) -> None:
    doc.common(form)
    doc.field("Hẹn trả kết quả trước đây", vi_datetime(form.previous_due_at))
    doc.field("Lý do chậm trả kết quả", form.reason)
    doc.line_of("Cơ quan giải quyết hồ sơ xin lỗi Quý ông/bà vì sự chậm trễ này và hẹn lại thời gian trả kết quả:")
    doc.field("Thời gian hẹn trả kết quả mới", vi_datetime(form.new_due_at))
    doc.signature(form, "THỦ TRƯỞNG CƠ QUAN")


def _process_control(doc: _Document, form: ProcessControlForm) -> None:
    doc.common(form)
    doc.field("Thời gian nhận hồ sơ", vi_datetime(form.received_at))
    doc.field("Thời gian hẹn trả kết quả", vi_datetime(form.due_at))
    doc.ln(2)
    rows = [[vi_datetime(s.at), s.step, s.actor, s.note] for s in form.steps]
    doc.table_of(["Thời gian", "Bước xử lý", "Người thực hiện", "Ghi chú"], rows, (45, 50, 35, 45))


def _tracking_book(doc: _Document, form: TrackingBookForm) -> None:
    rows = [
        [
            str(n),
            r.dossier_code,
            r.applicant_name,
            vi_datetime(r.received_at),
            vi_datetime(r.due_at),
            vi_datetime(r.finished_at),
            r.status,
        ]
        for n, r in enumerate(form.rows, start=1)
    ]
    heading = ["TT", "Mã hồ sơ", "Tổ chức, cá nhân", "Nhận hồ sơ", "Hẹn trả", "Trả kết quả", "Tình trạng"]
    doc.table_of(heading, rows, (10, 42, 45, 45, 45, 45, 30))


def render_form(form: FormData) -> bytes:
    """The form as PDF bytes."""
    doc = _Document(form, landscape=isinstance(form, TrackingBookForm))
    doc.header_block(form)
    match form:
        case ReceiptForm():
            _receipt(doc, form)
        case SupplementRequestForm():
            _supplement(doc, form)
        case RefusalForm():
            _refusal(doc, form)
        case ApologyForm():
            _apology(doc, form)
        case ProcessControlForm():
            _process_control(doc, form)
        case TrackingBookForm():
            _tracking_book(doc, form)
    return bytes(doc.output())
