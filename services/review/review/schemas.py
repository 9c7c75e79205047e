"""Response bodies of review's HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hoso.events import PublicStatus
from hoso.mongo import Document


class WorkflowOut(BaseModel):
    dossier_id: str
    code: str
    agency_code: str
    procedure_code: str
    state: str
    status_code: PublicStatus
    opened_at: datetime

    @classmethod
    def of(cls, doc: Document) -> WorkflowOut:
        return cls(dossier_id=doc["_id"], **{k: doc[k] for k in cls.model_fields if k != "dossier_id"})
