"""Real servers the tests talk to: an SMTP server (aiosmtpd) and an HTTP SMS provider (the standard library's)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Mailbox:
    """What the SMTP server accepted; recipients containing `refuse` are refused with 550 (a permanent failure)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if "refuse" in address:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A real SMTP server on a fixed port that can be stopped and started again (the relay going down)."""

    port: int = field(default_factory=free_port)
    mailbox: _Mailbox = field(default_factory=_Mailbox)
    _controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.mailbox.lock:
            return list(self.mailbox.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


class _JsonHandler(BaseHTTPRequestHandler):
    """Answers JSON and keeps quiet."""

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _ProviderHandler(_JsonHandler):
    server: _ProviderHTTPServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        provider = self.server.provider
        if self.headers.get("Authorization") != f"Bearer {provider.token}":
            self._answer(401, {"error": "bad credentials"})
            return
        if str(body.get("to", "")).startswith("+8400"):
            self._answer(400, {"error": "invalid number"})
            return
        with provider.lock:
            provider.received.append(body)
            message_id = f"sms-{len(provider.received)}"
        self._answer(200, {"id": message_id})


class _ProviderHTTPServer(ThreadingHTTPServer):
    provider: SmsProviderServer


@dataclass
class SmsProviderServer:
    """An SMS gateway over HTTP: bearer token, `{"id"}` back, 400 for numbers starting +8400."""

    token: str = "provider-token"
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _ProviderHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/messages"

    def start(self) -> None:
        self._server = _ProviderHTTPServer(("127.0.0.1", 0), _ProviderHandler)
        self._server.provider = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.received)


def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


class _DmsHandler(_JsonHandler):
    server: _DmsHTTPServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        dms = self.server.dms
        with dms.lock:
            dms.attempts += 1
            refuse = dms.attempts <= dms.refuse_first
            if not refuse:
                dms.accepted.append((dict(self.headers.items()), body))
        status, answer = (503, {"error": "busy"}) if refuse else (201, {"id": f"dms-{dms.attempts}"})
        self._answer(status, answer)


class _DmsHTTPServer(ThreadingHTTPServer):
    dms: DmsServer


@dataclass
class DmsServer:
    """A document-management system's intake over HTTP that refuses the first `refuse_first` packages with 503."""

    refuse_first: int = 0
    attempts: int = 0
    accepted: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _DmsHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/packages"

    def start(self) -> None:
        self._server = _DmsHTTPServer(("127.0.0.1", 0), _DmsHandler)
        self._server.dms = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
