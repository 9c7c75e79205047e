"""Sign-in sessions kept on the server (the portal's own database); the browser holds only an opaque cookie.

The cookie carries a random token; the database keeps its SHA-256 as the session's `_id`, so a copy of the database
signs no one in. Sessions end after `idle` without a request or `max_age` in all, and are swept periodically.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from hoso.mongo import bson_now
from hoso.store import Store

COOKIE = "hoso_session"
TOUCH_AFTER = timedelta(minutes=1)


class SignedInUser(BaseModel):
    subject: str
    name: str
    email: str | None = None
    roles: list[str] = Field(default_factory=list)
    agency: str | None = None
    personal_id: str | None = None
    tax_code: str | None = None


class Tokens(BaseModel):
    access_token: str
    refresh_token: str | None = None
    id_token: str | None = None
    expires_at: datetime
    refresh_expires_at: datetime | None = None


class PendingLogin(BaseModel):
    state: str
    code_verifier: str
    nonce: str
    next: str


class TypedValue(BaseModel):
    name: str
    value: str


class PendingForm(BaseModel):
    """What a person had typed when their session ended mid-way; given back on the same page after signing in.

    Kept as name/value objects: form names such as `field.project_name` cannot be keys of a stored document."""

    path: str
    fields: list[TypedValue]

    def values(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for typed in self.fields:
            found.setdefault(typed.name, []).append(typed.value)
        return found


class Session(BaseModel):
    token: str = Field(exclude=True)
    csrf: str
    created_at: datetime
    seen_at: datetime
    user: SignedInUser | None = None
    tokens: Tokens | None = None
    login: PendingLogin | None = None
    pending_form: PendingForm | None = None
    notice: list[TypedValue] | None = Field(
        default=None, description="What the next page tells, once (the desk's answer to an action, a receipt's PIN)"
    )

    @property
    def signed_in(self) -> bool:
        return self.user is not None and self.tokens is not None


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, store: Store, *, idle: timedelta, max_age: timedelta) -> None:
        self._sessions = store.table("sessions")
        self._idle = idle
        self._max_age = max_age

    def new(self) -> Session:
        now = bson_now()
        return Session(token=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32), created_at=now, seen_at=now)

    async def load(self, token: str | None) -> Session | None:
        if not token or len(token) > 100:
            return None
        doc = await self._sessions.get(_key(token))
        if doc is None:
            return None
        session = Session(token=token, **{k: v for k, v in doc.items() if k != "_id"})
        now = bson_now()
        if now - session.seen_at > self._idle or now - session.created_at > self._max_age:
            await self.delete(session)
            return None
        if now - session.seen_at > TOUCH_AFTER:
            await self.save(session)  # the idle time counts from the last request, noted at most once a minute
        return session

    async def save(self, session: Session) -> None:
        session.seen_at = bson_now()
        body: dict[str, Any] = session.model_dump(mode="python")
        body["expires_at"] = min(session.seen_at + self._idle, session.created_at + self._max_age)
        await self._sessions.put({"_id": _key(session.token), **body})

    async def renew(self, session: Session) -> Session:
        """The same session under a new token (after signing in, so a token known before sign-in is worthless)."""
        await self.delete(session)
        renewed = session.model_copy(update={"token": secrets.token_urlsafe(32), "csrf": secrets.token_urlsafe(32)})
        await self.save(renewed)
        return renewed

    async def delete(self, session: Session) -> None:
        await self._sessions.delete(_key(session.token))

    async def sweep(self, now: datetime | None = None) -> int:
        """Delete the sessions that have ended; returns how many."""
        return await self._sessions.delete_many({"expires_at": {"$lt": now or bson_now()}})
