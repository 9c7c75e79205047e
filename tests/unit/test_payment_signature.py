"""Payment links and callbacks are signed with HMAC-SHA512 over the sorted parameters."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from intake.domain.payment import CallbackRefused, payment_request, read_callback, sign

SECRET = "merchant-secret"


def link() -> dict[str, str]:
    request = payment_request(
        gateway_url="https://pay.example/vpcpay.html",
        merchant_code="HOSO0001",
        secret=SECRET,
        reference="UBND.HN-261127-0001-ab12cd34",
        amount_vnd=1_500_000,
        description="Thanh toan phi ho so",
        return_url="https://hoso.example/return",
        client_ip="203.0.113.5",
        now=datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
    )
    return dict(parse_qsl(urlsplit(request.url).query))


def test_the_signature_is_hmac_sha512_of_the_sorted_encoded_parameters() -> None:
    params = {"vnp_B": "2 3", "vnp_A": "1", "vnp_SecureHash": "ignored", "other": "ignored"}
    expected = hmac.new(SECRET.encode(), b"vnp_A=1&vnp_B=2+3", hashlib.sha512).hexdigest()
    assert sign(params, SECRET) == expected


def test_a_payment_link_carries_the_amount_in_hundredths_and_local_time() -> None:
    params = link()
    assert params["vnp_Amount"] == "150000000"
    assert params["vnp_CreateDate"] == "20261127080000"
    assert params["vnp_SecureHash"] == sign(params, SECRET)


def callback(**overrides: str) -> dict[str, str]:
    params = {
        "vnp_Amount": "150000000",
        "vnp_TxnRef": "UBND.HN-261127-0001-ab12cd34",
        "vnp_ResponseCode": "00",
        "vnp_TransactionStatus": "00",
        "vnp_TransactionNo": "14123456",
        "vnp_TmnCode": "HOSO0001",
    }
    params["vnp_SecureHash"] = sign(params, SECRET)
    params.update(overrides)
    return params


def test_a_genuine_callback_is_read() -> None:
    paid = read_callback(callback(), SECRET)
    assert (paid.reference, paid.amount_vnd, paid.transaction_no, paid.succeeded) == (
        "UBND.HN-261127-0001-ab12cd34",
        1_500_000,
        "14123456",
        True,
    )


@pytest.mark.parametrize(
    "forged",
    [callback(vnp_Amount="100"), callback(vnp_SecureHash="0" * 128), callback(vnp_ResponseCode="24"), {}],
)
def test_a_forged_callback_is_refused_with_code_97(forged: dict[str, str]) -> None:
    with pytest.raises(CallbackRefused) as refused:
        read_callback(forged, SECRET)
    assert refused.value.code == "97"


def test_a_callback_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(CallbackRefused):
        read_callback(callback(), "another-secret")
