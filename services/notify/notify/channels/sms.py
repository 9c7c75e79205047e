"""SMS through an HTTP provider, and the provider's signed delivery receipts.

The adapter posts `{"to", "from", "text", "reference"}` as JSON with a bearer token and expects `{"id": ...}` back;
`reference` is the delivery id, which the provider echoes in its receipt. Receipts are authenticated by an HMAC-SHA256
of the raw body with the shared callback secret, in `X-Hoso-Signature: sha256=<hex>`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from notify.domain.delivery import Outcome, Status

SIGNATURE_HEADER = "X-Hoso-Signature"


@dataclass(frozen=True)
class SmsProvider:
    name: str
    url: str
    token: str | None
    sender: str
    callback_secret: str | None
    timeout: float = 10.0


@dataclass(frozen=True)
class Sms:
    delivery_id: str
    to: str
    text: str


def classify_response(response: httpx.Response) -> Outcome:
    code = response.status_code
    detail = f"HTTP {code}: {response.text[:200]}"
    if 200 <= code < 300:
        try:
            reference = str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            return Outcome(Status.TECHNICAL_FAILURE, f"HTTP {code} without a message id")
        return Outcome(Status.SENDING, f"accepted by the provider as {reference}", provider_ref=reference)
    if code == 429:
        return Outcome(Status.TEMPORARY_FAILURE, detail)
    if code in (400, 404, 410, 422):
        return Outcome(Status.PERMANENT_FAILURE, detail)  # the number or the message cannot be delivered, ever
    return Outcome(Status.TECHNICAL_FAILURE, detail)  # credentials, provider errors: our side of the line


class SmsChannel:
    def __init__(self, provider: SmsProvider, client: httpx.AsyncClient | None = None) -> None:
        self.provider = provider
        self._client = client or httpx.AsyncClient(timeout=provider.timeout)

    async def send(self, sms: Sms) -> Outcome:
        headers = {"Authorization": f"Bearer {self.provider.token}"} if self.provider.token else {}
        body = {"to": sms.to, "from": self.provider.sender, "text": sms.text, "reference": sms.delivery_id}
        try:
            response = await self._client.post(self.provider.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(Status.TECHNICAL_FAILURE, f"{type(exc).__name__}: {exc}")
        return classify_response(response)

    async def close(self) -> None:
        await self._client.aclose()


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, secret: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(sign(body, secret), header)


class Receipt(BaseModel):
    """A provider's delivery receipt."""

    model_config = ConfigDict(extra="ignore")

    reference: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$", description="Our delivery id")
    id: str | None = Field(default=None, max_length=200, description="The provider's message id")
    status: Literal["delivered", "permanent-failure", "temporary-failure", "technical-failure"]
    detail: str = Field(default="", max_length=500)

    def outcome(self) -> Outcome:
        return Outcome(Status(self.status), self.detail or f"provider receipt: {self.status}", provider_ref=self.id)
