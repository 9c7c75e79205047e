"""Intake's procedure catalog in MongoDB: versions keyed by (procedure, version), never rewritten once used."""

from __future__ import annotations

from datetime import date, datetime

from hoso.mongo import Document, IndexSpec, bson_now
from hoso.store import Order, Store
from intake.domain.catalog import ProcedureVersion, check_versions

PROCEDURES = "procedures"

CATALOG_INDEXES = [IndexSpec(PROCEDURES, [("procedure_code", 1), ("effective_from", 1)], name="code_from")]


class VersionExists(Exception):
    pass


def _doc_id(version: ProcedureVersion) -> str:
    return f"{version.procedure_code}@{version.version}"


def _to_document(version: ProcedureVersion, *, published_by: str, published_at: datetime) -> Document:
    body = version.model_dump(mode="json")
    return {
        "_id": _doc_id(version),
        "procedure_code": version.procedure_code,
        "effective_from": version.effective_from.isoformat(),
        "version": body,
        "published_by": published_by,
        "published_at": published_at,
    }


IN_EFFECT_ORDER = Order([("effective_from", 1)])


class CatalogStore:
    def __init__(self, store: Store) -> None:
        self.collection = store.table(PROCEDURES)

    async def seed(self, versions: list[ProcedureVersion]) -> int:
        """Insert the versions that are not there yet; returns how many were added."""
        added = 0
        now = bson_now()
        for version in versions:
            if await self.collection.insert(_to_document(version, published_by="seed", published_at=now)):
                added += 1
        return added

    async def all_versions(self) -> list[ProcedureVersion]:
        return [ProcedureVersion.model_validate(d["version"]) for d in await self.collection.find({})]

    async def versions_of(self, code: str) -> list[ProcedureVersion]:
        found = await self.collection.find({"procedure_code": code}, order=IN_EFFECT_ORDER)
        return [ProcedureVersion.model_validate(d["version"]) for d in found]

    async def get(self, code: str, version: str) -> ProcedureVersion | None:
        doc = await self.collection.get(f"{code}@{version}")
        return ProcedureVersion.model_validate(doc["version"]) if doc else None

    async def publish(self, version: ProcedureVersion, *, published_by: str) -> ProcedureVersion | None:
        """Add a version; an open-ended earlier version is ended the day before. Returns the version it ended."""
        existing = await self.versions_of(version.procedure_code)
        ended = _end_previous(existing, version)
        check_versions(_merged(existing, ended, version))
        document = _to_document(version, published_by=published_by, published_at=bson_now())
        if not await self.collection.insert(document):
            raise VersionExists(f"{version.procedure_code} version {version.version} exists already")
        if ended is not None and ended.effective_to is not None:
            await self.collection.update(
                _doc_id(ended), {"$set": {"version.effective_to": ended.effective_to.isoformat()}}
            )
        return ended


def _end_previous(existing: list[ProcedureVersion], new: ProcedureVersion) -> ProcedureVersion | None:
    open_ended = [v for v in existing if v.effective_to is None and v.effective_from < new.effective_from]
    if not open_ended:
        return None
    previous = open_ended[-1]
    return previous.model_copy(update={"effective_to": date.fromordinal(new.effective_from.toordinal() - 1)})


def _merged(
    existing: list[ProcedureVersion], ended: ProcedureVersion | None, new: ProcedureVersion
) -> list[ProcedureVersion]:
    replaced = [ended if ended is not None and v.version == ended.version else v for v in existing]
    return [*replaced, new]
