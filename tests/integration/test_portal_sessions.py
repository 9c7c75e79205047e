"""The portal's sign-in sessions in the real database: kept by the token's digest, ended when idle or old."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from hoso.mongo import Document, bson_now
from hoso.store import Store
from portal.sessions import PendingForm, SessionStore, SignedInUser, TypedValue


def store(database: AsyncDatabase[Document], idle_minutes: int = 30) -> SessionStore:
    return SessionStore(Store(database), idle=timedelta(minutes=idle_minutes), max_age=timedelta(hours=10))


async def test_a_session_is_kept_under_the_digest_of_its_token_never_the_token(
    database: AsyncDatabase[Document],
) -> None:
    sessions = store(database)
    session = sessions.new()
    session.user = SignedInUser(subject="s-1", name="Nguyễn Văn An", roles=["applicant"])
    await sessions.save(session)
    [doc] = await database["sessions"].find({}).to_list()
    assert doc["_id"] == hashlib.sha256(session.token.encode()).hexdigest()
    assert session.token not in str(doc)
    loaded = await sessions.load(session.token)
    assert loaded is not None
    assert loaded.user == session.user
    assert await sessions.load("not-a-session") is None


async def test_an_idle_session_ends_and_an_active_one_is_kept_alive(database: AsyncDatabase[Document]) -> None:
    sessions = store(database, idle_minutes=30)
    idle, active = sessions.new(), sessions.new()
    for session in (idle, active):
        await sessions.save(session)
    await database["sessions"].update_one(
        {"_id": hashlib.sha256(idle.token.encode()).hexdigest()},
        {"$set": {"seen_at": bson_now() - timedelta(minutes=31)}},
    )
    active_key = hashlib.sha256(active.token.encode()).hexdigest()
    await database["sessions"].update_one(
        {"_id": active_key}, {"$set": {"seen_at": bson_now() - timedelta(minutes=20)}}
    )
    assert await sessions.load(idle.token) is None
    assert await database["sessions"].count_documents({}) == 1  # the ended one is gone
    assert await sessions.load(active.token) is not None
    touched = await database["sessions"].find_one({"_id": active_key})
    assert touched is not None
    assert bson_now() - touched["seen_at"] < timedelta(minutes=1)


async def test_signing_in_gives_the_session_a_new_token_and_keeps_what_was_typed(
    database: AsyncDatabase[Document],
) -> None:
    sessions = store(database)
    session = sessions.new()
    session.pending_form = PendingForm(
        path="/ban-nhap/abc", fields=[TypedValue(name="field.project_name", value="Dự án")]
    )
    await sessions.save(session)
    renewed = await sessions.renew(session)
    assert renewed.token != session.token
    assert renewed.csrf != session.csrf
    assert await sessions.load(session.token) is None
    loaded = await sessions.load(renewed.token)
    assert loaded is not None
    assert loaded.pending_form == session.pending_form


async def test_the_sweep_deletes_the_sessions_that_have_ended(database: AsyncDatabase[Document]) -> None:
    sessions = store(database, idle_minutes=30)
    for _ in range(3):
        await sessions.save(sessions.new())
    assert await sessions.sweep(now=bson_now() + timedelta(minutes=10)) == 0
    assert await sessions.sweep(now=bson_now() + timedelta(minutes=31)) == 3
