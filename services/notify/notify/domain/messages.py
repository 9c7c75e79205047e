"""Rendering one message from a template, an event and what notify knows of the dossier; sample data for previews."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from hoso.events.catalog import EventData
from notify.domain.catalog import Template, _unwrap, environment


class DossierFacts(BaseModel):
    """What templates may read of the dossier (`dossier.*`)."""

    model_config = ConfigDict(frozen=True)

    code: str
    procedure_name: str = ""
    agency_name: str = ""
    applicant_name: str = ""
    tracking_pin: str | None = None


class RecipientFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = ""


class Rendered(BaseModel):
    model_config = ConfigDict(frozen=True)

    template: str
    template_version: int
    language: str
    subject: str
    body: str


def render(
    template: Template, language: str, payload: EventData, dossier: DossierFacts, recipient: RecipientFacts
) -> Rendered:
    chosen, text = template.text(language)
    env = environment(chosen)
    context = {"event": payload, "dossier": dossier, "recipient": recipient}
    subject = env.from_string(text.subject).render(context) if text.subject else ""
    body = env.from_string(text.body).render(context)
    return Rendered(
        template=str(template.key),
        template_version=template.version,
        language=chosen,
        subject=" ".join(subject.split()),
        body=body.strip() + "\n",
    )


# --- sample data for template previews --------------------------------------------------------------------------

SAMPLE_TIME = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)
SAMPLE_VALUES: dict[str, Any] = {
    "dossier_id": "7d0c6a52-0f6e-4d3e-9a31-3f2b1c9e8a10",
    "dossier_code": "BNNMT-261127-0001",
    "procedure_code": "MT-DTM-BO",
    "agency_code": "BNNMT",
    "receipt_number": "BNNMT-261127-0001/TN",
    "reason": "Hồ sơ thiếu bản đồ vị trí dự án",
    "items": ["Bản đồ vị trí dự án tỷ lệ 1:10.000", "Ý kiến tham vấn cộng đồng dân cư"],
    "payment_reference": "PAY-20261127-0001",
    "decision_number": "1234/QĐ-BNNMT",
    "package_sha256": "3f" * 32,
    "chain_head": "9c" * 32,
    "sha256": "5e" * 32,
    "text_sha256": "7a" * 32,
}


def _sample_value(name: str, annotation: Any) -> Any:
    if name in SAMPLE_VALUES:
        return SAMPLE_VALUES[name]
    inner = _unwrap(annotation)
    if get_origin(annotation) is list:
        return [_sample_value(name, inner)]
    if get_origin(inner) is Literal:
        return get_args(inner)[0]
    if isinstance(inner, type):
        if issubclass(inner, BaseModel):
            return _sample_fields(inner)
        if issubclass(inner, Enum):
            return next(iter(inner)).value
        if issubclass(inner, datetime):
            return SAMPLE_TIME
        if issubclass(inner, bool):
            return True
        if issubclass(inner, int | Decimal | float):
            return 5_000_000 if name in {"amount", "fee_vnd"} else 1
        if issubclass(inner, str):
            return f"<{name}>"
    return None


def _sample_fields(model: type[BaseModel]) -> dict[str, Any]:
    return {
        name: _sample_value(name, field.annotation)
        for name, field in model.model_fields.items()
        if field.is_required() or name in SAMPLE_VALUES
    }


def sample_payload(model: type[EventData]) -> EventData:
    """A payload of `model` with plausible values in its required fields, to preview templates."""
    return model.model_validate(_sample_fields(model))


SAMPLE_DOSSIER = DossierFacts(
    code="BNNMT-261127-0001",
    procedure_name="Thẩm định báo cáo đánh giá tác động môi trường",
    agency_name="Bộ Nông nghiệp và Môi trường",
    applicant_name="Công ty Cổ phần Đầu tư Hưng Thịnh",
    tracking_pin="12345678",
)
SAMPLE_RECIPIENT = RecipientFacts(name="Nguyễn Văn Ánh")
