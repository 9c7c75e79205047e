"""JWT bearer verification against a JWKS (file or URL): signature, issuer, audience, expiry, roles, agency."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from hoso.problems import Problem

ALLOWED_ALGORITHMS = ["RS256", "ES256"]
# The issuer of the tokens `hoso-dev token` signs with the local development key; trusted in local mode only.
DEV_ISSUER = "hoso-local"


class Role(StrEnum):
    APPLICANT = "applicant"
    RECEPTION_OFFICER = "reception_officer"
    SPECIALIST = "specialist"
    LEADER = "leader"
    COUNCIL_MEMBER = "council_member"  # a member of an appraisal council, staff of the agency or not
    ADMIN = "admin"
    OPS = "ops"


OFFICER_ROLES = frozenset({Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER})


class Principal(BaseModel):
    """Who is calling, from the verified token's claims."""

    model_config = ConfigDict(frozen=True)

    subject: str
    roles: frozenset[Role]
    agency: str | None = None
    name: str = ""
    title: str = ""
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    personal_id: str | None = None
    tax_code: str | None = None

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class InvalidToken(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(401, "Invalid token", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer whose tokens are accepted, and where its signing keys are: a JWKS file or the provider's JWKS URL."""

    issuer: str
    jwks_file: Path | None = None
    jwks_url: str | None = None

    def __post_init__(self) -> None:
        if (self.jwks_file is None) == (self.jwks_url is None):
            raise ValueError(f"configure exactly one of a JWKS file or a JWKS URL for issuer {self.issuer!r}")


class _FileKeys:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._cached: tuple[float, jwt.PyJWKSet] | None = None

    async def key_for(self, token: str, kid: str | None) -> jwt.PyJWK:
        keys = self._load()
        for key in keys.keys:
            if kid is None or key.key_id == kid:
                return key
        raise jwt.InvalidKeyError(f"no key with kid {kid!r} in the JWKS")

    def _load(self) -> jwt.PyJWKSet:
        try:
            mtime = self._path.stat().st_mtime
        except FileNotFoundError as exc:
            raise jwt.InvalidKeyError(f"JWKS file {self._path} does not exist") from exc
        if self._cached is None or self._cached[0] != mtime:
            self._cached = (mtime, jwt.PyJWKSet.from_dict(json.loads(self._path.read_text())))
        return self._cached[1]


class _UrlKeys:
    def __init__(self, url: str) -> None:
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)

    async def key_for(self, token: str, kid: str | None) -> jwt.PyJWK:
        return await asyncio.to_thread(self._client.get_signing_key_from_jwt, token)


class TokenVerifier:
    """Verifies bearer tokens of the trusted issuers: signature (by the token's own issuer), audience, expiry."""

    def __init__(self, *, audience: str, trusted: Sequence[TrustedIssuer]) -> None:
        if not trusted:
            raise ValueError("trust at least one issuer")
        self._audience = audience
        self._keys: dict[str, _FileKeys | _UrlKeys] = {
            t.issuer: _FileKeys(t.jwks_file) if t.jwks_file is not None else _UrlKeys(str(t.jwks_url)) for t in trusted
        }

    @property
    def issuers(self) -> list[str]:
        return list(self._keys)

    async def verify(self, token: str) -> Principal:
        try:
            issuer, key = await self._signing_key(token)
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=ALLOWED_ALGORITHMS,
                audience=self._audience,
                issuer=issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return _principal(claims)

    async def _signing_key(self, token: str) -> tuple[str, jwt.PyJWK]:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} is not accepted")
        # The issuer only chooses which keys to check the signature with; jwt.decode then verifies it as a claim.
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        keys = self._keys.get(issuer) if isinstance(issuer, str) else None
        if keys is None or not isinstance(issuer, str):
            raise jwt.InvalidIssuerError(f"tokens of issuer {issuer!r} are not accepted")
        return issuer, await keys.key_for(token, header.get("kid"))


def _principal(claims: dict[str, Any]) -> Principal:
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list) or not raw_roles:
        raise InvalidToken("the token carries no roles")
    try:
        roles = frozenset(Role(r) for r in raw_roles)
    except ValueError as exc:
        raise InvalidToken(f"unknown role in token: {exc}") from exc
    agency = claims.get("agency")
    if roles & (OFFICER_ROLES | {Role.ADMIN}) and not agency:
        raise InvalidToken("an officer's token must name an agency")
    return Principal(
        subject=str(claims["sub"]),
        roles=roles,
        agency=agency,
        name=str(claims.get("name", "")),
        title=str(claims.get("title") or ""),
        email=claims.get("email"),
        phone=claims.get("phone"),
        address=_address(claims.get("address")),
        personal_id=_optional_text(claims.get("personal_id")),
        tax_code=_optional_text(claims.get("tax_code")),
    )


def _address(value: Any) -> str | None:
    """The OpenID Connect `address` claim's `formatted` text (a bare string is taken as it is)."""
    if isinstance(value, dict):
        value = value.get("formatted")
    return _optional_text(value.strip()) if isinstance(value, str) else None


def _optional_text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidToken("a bearer token is required")
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(credentials.credentials)


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits principals holding any of `roles`."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_any(*roles):
            raise Problem(403, "Forbidden", f"this action needs one of the roles: {', '.join(sorted(roles))}")
        return principal

    return dependency
