"""What a file is, from its bytes: never from its name or the client's Content-Type header."""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO

import puremagic

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"

_BY_MAGIC = {PDF, JPEG, PNG}
# Office Open XML files are ZIP archives; the part that names them is inside.
_OOXML_MARKERS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX))


class UnrecognisedContent(ValueError):
    """The bytes are not one of the file types the platform accepts."""


HEAD_BYTES = 64 * 1024


def detect_content_type(data: bytes | BinaryIO) -> str:
    """The MIME type of `data` (bytes, or a seekable file read from its start and left there) among PDF, JPEG, PNG,
    DOCX, XLSX and ZIP; UnrecognisedContent otherwise. Only the first bytes are read, and a ZIP's directory."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    source.seek(0)
    head = source.read(HEAD_BYTES)
    source.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(source)
    try:
        candidates = puremagic.magic_string(head)
    except puremagic.PureError as exc:
        raise UnrecognisedContent("the file type could not be recognised from its content") from exc
    for candidate in candidates:
        if candidate.mime_type in _BY_MAGIC:
            return str(candidate.mime_type)
    raise UnrecognisedContent("the file is not a PDF, JPEG, PNG, DOCX, XLSX or ZIP file")


def _zip_kind(source: BinaryIO) -> str:
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise UnrecognisedContent("the file looks like a ZIP archive but cannot be read") from exc
    finally:
        source.seek(0)
    for marker, mime in _OOXML_MARKERS:
        if marker in names and "[Content_Types].xml" in names:
            return mime
    return ZIP
