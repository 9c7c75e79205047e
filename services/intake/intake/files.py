"""Uploaded files in GridFS: content type from the bytes, SHA-256, size, owner; no user path reaches a disk."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket, NoFile

from hoso.mongo import Document, IndexSpec, bson_now
from hoso.store import Guard, Store
from intake.domain.content import detect_content_type

BUCKET = "uploads"
FILE_INDEXES = [IndexSpec(f"{BUCKET}.files", [("metadata.owner", 1)], name="owner")]
_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


@dataclass(frozen=True)
class StoredFile:
    id: str
    owner: str
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    dossier_id: str | None
    agency_code: str | None

    @classmethod
    def of(cls, doc: Document) -> StoredFile:
        meta: dict[str, Any] = doc.get("metadata") or {}
        return cls(
            id=str(doc["_id"]),
            owner=meta["owner"],
            name=doc["filename"],
            content_type=meta["content_type"],
            size=int(doc["length"]),
            sha256=meta["sha256"],
            uploaded_at=doc["uploadDate"],
            dossier_id=meta.get("dossier_id"),
            agency_code=meta.get("agency_code"),
        )


def display_name(name: str | None) -> str:
    """A name to show, never a path: the last path part, unsafe characters replaced, at most 120 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = _UNSAFE.sub("_", base).strip("._ ")
    return cleaned[:120] or "file"


def _inspect(source: BinaryIO) -> tuple[str, str]:
    """The content type and the SHA-256 of a file, read in chunks; the file is left at its start."""
    content_type = detect_content_type(source)
    digest = hashlib.sha256()
    while chunk := source.read(1024 * 1024):
        digest.update(chunk)
    source.seek(0)
    return content_type, digest.hexdigest()


def _object_id(file_id: str) -> ObjectId | None:
    try:
        return ObjectId(file_id)
    except (InvalidId, TypeError):
        return None


class FileStore:
    def __init__(self, store: Store) -> None:
        self._bucket = AsyncGridFSBucket(store.db, bucket_name=BUCKET)
        self._files = store.table(f"{BUCKET}.files")

    async def store(self, *, owner: str, name: str | None, data: bytes | BinaryIO) -> StoredFile:
        """Store one upload (bytes, or a seekable file such as the spooled temporary file of a request, read in
        chunks, never whole); UnrecognisedContent when its bytes are not an accepted type."""
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        content_type, sha256 = await asyncio.to_thread(_inspect, source)
        metadata = {"owner": owner, "content_type": content_type, "sha256": sha256, "uploaded_at": bson_now()}
        file_id = await self._bucket.upload_from_stream(display_name(name), source, metadata=metadata)
        stored = await self.get(str(file_id))
        assert stored is not None
        return stored

    async def get(self, file_id: str) -> StoredFile | None:
        oid = _object_id(file_id)
        if oid is None:
            return None
        doc = await self._files.get(oid)
        return StoredFile.of(doc) if doc else None

    async def get_many(self, file_ids: list[str]) -> dict[str, StoredFile]:
        oids = [oid for oid in (_object_id(f) for f in file_ids) if oid is not None]
        if not oids:
            return {}
        return {str(oid): StoredFile.of(d) for oid, d in (await self._files.get_many(oids)).items()}

    async def attach(self, file_ids: list[str], *, dossier_id: str, agency_code: str) -> None:
        """Link files to the dossier they were submitted with (officers of its agency may then read them)."""
        oids = [oid for oid in (_object_id(f) for f in file_ids) if oid is not None]
        link = {"$set": {"metadata.dossier_id": dossier_id, "metadata.agency_code": agency_code}}

        def unattached(doc: Document | None) -> bool:
            return doc is not None and (doc.get("metadata") or {}).get("dossier_id") is None

        guard = Guard({"metadata.dossier_id": None}, unattached)
        await asyncio.gather(*(self._files.update_if(oid, guard, link) for oid in oids))

    async def discard(self, file_id: str) -> None:
        """Delete a file no dossier or draft took (refused where it was sent)."""
        oid = _object_id(file_id)
        if oid is not None:
            await self._bucket.delete(oid)

    async def stream(self, file_id: str) -> AsyncIterator[bytes]:
        oid = _object_id(file_id)
        if oid is None:
            raise NoFile(file_id)
        grid_out = await self._bucket.open_download_stream(oid)
        while chunk := await grid_out.readchunk():
            yield chunk
