"""The signed-in person's token: refreshed before it expires, and a refused refresh means signing in again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from starlette.requests import Request

from hoso.mongo import bson_now
from portal.oidc import OidcClient, SignInFailed
from portal.sessions import Session, SessionStore, SignedInUser, Tokens
from portal.settings import PortalSettings
from portal.web import Page, Portal, SignInRequired


class KeptSessions(SessionStore):
    """Sessions kept in a list instead of the database."""

    def __init__(self) -> None:
        self.saved: list[Session] = []

    async def save(self, session: Session) -> None:
        self.saved.append(session.model_copy(deep=True))


class Provider(OidcClient):
    """The identity provider's token endpoint: gives `fresh` or refuses."""

    def __init__(self, fresh: Tokens | None) -> None:
        self.fresh = fresh
        self.refreshed = 0

    async def refresh(self, tokens: Tokens) -> Tokens:
        self.refreshed += 1
        if self.fresh is None:
            raise SignInFailed("the refresh token was revoked")
        return self.fresh


def page(provider: Provider, sessions: KeptSessions, expires_in: timedelta) -> Page:
    portal: Any = Portal.__new__(Portal)
    portal.settings = PortalSettings(refresh_margin_seconds=60, oidc_client_secret="secret")
    portal.sessions, portal.oidc = sessions, provider
    request = Request({"type": "http", "method": "GET", "path": "/ho-so", "query_string": b"", "headers": []})
    session = Session(token="t" * 43, csrf="c", created_at=bson_now(), seen_at=bson_now())
    session.user = SignedInUser(subject="s", name="Nguyễn Văn An", roles=["applicant"])
    session.tokens = Tokens(access_token="old", refresh_token="r", expires_at=bson_now() + expires_in)
    return Page(request, portal, session)


def tokens(access: str) -> Tokens:
    return Tokens(access_token=access, refresh_token="r2", expires_at=bson_now() + timedelta(minutes=5))


async def test_a_token_far_from_expiry_is_used_as_it_is() -> None:
    provider, sessions = Provider(tokens("new")), KeptSessions()
    assert await page(provider, sessions, timedelta(minutes=4)).token() == "old"
    assert provider.refreshed == 0


async def test_a_token_about_to_expire_is_refreshed_first_and_the_session_keeps_the_new_one() -> None:
    provider, sessions = Provider(tokens("new")), KeptSessions()
    assert await page(provider, sessions, timedelta(seconds=30)).token() == "new"
    assert provider.refreshed == 1
    assert sessions.saved[-1].tokens is not None
    assert sessions.saved[-1].tokens.access_token == "new"


async def test_a_refused_refresh_signs_the_person_out_and_asks_them_to_sign_in_again() -> None:
    provider, sessions = Provider(None), KeptSessions()
    with pytest.raises(SignInRequired) as asked:
        await page(provider, sessions, timedelta(seconds=10)).token()
    assert asked.value.next_path == "/ho-so"
    assert sessions.saved[-1].user is None
    assert sessions.saved[-1].tokens is None
