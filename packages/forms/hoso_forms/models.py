"""What each form says: one pydantic model per form, built by notify from events and by records from its timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class FormCode(StrEnum):
    """The forms of Circular 01/2018/TT-VPCP, Appendix (numbers as the circular gives them)."""

    RECEIPT = "01"
    SUPPLEMENT_REQUEST = "02"
    REFUSAL = "03"
    APOLOGY = "04"
    PROCESS_CONTROL = "05"
    TRACKING_BOOK = "06"


TITLES: dict[FormCode, str] = {
    FormCode.RECEIPT: "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    FormCode.SUPPLEMENT_REQUEST: "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    FormCode.REFUSAL: "PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ",
    FormCode.APOLOGY: "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
    FormCode.PROCESS_CONTROL: "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
    FormCode.TRACKING_BOOK: "SỔ THEO DÕI HỒ SƠ",
}

AGENCY_NAMES: dict[str, str] = {
    "BTNMT": "Bộ Tài nguyên và Môi trường",
    "BNNMT": "Bộ Nông nghiệp và Môi trường",
    "UBND.HN": "Ủy ban nhân dân thành phố Hà Nội",
    "UBND.HCM": "Ủy ban nhân dân Thành phố Hồ Chí Minh",
    "UBND.HP": "Ủy ban nhân dân thành phố Hải Phòng",
    "UBND.DN": "Ủy ban nhân dân thành phố Đà Nẵng",
    "UBND.CT": "Ủy ban nhân dân thành phố Cần Thơ",
    "UBND.HUE": "Ủy ban nhân dân thành phố Huế",
    "UBND.LCH": "Ủy ban nhân dân tỉnh Lai Châu",
    "UBND.DBI": "Ủy ban nhân dân tỉnh Điện Biên",
    "UBND.SLA": "Ủy ban nhân dân tỉnh Sơn La",
    "UBND.LSO": "Ủy ban nhân dân tỉnh Lạng Sơn",
    "UBND.QNI": "Ủy ban nhân dân tỉnh Quảng Ninh",
    "UBND.THO": "Ủy ban nhân dân tỉnh Thanh Hóa",
    "UBND.NAN": "Ủy ban nhân dân tỉnh Nghệ An",
    "UBND.HTI": "Ủy ban nhân dân tỉnh Hà Tĩnh",
    "UBND.CBA": "Ủy ban nhân dân tỉnh Cao Bằng",
    "UBND.TQU": "Ủy ban nhân dân tỉnh Tuyên Quang",
    "UBND.LCA": "Ủy ban nhân dân tỉnh Lào Cai",
    "UBND.TNG": "Ủy ban nhân dân tỉnh Thái Nguyên",
    "UBND.PTH": "Ủy ban nhân dân tỉnh Phú Thọ",
    "UBND.BNI": "Ủy ban nhân dân tỉnh Bắc Ninh",
    "UBND.HYE": "Ủy ban nhân dân tỉnh Hưng Yên",
    "UBND.NBI": "Ủy ban nhân dân tỉnh Ninh Bình",
    "UBND.QTR": "Ủy ban nhân dân tỉnh Quảng Trị",
    "UBND.QNG": "Ủy ban nhân dân tỉnh Quảng Ngãi",
    "UBND.GLA": "Ủy ban nhân dân tỉnh Gia Lai",
    "UBND.KHO": "Ủy ban nhân dân tỉnh Khánh Hòa",
    "UBND.LDO": "Ủy ban nhân dân tỉnh Lâm Đồng",
    "UBND.DLA": "Ủy ban nhân dân tỉnh Đắk Lắk",
    "UBND.DNA": "Ủy ban nhân dân tỉnh Đồng Nai",
    "UBND.TNI": "Ủy ban nhân dân tỉnh Tây Ninh",
    "UBND.VLO": "Ủy ban nhân dân tỉnh Vĩnh Long",
    "UBND.DTH": "Ủy ban nhân dân tỉnh Đồng Tháp",
    "UBND.CMA": "Ủy ban nhân dân tỉnh Cà Mau",
    "UBND.AGI": "Ủy ban nhân dân tỉnh An Giang",
}


def agency_name(code: str) -> str:
    return AGENCY_NAMES.get(code, code)


Channel = Literal["online", "in_person", "post"]


class ComponentLine(BaseModel):
    """One component of a dossier as the receipt lists it: its name, the paper copies asked for, the files sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    paper_copies: int | None = None
    files: int = 0


