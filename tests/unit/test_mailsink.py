"""The local SMTP sink keeps every message as a file, one copy per Message-ID (like a mailbox provider)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import Envelope
from hoso_dev.mailsink import FolderHandler


def message(message_id: str, subject: str) -> Envelope:
    envelope = Envelope()
    envelope.original_content = (
        f"Message-ID: {message_id}\r\nSubject: {subject}\r\nTo: a@example.vn\r\n\r\nNội dung\r\n".encode()
    )
    return envelope


def test_each_message_is_a_file_and_a_repeated_message_id_is_kept_once(tmp_path: Path) -> None:
    handler = FolderHandler(tmp_path / "mail")
    server: Any = None
    for envelope in (message("<a@hoso>", "one"), message("<b@hoso>", "two"), message("<a@hoso>", "one again")):
        assert asyncio.run(handler.handle_DATA(server, server, envelope)).startswith("250")
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    assert [b"Subject: one\r\n" in f.read_bytes() for f in files] == [True, False]
    assert (tmp_path / "mail" / "duplicates.log").read_text().strip().endswith("<a@hoso>")
    # A restarted sink remembers what it holds.
    again = FolderHandler(tmp_path / "mail")
    asyncio.run(again.handle_DATA(server, server, message("<b@hoso>", "two again")))
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2
