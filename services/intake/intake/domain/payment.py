"""Payment requests and provider callbacks, modelled on Vietnamese payment gateways (VNPAY-style).

The request is a URL whose parameters are signed with HMAC-SHA512 over the parameters sorted by name and
URL-encoded; the provider's callback (IPN) is signed the same way and is verified before anything changes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote_plus, urlencode
from zoneinfo import ZoneInfo

SIGNATURE = "vnp_SecureHash"
SIGNATURE_TYPE = "vnp_SecureHashType"
SUCCESS = "00"
_VN = ZoneInfo("Asia/Ho_Chi_Minh")


def canonical_query(params: Mapping[str, str]) -> str:
    """The signed string: the vnp_ parameters but the signature, sorted by name, URL-encoded."""
    signed = sorted((k, v) for k, v in params.items() if k.startswith("vnp_") and k not in (SIGNATURE, SIGNATURE_TYPE))
    return "&".join(f"{quote_plus(k)}={quote_plus(str(v))}" for k, v in signed if v != "")


def sign(params: Mapping[str, str], secret: str) -> str:
    return hmac.new(secret.encode(), canonical_query(params).encode(), hashlib.sha512).hexdigest()


def signature_valid(params: Mapping[str, str], secret: str) -> bool:
    given = params.get(SIGNATURE, "")
    return bool(given) and hmac.compare_digest(given.lower(), sign(params, secret))


@dataclass(frozen=True)
class PaymentRequest:
    reference: str
    amount_vnd: int
    url: str


def payment_request(
    *,
    gateway_url: str,
    merchant_code: str,
    secret: str,
    reference: str,
    amount_vnd: int,
    description: str,
    return_url: str,
    client_ip: str,
    now: datetime,
) -> PaymentRequest:
    params = {
        "vnp_Version": "2.1.0",
        "vnp_Command": "pay",
        "vnp_TmnCode": merchant_code,
        "vnp_Amount": str(amount_vnd * 100),  # the gateway counts in hundredths of a dong
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": reference,
        "vnp_OrderInfo": description,
        "vnp_OrderType": "other",
        "vnp_Locale": "vn",
        "vnp_ReturnUrl": return_url,
        "vnp_IpAddr": client_ip,
        "vnp_CreateDate": now.astimezone(_VN).strftime("%Y%m%d%H%M%S"),
    }
    query = urlencode(sorted(params.items()), quote_via=quote_plus)
    return PaymentRequest(reference, amount_vnd, f"{gateway_url}?{query}&{SIGNATURE}={sign(params, secret)}")


@dataclass(frozen=True)
class Callback:
    reference: str
    amount_vnd: int
    transaction_no: str
    succeeded: bool


class CallbackRefused(ValueError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def read_callback(params: Mapping[str, str], secret: str) -> Callback:
    """The callback's facts once its signature is verified; CallbackRefused with the gateway's code otherwise."""
    if not signature_valid(params, secret):
        raise CallbackRefused("97", "invalid signature")
    try:
        amount = int(params["vnp_Amount"])
        reference = params["vnp_TxnRef"]
    except (KeyError, ValueError) as exc:
        raise CallbackRefused("99", f"malformed callback: {exc}") from exc
    if amount % 100:
        raise CallbackRefused("04", "invalid amount")
    succeeded = params.get("vnp_ResponseCode") == SUCCESS and params.get("vnp_TransactionStatus") == SUCCESS
    return Callback(reference, amount // 100, params.get("vnp_TransactionNo", ""), succeeded)
