"""Request and response bodies of intake's HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hoso.events import PublicStatus, status_label
from hoso.mongo import Document
from intake.domain.codes import AGENCY_CODE_PATTERN

FieldValue = str | int | float | bool | None
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]


class ComponentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    file_ids: list[str] = Field(default_factory=list, max_length=50)


class SubmitDossier(BaseModel):
    """A dossier submission: the procedure, the competent agency, its components and extra fields."""

    model_config = ConfigDict(extra="forbid")

    procedure_code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    agency_code: str = Field(max_length=64, pattern=AGENCY_CODE_PATTERN)
    applicant_kind: Literal["citizen", "organisation"] = "citizen"
    components: list[ComponentIn] = Field(default_factory=list, max_length=50)
    fields: dict[FieldName, FieldValue] = Field(default_factory=dict, max_length=100)


class StatusOut(BaseModel):
    code: PublicStatus
    label_vi: str
    label_en: str

    @classmethod
    def of(cls, code: int) -> StatusOut:
        status = PublicStatus(code)
        return cls(code=status, label_vi=status_label(status, "vi"), label_en=status_label(status, "en"))


class DossierOut(BaseModel):
    id: str
    code: str
    procedure_code: str
    procedure_version: str
    agency_code: str
    submitted_at: datetime
    status: StatusOut

    @classmethod
    def of(cls, doc: Document) -> DossierOut:
        return cls(
            id=doc["_id"],
            code=doc["code"],
            procedure_code=doc["procedure_code"],
            procedure_version=doc["procedure_version"],
            agency_code=doc["agency_code"],
            submitted_at=doc["submitted_at"],
            status=StatusOut.of(doc["status_code"]),
        )


class DossierPage(BaseModel):
    items: list[DossierOut]
    offset: int
    limit: int
