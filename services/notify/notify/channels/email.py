"""E-mail through an SMTP relay with aiosmtplib; the Message-ID is derived from the delivery id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import aiosmtplib

from notify.domain.delivery import Outcome, Status


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


@dataclass(frozen=True)
class Email:
    delivery_id: str
    dossier_code: str
    to_address: str
    to_name: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    from_address: str
    from_name: str
    message_id_domain: str
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None
    timeout: float = 15.0


def message_id(delivery_id: str, domain: str) -> str:
    return f"<{delivery_id}@{domain}>"


def build_message(email: Email, relay: SmtpRelay, *, date: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((relay.from_name, relay.from_address))
    message["To"] = formataddr((email.to_name, email.to_address))
    message["Subject"] = email.subject
    message["Message-ID"] = message_id(email.delivery_id, relay.message_id_domain)
    if date is not None:
        message["Date"] = date
    message["X-Hoso-Dossier"] = email.dossier_code
    message["X-Hoso-Delivery"] = email.delivery_id
    message.set_content(email.body, charset="utf-8")
    for attachment in email.attachments:
        message.add_attachment(
            attachment.content, maintype=attachment.maintype, subtype=attachment.subtype, filename=attachment.filename
        )
    return message


def classify(exc: Exception) -> Outcome:
    """What a failed SMTP conversation means for the delivery."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        if codes and all(500 <= c < 600 for c in codes):
            return Outcome(Status.PERMANENT_FAILURE, detail)
        return Outcome(Status.TEMPORARY_FAILURE, detail)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        status = Status.PERMANENT_FAILURE if 500 <= exc.code < 600 else Status.TEMPORARY_FAILURE
        return Outcome(status, detail)
    if isinstance(exc, aiosmtplib.SMTPResponseException) and 400 <= exc.code < 500:
        return Outcome(Status.TEMPORARY_FAILURE, detail)
    # The relay is down, refuses us or answered something we did not expect: our side of the line.
    return Outcome(Status.TECHNICAL_FAILURE, detail)


class EmailChannel:
    def __init__(self, relay: SmtpRelay) -> None:
        self.relay = relay

    async def send(self, email: Email, *, date: str | None = None) -> Outcome:
        message = build_message(email, self.relay, date=date or format_datetime(datetime.now(UTC)))
        try:
            await aiosmtplib.send(
                message,
                hostname=self.relay.host,
                port=self.relay.port,
                username=self.relay.username,
                password=self.relay.password,
                use_tls=self.relay.use_tls,
                start_tls=self.relay.start_tls,
                timeout=self.relay.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            return classify(exc)
        return Outcome(Status.DELIVERED, f"accepted by {self.relay.host}:{self.relay.port}")
