"""Archive hand-over: build the package of an ended dossier, store it, give it to the document-management system.

Exporters: a drop folder (the package written atomically under its name) or an HTTP POST of the ZIP (with an
`Idempotency-Key` of the package id). Each attempt is claimed through the archive's versioned document, so two
workers never export at once; a failed attempt is tried again with backoff until the DMS accepts, and
`dossier.archived` is emitted once, with the accepting step.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import httpx

from hoso.events import EventType, PublicStatus, new_event
from hoso.events.catalog import DossierArchived
from hoso.faults import is_transient
from hoso.logs import get_logger
from hoso.mongo import Document, bson_now
from hoso.steps import Step
from hoso.topics import DOSSIER_EVENTS
from records.domain.documents import build_package, sha256
from records.repository import RecordsRepository

log = get_logger(__name__)


class ExportRefused(Exception):
    """The document-management system did not take the package (this time)."""


class Exporter(Protocol):
    @property
    def name(self) -> str: ...

    async def export(self, package_id: str, filename: str, content: bytes) -> str:
        """Hand the package over; returns the receiving system's reference, raises ExportRefused."""
        ...


@dataclass(frozen=True)
class DropFolderExporter:
    folder: Path
    name: str = "folder"

    async def export(self, package_id: str, filename: str, content: bytes) -> str:
        def write() -> str:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / filename
            tmp = self.folder / f".{filename}.{os.getpid()}.tmp"
            tmp.write_bytes(content)
            os.replace(tmp, target)
            return str(target)

        try:
            return await asyncio.to_thread(write)
        except OSError as exc:
            raise ExportRefused(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class HttpExporter:
    url: str
    token: str | None = None
    timeout: float = 60.0
    name: str = "http"

    async def export(self, package_id: str, filename: str, content: bytes) -> str:
        headers = {
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Idempotency-Key": package_id,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise ExportRefused(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise ExportRefused(f"HTTP {response.status_code}: {response.text[:200]}")
        with contextlib.suppress(ValueError, KeyError, TypeError):
            return str(response.json()["id"])
        return f"HTTP {response.status_code}"


@dataclass(frozen=True)
class ArchivePolicy:
    base_seconds: float
    max_seconds: float
    lease_seconds: float


def open_archive(summary: Document, up_to_sequence: int, now: object) -> Step:
    return Step(
        fields={
            "dossier_code": summary["code"],
            "agency_code": summary["agency_code"],
            "procedure_code": summary["procedure_code"],
            "status_code": summary["status_code"],
            "up_to_sequence": up_to_sequence,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
        record={"state": "pending", "at": now},
    )


def package_name(doc: Document) -> str:
    return f"{doc['dossier_code']}.zip"


@dataclass
class Archiver:
    repo: RecordsRepository
    exporter: Exporter
    policy: ArchivePolicy
    interval_seconds: float

    async def on_ended(self, summary: Document, ending_event_id: str) -> None:
        """An ended dossier gets its archive, once: the package covers its timeline up to the ending event."""
        entry = await self.repo.timeline.get(ending_event_id, projection={"sequence": 1})
        assert entry is not None
        now = bson_now()
        await self.repo.archives.transact(
            summary["_id"], lambda doc: None if doc is not None else open_archive(summary, entry["sequence"], now)
        )

    async def run(self) -> None:
        while True:
            try:
                await self.export_due_once()
            except Exception as exc:
                if is_transient(exc):
                    log.warning("records.archive_waiting", error=f"{type(exc).__name__}: {exc}")
                else:
                    log.exception("records.archive_failed")
            await asyncio.sleep(self.interval_seconds)

    async def export_due_once(self) -> int:
        due = await self.repo.due_archives(bson_now())
        await self.repo.archives.repair(due)
        done = 0
        for doc in due:
            done += await self.attempt(doc["_id"])
        return done

    async def attempt(self, dossier_id: str) -> bool:
        def claim(doc: Document | None) -> Step | None:
            now = bson_now()
            if doc is None or doc["state"] == "exported" or doc["next_attempt_at"] > now:
                return None
            lease = now + timedelta(seconds=self.policy.lease_seconds)
            attempt = doc["attempts"] + 1
            return Step(
                fields={"attempts": attempt, "next_attempt_at": lease, "state": "exporting"},
                record={"state": "exporting", "at": now, "attempt": attempt},
            )

        claimed, ok = await self.repo.archives.transact(dossier_id, claim)
        if not ok or claimed is None:
            return False
        attempt = claimed["attempts"]
        package = await self.package(claimed)
        try:
            reference = await self.exporter.export(claimed["_id"], package_name(claimed), package["content"])
        except ExportRefused as exc:
            detail = str(exc)
            await self.repo.archives.transact(dossier_id, lambda d: self._failed(d, attempt, detail))
            log.warning("records.archive_refused", dossier_code=claimed["dossier_code"], attempt=attempt)
            return True
        await self.repo.archives.transact(dossier_id, lambda d: self._exported(d, attempt, package, reference))
        log.info("records.archive_exported", dossier_code=claimed["dossier_code"], attempt=attempt)
        return True

    async def package(self, archive: Document) -> Document:
        """The stored package, built on first need (deterministic: a rebuild gives the same bytes)."""
        stored = await self.repo.package(archive["_id"])
        if stored is not None:
            return stored
        summary = await self.repo.dossier(archive["_id"])
        assert summary is not None
        timeline = await self.repo.timeline_up_to(archive["_id"], archive["up_to_sequence"])
        # Rendering the forms takes CPU for a while: off the event loop, so the consumer keeps being served.
        content, manifest = await asyncio.to_thread(build_package, summary, timeline)
        document = {
            "_id": archive["_id"],
            "dossier_code": archive["dossier_code"],
            "content": content,
            "sha256": sha256(content),
            "size": len(content),
            "chain_head": manifest["timeline"]["chain_head"],
            "created_at": bson_now(),
        }
        return await self.repo.store_package(document)

    def _failed(self, doc: Document | None, attempt: int, detail: str) -> Step | None:
        if doc is None or doc["state"] != "exporting" or doc["attempts"] != attempt:
            return None
        now = bson_now()
        wait = min(self.policy.base_seconds * 2 ** (attempt - 1), self.policy.max_seconds)
        return Step(
            fields={"state": "pending", "next_attempt_at": now + timedelta(seconds=wait), "last_error": detail[:500]},
            record={"state": "refused", "at": now, "attempt": attempt, "detail": detail[:500]},
        )

    def _exported(self, doc: Document | None, attempt: int, package: Document, reference: str) -> Step | None:
        if doc is None or doc["state"] == "exported":
            return None
        now = bson_now()
        data = DossierArchived(
            dossier_id=doc["_id"],
            dossier_code=doc["dossier_code"],
            procedure_code=doc["procedure_code"],
            agency_code=doc["agency_code"],
            status_code=PublicStatus(doc["status_code"]),
            package_id=doc["_id"],
            package_sha256=package["sha256"],
            chain_head=package["chain_head"],
        )
        event = new_event(EventType.DOSSIER_ARCHIVED, data, service="records", time=now)
        return Step(
            fields={
                "state": "exported",
                "next_attempt_at": None,
                "exported_at": now,
                "exporter": self.exporter.name,
                "reference": reference,
                "package_sha256": package["sha256"],
            },
            events=[(DOSSIER_EVENTS, event)],
            record={"state": "exported", "at": now, "attempt": attempt, "reference": reference},
        )
