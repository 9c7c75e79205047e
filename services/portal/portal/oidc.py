"""OpenID Connect with the identity provider (Keycloak): authorization code with PKCE, refresh, sign-out.

The provider's endpoints come from its discovery document, read when first needed, so the portal starts while the
provider is still starting. The ID token is checked (signature, issuer, audience, nonce); the access token is what
the services verify, and the portal reads the person's roles and agency from it with the services' own verifier.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from hoso.auth import Principal, TokenVerifier, TrustedIssuer
from portal.sessions import PendingLogin, SignedInUser, Tokens


class SignInFailed(Exception):
    """The provider refused the code or the tokens did not verify."""


class OidcClient:
    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scope: str,
        audience: str,
        http: httpx.AsyncClient,
        metadata_url: str | None = None,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._metadata_url = metadata_url or f"{self._issuer}/.well-known/openid-configuration"
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._scope = scope
        self._audience = audience
        self._http = http
        self._metadata: dict[str, Any] | None = None
        self._lock = asyncio.Lock()
        self._verifier: TokenVerifier | None = None
        self._jwks: jwt.PyJWKClient | None = None

    async def metadata(self) -> dict[str, Any]:
        async with self._lock:
            if self._metadata is None:
                answer = await self._http.get(self._metadata_url)
                answer.raise_for_status()
                metadata: dict[str, Any] = answer.json()
                self._metadata = metadata
                self._verifier = TokenVerifier(
                    audience=self._audience, trusted=[TrustedIssuer(self._issuer, jwks_url=metadata["jwks_uri"])]
                )
                self._jwks = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True, lifespan=300, timeout=5)
            return self._metadata

    def _oauth(self, **extra: Any) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret,
            scope=self._scope,
            redirect_uri=self._redirect_uri,
            code_challenge_method="S256",
            timeout=15,
            **extra,
        )

    async def start_login(self, next_path: str, *, locale: str) -> tuple[str, PendingLogin]:
        """The provider's sign-in URL, and what the callback needs to finish (kept in the session)."""
        metadata = await self.metadata()
        pending = PendingLogin(
            state=generate_token(32), code_verifier=generate_token(64), nonce=generate_token(32), next=next_path
        )
        async with self._oauth() as oauth:
            url, _ = oauth.create_authorization_url(
                metadata["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
                ui_locales=locale,
            )
        return str(url), pending

    async def finish_login(self, pending: PendingLogin, *, code: str, state: str) -> tuple[SignedInUser, Tokens]:
        if not secrets.compare_digest(pending.state, state):
            raise SignInFailed("the sign-in answer does not belong to this session")
        metadata = await self.metadata()
        async with self._oauth() as oauth:
            try:
                token = await oauth.fetch_token(
                    metadata["token_endpoint"],
                    code=code,
                    code_verifier=pending.code_verifier,
                    grant_type="authorization_code",
                )
            except Exception as exc:
                raise SignInFailed(f"the provider refused the sign-in: {exc}") from exc
        await self._check_id_token(token.get("id_token"), nonce=pending.nonce)
        tokens = _tokens(token)
        return await self.user_of(tokens), tokens

    async def refresh(self, tokens: Tokens) -> Tokens:
        if not tokens.refresh_token:
            raise SignInFailed("no refresh token")
        metadata = await self.metadata()
        async with self._oauth() as oauth:
            try:
                token = await oauth.refresh_token(metadata["token_endpoint"], refresh_token=tokens.refresh_token)
            except Exception as exc:
                raise SignInFailed(f"the provider refused the refresh: {exc}") from exc
        refreshed = _tokens(token)
        if refreshed.id_token is None:
            refreshed.id_token = tokens.id_token
        return refreshed

    async def user_of(self, tokens: Tokens) -> SignedInUser:
        await self.metadata()
        assert self._verifier is not None
        try:
            principal: Principal = await self._verifier.verify(tokens.access_token)
        except Exception as exc:
            raise SignInFailed(f"the access token does not verify: {exc}") from exc
        return SignedInUser(
            subject=principal.subject,
            name=principal.name or principal.subject,
            email=principal.email,
            roles=sorted(principal.roles),
            agency=principal.agency,
            personal_id=principal.personal_id,
            tax_code=principal.tax_code,
        )

    async def logout_url(self, tokens: Tokens | None, post_logout_redirect: str) -> str | None:
        """Where to send the browser so the provider's session ends too (None when it offers no such endpoint)."""
        metadata = await self.metadata()
        endpoint = metadata.get("end_session_endpoint")
        if not endpoint:
            return None
        query = {"client_id": self._client_id, "post_logout_redirect_uri": post_logout_redirect}
        if tokens is not None and tokens.id_token:
            query["id_token_hint"] = tokens.id_token
        return f"{endpoint}?{urlencode(query)}"

    async def _check_id_token(self, id_token: str | None, *, nonce: str) -> None:
        if not id_token:
            raise SignInFailed("the provider sent no ID token")
        assert self._jwks is not None
        try:
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, id_token)
            claims = jwt.decode(
                id_token,
                key=key.key,
                algorithms=["RS256", "ES256"],
                audience=self._client_id,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
                leeway=30,
            )
        except jwt.PyJWTError as exc:
            raise SignInFailed(f"the ID token does not verify: {exc}") from exc
        if not secrets.compare_digest(str(claims["nonce"]), nonce):
            raise SignInFailed("the ID token's nonce is not this sign-in's")


def _tokens(token: dict[str, Any]) -> Tokens:
    now = time.time()
    expires_at = float(token.get("expires_at") or now + float(token.get("expires_in", 300)))
    refresh_in = token.get("refresh_expires_in")
    return Tokens(
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token"),
        id_token=token.get("id_token"),
        expires_at=datetime.fromtimestamp(expires_at, UTC),
        refresh_expires_at=datetime.now(UTC) + timedelta(seconds=float(refresh_in)) if refresh_in else None,
    )
