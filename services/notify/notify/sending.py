"""Sending deliveries: attempts claimed one at a time, retries with backoff, rate limits, providers' receipts.

The sender loop claims each due attempt through the delivery's versioned document, so two workers never send the
same attempt. New deliveries are attempted at once and this worker's own retries when they fall due (both kept in
memory); a full look every `sweep_interval_seconds` finds the rest (deliveries of a worker that died, retries a
receipt asked for in another process).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hoso.documents import Document
from hoso.events import Envelope
from hoso.faults import is_transient
from hoso.logs import get_logger
from hoso.metrics import NOTIFY_DELIVERIES
from hoso.mongo import bson_now
from notify.channels.email import Email, EmailChannel
from notify.channels.sms import Sms, SmsChannel
from notify.domain.catalog import Channel
from notify.domain.delivery import Outcome, Status, claim, settle
from notify.ratelimit import BucketsByKey, TokenBucket
from notify.rendering import Renderer
from notify.repository import NotifyRepository
from notify.settings import NotifySettings

log = get_logger(__name__)


@dataclass
class Sender:
    repo: NotifyRepository
    settings: NotifySettings
    renderer: Renderer
    email: EmailChannel
    sms: SmsChannel | None = None
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _created: set[str] = field(init=False, default_factory=set)  # new deliveries, sent before the next full look
    # Deliveries this process knows will be due (a retry's backoff, a lease, a recipient's rate), by when (epoch s).
    _timed: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.policy = self.settings.retry_policy
        per_minute = self.settings.recipient_per_minute / 60
        self.per_recipient = BucketsByKey(per_minute, self.settings.recipient_burst)
        self.per_provider = {
            Channel.EMAIL: TokenBucket(self.settings.email_per_second, self.settings.email_per_second),
            Channel.SMS: TokenBucket(self.settings.sms_per_second, self.settings.sms_per_second),
        }

    def created(self, created: Sequence[str], planned: Mapping[str, Document]) -> None:
        """Count the deliveries created now and attempt them at once."""
        if not created:
            return
        for did in created:
            NOTIFY_DELIVERIES.labels(planned[did]["channel"], Status.CREATED.value).inc()
        log.info("notify.deliveries_created", count=len(created))
        self._created.update(created)
        self._wake.set()

    async def send_due_once(self, delivery_ids: Sequence[str] | None = None) -> int:
        """One pass over the deliveries due now (or over these); returns how many attempts were made."""
        if delivery_ids is None:
            # A delivery whose document is behind its steps is caught up by its claim (the step insert says so).
            delivery_ids = [d["_id"] for d in await self.repo.due_deliveries(bson_now())]
        gate = asyncio.Semaphore(self.settings.send_concurrency)

        async def attempt(did: str) -> bool:
            async with gate:
                return await self.attempt(did)

        results = await asyncio.gather(*(attempt(did) for did in delivery_ids))
        return sum(results)

    async def run(self) -> None:
        """Send new deliveries as they are created and retries when they fall due; look at every due delivery each
        `sweep_interval_seconds` (which reads the whole collection on FerretDB v1). A worker starting up looks at
        once."""
        next_full = 0.0
        while True:
            self._wake.clear()
            try:
                if time.monotonic() >= next_full:
                    self._created.clear()
                    await self.send_due_once()
                    next_full = time.monotonic() + self.settings.sweep_interval_seconds
                elif ready := self._take_ready():
                    await self.send_due_once(ready)
            except Exception as exc:
                if is_transient(exc):
                    log.warning("notify.sender_waiting", error=f"{type(exc).__name__}: {exc}")
                else:
                    log.exception("notify.sender_failed")
                next_full = 0.0
                await asyncio.sleep(1.0)
                continue
            wake_at = min([next_full, *(time.monotonic() + at - time.time() for at in self._timed.values())])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, wake_at - time.monotonic()))

    def _take_ready(self) -> list[str]:
        """The deliveries to attempt now: those just created and those whose time has come."""
        now = time.time()
        due = [did for did, at in self._timed.items() if at <= now]
        for did in due:
            del self._timed[did]
        ready = sorted(self._created.union(due))
        self._created.clear()
        return ready

    def _attempt_at(self, did: str, when: datetime | None) -> None:
        """Remember to attempt `did` at `when` (what the delivery last said); None: it needs no attempt."""
        if when is None:
            self._timed.pop(did, None)
            return
        self._timed[did] = when.timestamp()
        self._wake.set()

    async def attempt(self, did: str) -> bool:
        """Claim and make the delivery's next attempt if it is due; True when an attempt was made."""
        doc = await self.repo.deliveries.get(did)  # a copy behind its steps: the claim says so
        if doc is None or doc["final"] or doc.get("next_attempt_at") is None:
            return False
        if doc["next_attempt_at"] > bson_now():
            self._attempt_at(did, doc["next_attempt_at"])  # a retry's backoff or another sender's lease
            return False
        bucket = self.per_recipient.bucket(f"{doc['channel']}:{doc['address']}")
        if not bucket.try_take():
            self._attempt_at(did, bson_now() + timedelta(seconds=bucket.wait_seconds()))  # over the rate: stays due
            return False
        claimed_doc, claimed = await self.repo.store.transact(
            did, lambda d: claim(d, bson_now(), self.policy), cached=doc
        )
        if claimed_doc is not None and not claimed_doc["final"]:
            # Claimed: attempted again if this attempt never settles; not claimed: when it is due after all.
            self._attempt_at(did, claimed_doc.get("next_attempt_at"))
        if not claimed or claimed_doc is None:
            return False
        NOTIFY_DELIVERIES.labels(claimed_doc["channel"], Status.SENDING.value).inc()
        attempt = claimed_doc["attempts"]
        try:
            outcome = await self.deliver(claimed_doc)
        except Exception as exc:
            if is_transient(exc):
                raise  # the database went away mid-attempt: the lease runs out and the attempt is made again
            log.exception("notify.delivery_error", delivery_id=did)
            outcome = Outcome(Status.TECHNICAL_FAILURE, f"{type(exc).__name__}: {exc}")
        settled, _ = await self.repo.store.transact(
            did, lambda d: settle(d, attempt, outcome, bson_now(), self.policy), cached=claimed_doc
        )
        self._attempt_at(did, None if settled is None or settled["final"] else settled.get("next_attempt_at"))
        log.info(
            "notify.attempt",
            delivery_id=did,
            channel=claimed_doc["channel"],
            attempt=attempt,
            status=outcome.status.value,
            final=bool(settled and settled["final"]),
        )
        return True

    async def deliver(self, doc: Document) -> Outcome:
        """One attempt on the delivery's channel: the inbox, the SMTP relay or the SMS provider."""
        event = Envelope.model_validate_json(doc["envelope"])
        message = self.renderer.message(doc, event)
        channel = Channel(doc["channel"])
        if channel is Channel.IN_APP:
            await self.repo.add_to_inbox(
                {
                    "_id": doc["_id"],
                    "recipient_id": doc["recipient_id"],
                    "dossier_code": doc["dossier_code"],
                    "event_type": doc["event_type"],
                    "subject": message.subject,
                    "body": message.body,
                    "created_at": doc["created_at"],
                    "read_at": None,
                }
            )
            return Outcome(Status.DELIVERED, "in the recipient's inbox")
        await self.per_provider[channel].take()
        if channel is Channel.EMAIL:
            email = Email(
                delivery_id=doc["_id"],
                dossier_code=doc["dossier_code"],
                to_address=doc["address"],
                to_name=doc.get("recipient_name", ""),
                subject=message.subject,
                body=message.body,
                # Rendering a form takes CPU for a while: off the event loop.
                attachments=await asyncio.to_thread(self.renderer.attachments, doc, event),
            )
            return await self.email.send(email)
        if self.sms is None:
            return Outcome(Status.TECHNICAL_FAILURE, "no SMS provider is configured")
        return await self.sms.send(Sms(delivery_id=doc["_id"], to=doc["address"], text=message.body.strip()))

    async def on_receipt(self, did: str, outcome: Outcome) -> Document | None:
        """A provider's delivery receipt for delivery `did`; None when there is no such delivery."""
        doc, changed = await self.repo.store.transact(did, lambda d: settle(d, None, outcome, bson_now(), self.policy))
        if changed and doc is not None:
            NOTIFY_DELIVERIES.labels(doc["channel"], outcome.status.value).inc()
        if changed and doc is not None and not doc["final"]:
            self._attempt_at(did, doc.get("next_attempt_at"))
        return doc