class FormDossier(BaseModel):
    """What the forms say of a dossier besides the event: the procedure, the applicant and their contact, how it came
    and its components. Notify and records build it from what they keep of the dossier's submission."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    procedure_name: str = ""
    applicant_name: str = ""
    applicant_email: str = ""
    applicant_phone: str = ""
    applicant_address: str = ""
    channel: Channel | None = None
    components: list[ComponentLine] = Field(default_factory=list)

    @classmethod
    def of(
        cls,
        *,
        procedure_name: str,
        applicant_name: str,
        contact: Mapping[str, str | None],
        channel: Channel | None,
        components: Sequence[Mapping[str, Any]],
    ) -> FormDossier:
        """From a submission's fields as kept: `components` as `dossier.submitted` carries them (dumped)."""
        return cls(
            procedure_name=procedure_name,
            applicant_name=applicant_name,
            applicant_email=contact.get("email") or "",
            applicant_phone=contact.get("phone") or "",
            applicant_address=contact.get("address") or "",
            channel=channel,
            components=[
                ComponentLine(name=c.get("name") or c["code"], paper_copies=c.get("paper_copies"),
                              files=len(c.get("file_ids") or ()))
                for c in components
            ],
        )  # fmt: skip


class _Form(BaseModel):
    """What every form shows: the agency, the dossier and the applicant, and when the form was issued."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    form: FormCode
    agency_code: str = Field(min_length=1)
    dossier_code: str = Field(min_length=1)
    procedure_name: str = ""
    applicant_name: str = ""
    applicant_email: str = ""
    applicant_phone: str = ""
    applicant_address: str = ""
    channel: Channel | None = Field(
        default=None, description="How the dossier came: online, in person at the desk, by post"
    )
    issued_at: datetime
    officer: str = Field(default="", description="The officer who signs, by name")
    officer_title: str = Field(default="", description="Their position")


class ReceiptForm(_Form):
    form: Literal[FormCode.RECEIPT] = FormCode.RECEIPT
    receipt_number: str = Field(min_length=1)
    received_at: datetime
    appointment_at: datetime
    tracking_pin: str | None = Field(default=None, description="Printed once, on the applicant's copy")
    components: list[ComponentLine] = Field(default_factory=list)


class SupplementRequestForm(_Form):
    form: Literal[FormCode.SUPPLEMENT_REQUEST] = FormCode.SUPPLEMENT_REQUEST
    items: list[str] = Field(min_length=1)
    reason: str = ""
    supplement_due_at: datetime


class RefusalForm(_Form):
    form: Literal[FormCode.REFUSAL] = FormCode.REFUSAL
    reason: str = Field(min_length=1)


class ApologyForm(_Form):
    form: Literal[FormCode.APOLOGY] = FormCode.APOLOGY
    reason: str = Field(min_length=1)
    previous_due_at: datetime
    new_due_at: datetime


class ControlStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    step: str
    actor: str = ""
    note: str = ""


class ProcessControlForm(_Form):
    form: Literal[FormCode.PROCESS_CONTROL] = FormCode.PROCESS_CONTROL
    received_at: datetime | None = None
    due_at: datetime | None = None
    steps: list[ControlStep] = Field(default_factory=list)


class TrackingRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    dossier_code: str
    applicant_name: str = ""
    received_at: datetime | None = None
    due_at: datetime | None = None
    status: str = ""
    finished_at: datetime | None = None


class TrackingBookForm(_Form):
    form: Literal[FormCode.TRACKING_BOOK] = FormCode.TRACKING_BOOK
    rows: list[TrackingRow] = Field(default_factory=list)


FormData = Annotated[
    ReceiptForm | SupplementRequestForm | RefusalForm | ApologyForm | ProcessControlForm | TrackingBookForm,
    Field(discriminator="form"),
]
