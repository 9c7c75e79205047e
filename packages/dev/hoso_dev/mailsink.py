"""A local SMTP sink: every message it accepts is kept as an .eml file (the local platform's and compose's relay).

    python -m hoso_dev.mailsink --port 1025 --dir .local/mail

Files are named `<UTC time>-<sequence>-<Message-ID hash>.eml` and written atomically. Like a mailbox provider, the
sink keeps one copy per Message-ID: a message whose Message-ID it already holds (notify re-sending after a crash
between the relay's acceptance and its own record of it) is accepted and noted in `duplicates.log`, not stored again.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import itertools
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class FolderHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self._held = {path.stem.rsplit("-", 1)[-1] for path in self.folder.glob("*.eml")}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        message_id = str(message.get("Message-ID", ""))
        digest = hashlib.sha256(message_id.encode()).hexdigest()[:16]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        with self._lock:
            sequence = next(self._sequence)
            duplicate = bool(message_id) and digest in self._held
            self._held.add(digest)
        if duplicate:
            with (self.folder / "duplicates.log").open("a", encoding="utf-8") as log:
                log.write(f"{stamp} {message_id}\n")
            return "250 Message accepted for delivery"
        name = f"{stamp}-{sequence:06d}-{digest}.eml"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(content)
        os.replace(tmp, self.folder / name)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description="Keep every e-mail received over SMTP as a file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path(".local/mail"))
    args = parser.parse_args()
    controller = Controller(FolderHandler(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail sink on {args.host}:{args.port}, keeping messages in {args.dir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
