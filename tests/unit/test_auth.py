"""JWT verification: signature, issuer, audience, expiry, algorithms, roles and agency."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hoso_dev.keys import KEY_FILE, ensure_dev_keys, mint_token

from hoso.auth import InvalidToken, Role, TokenVerifier, TrustedIssuer

ISSUER, AUDIENCE = "hoso-test", "hoso"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    ensure_dev_keys(tmp_path)
    return tmp_path


@pytest.fixture
def verifier(state: Path) -> TokenVerifier:
    return TokenVerifier(audience=AUDIENCE, trusted=[TrustedIssuer(ISSUER, jwks_file=state / "keys" / "jwks.json")])


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "u1", "roles": ["applicant"], "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    return {k: v for k, v in (base | overrides).items() if v is not None}


def signed(state: Path, body: dict[str, Any]) -> str:
    jwks = json.loads((state / "keys" / "jwks.json").read_text())
    return jwt.encode(body, (state / "keys" / KEY_FILE).read_bytes(), "RS256", headers={"kid": jwks["keys"][0]["kid"]})


async def test_a_minted_token_verifies_with_roles_and_agency(state: Path, verifier: TokenVerifier) -> None:
    token = mint_token(state, subject="o1", roles=[Role.LEADER], agency="BNNMT", issuer=ISSUER, audience=AUDIENCE)
    principal = await verifier.verify(token)
    assert principal.subject == "o1"
    assert principal.roles == {Role.LEADER}
    assert principal.agency == "BNNMT"
    assert (principal.name, principal.title) == ("o1", "")  # no name claim: the subject; no title: none


async def test_an_officer_s_name_and_position_come_from_the_token(state: Path, verifier: TokenVerifier) -> None:
    token = mint_token(
        state, subject="o1", roles=[Role.LEADER], agency="BNNMT", issuer=ISSUER, audience=AUDIENCE,
        name="Phạm Thu Dung", title="Phó Cục trưởng Cục Môi trường",
    )  # fmt: skip
    principal = await verifier.verify(token)
    assert (principal.name, principal.title) == ("Phạm Thu Dung", "Phó Cục trưởng Cục Môi trường")


@pytest.mark.parametrize(
    ("claim", "address"),
    [
        ({"formatted": "Số 5 đường Hòa Bình, tỉnh Phú Thọ"}, "Số 5 đường Hòa Bình, tỉnh Phú Thọ"),  # OpenID Connect's
        ("  Số 12 phố Nguyễn Trãi  ", "Số 12 phố Nguyễn Trãi"),
        ({"street_address": "Số 5"}, None),  # no formatted text: none rather than a part of it
        ({"formatted": ""}, None),
        (None, None),
        (42, None),
    ],
)
async def test_an_applicant_s_address_is_the_address_claim_s_formatted_text(
    state: Path, verifier: TokenVerifier, claim: Any, address: str | None
) -> None:
    principal = await verifier.verify(signed(state, claims(address=claim)))
    assert principal.address == address


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (claims(exp=int(time.time()) - 120), "expired"),
        (claims(nbf=int(time.time()) + 600), "not yet valid"),
        (claims(aud="another-api"), "(?i)audience"),
        (claims(iss="someone-else"), "(?i)issuer"),
        (claims(roles=[]), "no roles"),
        (claims(roles=["emperor"]), "unknown role"),
        (claims(roles=["specialist"]), "must name an agency"),
        (claims(exp=None), "exp"),
    ],
)
async def test_a_bad_token_is_refused_with_the_reason(
    state: Path, verifier: TokenVerifier, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidToken, match=message):
        await verifier.verify(signed(state, body))


async def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims())}."
    with pytest.raises(InvalidToken, match="not accepted"):
        await verifier.verify(token)


async def test_a_token_signed_with_another_key_is_refused(state: Path, verifier: TokenVerifier) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = json.loads((state / "keys" / "jwks.json").read_text())["keys"][0]["kid"]
    token = jwt.encode(claims(), pem, "RS256", headers={"kid": kid})
    with pytest.raises(InvalidToken, match="Signature verification failed"):
        await verifier.verify(token)


async def test_an_hmac_token_using_the_public_key_as_secret_is_refused(state: Path, verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(), "public-key-as-secret-0123456789abcdef", "HS256")
    with pytest.raises(InvalidToken, match="not accepted"):
        await verifier.verify(token)
