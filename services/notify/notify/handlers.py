"""Notify's event handler, sender loop and receipts: rules decide the deliveries, channels carry them.

The consumer only writes deliveries (`created`, unique per event, recipient and channel, before anything is sent),
then wakes the sender loop; so a slow or unreachable relay never holds up a partition. The sender loop claims each
due attempt through the delivery's versioned document, so two workers never send the same attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from hoso.events import Envelope
from hoso.events.catalog import (
    DossierAssigned,
    DossierEventData,
    DossierReceived,
    DossierSubmitted,
    OfficerAction,
)
from hoso.faults import is_transient
from hoso.forms import agency_name, form_for_event, render_form
from hoso.logs import get_logger
from hoso.metrics import NOTIFY_DELIVERIES
from hoso.mongo import Document, bson_now, find_by_ids
from hoso.pins import unseal_pin
from notify.channels.email import Attachment, Email, EmailChannel
from notify.channels.sms import Sms, SmsChannel
from notify.domain.catalog import Channel, NotifyCatalog, RecipientRole, Target
from notify.domain.delivery import Outcome, Status, claim, create, delivery_id, settle
from notify.domain.messages import DossierFacts, RecipientFacts, Rendered, render
from notify.ratelimit import BucketsByKey, TokenBucket
from notify.repository import NotifyRepository
from notify.settings import NotifySettings

log = get_logger(__name__)


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    role: RecipientRole
    name: str = ""
    email: str | None = None
    phone: str | None = None
    language: str = "vi"
    channels: dict[str, bool] = {}

    def address(self, channel: Channel) -> str | None:
        if not self.channels.get(channel.value, True):
            return None  # the recipient turned this channel off
        if channel is Channel.EMAIL:
            return self.email
        if channel is Channel.SMS:
            return self.phone
        return self.id


def _recipient(doc: Document | None, role: RecipientRole, **override: Any) -> Recipient | None:
    if doc is None and not override:
        return None
    base = dict(doc or {})
    fields = {
        "id": base.get("_id"),
        "name": base.get("name", ""),
        "email": base.get("email"),
        "phone": base.get("phone"),
        "language": base.get("language", "vi"),
        "channels": base.get("channels", {}),
    }
    fields.update({k: v for k, v in override.items() if v is not None})
    return Recipient(role=role, **fields)


def dossier_fields(payload: DossierEventData) -> Document:
    """What notify remembers of a dossier from one of its events."""
    fields: Document = {"code": payload.dossier_code, "agency_code": payload.agency_code}
    if isinstance(payload, DossierSubmitted):
        fields.update(
            procedure_code=payload.procedure_code,
            procedure_name_vi=payload.procedure_name_vi,
            procedure_name_en=payload.procedure_name_en,
            applicant=payload.applicant.model_dump(),
            components=[c.code for c in payload.components],
        )
    elif isinstance(payload, DossierAssigned):
        fields["assignee_id"] = payload.assignee_id
    elif isinstance(payload, DossierReceived):
        fields["receipt_number"] = payload.receipt_number
    return fields


class Directory(Protocol):
    """Where recipients are looked up."""

    async def recipient(self, recipient_id: str) -> Document | None: ...

    async def leaders_of(self, agency_code: str) -> list[Document]: ...


class _BatchDirectory:
    """The repository's recipient look-ups, each made once per batch."""

    def __init__(self, repo: NotifyRepository) -> None:
        self._repo = repo
        self._recipients: dict[str, Document | None] = {}
        self._leaders: dict[str, list[Document]] = {}

    async def recipient(self, recipient_id: str) -> Document | None:
        if recipient_id not in self._recipients:
            self._recipients[recipient_id] = await self._repo.recipient(recipient_id)
        return self._recipients[recipient_id]

    async def leaders_of(self, agency_code: str) -> list[Document]:
        if agency_code not in self._leaders:
            self._leaders[agency_code] = await self._repo.leaders_of(agency_code)
        return self._leaders[agency_code]


@dataclass
class Notify:
    repo: NotifyRepository
    catalog: NotifyCatalog
    settings: NotifySettings
    email: EmailChannel
    sms: SmsChannel | None = None
    seal_key: str | None = field(init=False)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _created: set[str] = field(init=False, default_factory=set)  # new deliveries, sent before the next full look
    # Deliveries this process knows will be due (a retry's backoff, a lease, a recipient's rate), by when (epoch s).
    _timed: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.seal_key = self.settings.seal_key
        self.policy = self.settings.retry_policy
        per_minute = self.settings.recipient_per_minute / 60
        self.per_recipient = BucketsByKey(per_minute, self.settings.recipient_burst)
        self.per_provider = {
            Channel.EMAIL: TokenBucket(self.settings.email_per_second, self.settings.email_per_second),
            Channel.SMS: TokenBucket(self.settings.sms_per_second, self.settings.sms_per_second),
        }

    # --- events in ------------------------------------------------------------------------------------------------

    async def on_event(self, event: Envelope) -> None:
        """One event (the one-by-one way a failed batch takes): a batch of one."""
        await self.on_events([event])

    async def on_events(self, events: Sequence[Envelope]) -> None:
        """A batch of events (in order per dossier): each dossier remembered in one write, then every delivery the
        batch calls for created in two inserts. Applying a batch again creates nothing twice."""
        payloads = [(event, event.payload()) for event in events]
        dossier_ids = list(dict.fromkeys(p.dossier_id for _, p in payloads if isinstance(p, DossierEventData)))
        known = await find_by_ids(self.repo.dossiers, dossier_ids)
        changes: dict[str, Document] = {}
        planned: dict[str, Document] = {}
        directory = _BatchDirectory(self.repo)
        for event, payload in payloads:
            assert isinstance(payload, DossierEventData)
            changes.setdefault(payload.dossier_id, {}).update(dossier_fields(payload))
            if self.catalog.rules.get(event.type):
                dossier = {**known.get(payload.dossier_id, {}), **changes[payload.dossier_id]}
                planned.update(await self.plan(event, payload, dossier, directory))
        await self.repo.remember_dossiers(changes)
        now = bson_now()
        created = await self.repo.store.create_many({did: create(f, now) for did, f in planned.items()})
        self._send_soon(created, planned)

    def _send_soon(self, created: Sequence[str], planned: Mapping[str, Document]) -> None:
        """Count the deliveries created now and have the sender attempt them at once."""
        if not created:
            return
        for did in created:
            NOTIFY_DELIVERIES.labels(planned[did]["channel"], Status.CREATED.value).inc()
        log.info("notify.deliveries_created", count=len(created))
        self._created.update(created)
        self._wake.set()

    async def plan(
        self, event: Envelope, payload: DossierEventData, dossier: Document, directory: Directory
    ) -> list[tuple[str, Document]]:
        """The deliveries (id, fields) the rules call for on `event`: each recipient, on each of their channels."""
        planned = []
        for target in self.catalog.rules.get(event.type, ()):
            for recipient in await self.recipients(target.recipient, dossier, directory):
                for channel in target.channels:
                    if (delivery := self._delivery(event, payload, dossier, target, recipient, channel)) is not None:
                        planned.append(delivery)
        return planned

    async def recipients(self, role: RecipientRole, dossier: Document, directory: Directory) -> list[Recipient]:
        if role is RecipientRole.APPLICANT:
            applicant = dossier.get("applicant")
            if not applicant:
                return []
            prefs = await directory.recipient(applicant["id"])
            found = _recipient(
                prefs, role, id=applicant["id"], name=applicant.get("name") or None,
                email=applicant.get("email"), phone=applicant.get("phone"),
            )  # fmt: skip
            return [found] if found else []
        if role is RecipientRole.ASSIGNEE:
            assignee = dossier.get("assignee_id")
            found = _recipient(await directory.recipient(assignee), role) if assignee else None
            if assignee and found is None:
                log.warning("notify.assignee_unknown", assignee_id=assignee)
            return [found] if found else []
        leaders = [_recipient(doc, role) for doc in await directory.leaders_of(dossier.get("agency_code", ""))]
        return [r for r in leaders if r is not None]

    def _delivery(
        self,
        event: Envelope,
        payload: DossierEventData,
        dossier: Document,
        target: Target,
        recipient: Recipient,
        channel: Channel,
    ) -> tuple[str, Document] | None:
        """The delivery's id and fields; None when the recipient cannot be reached on this channel."""
        if channel is Channel.SMS and self.sms is None:
            return None
        address = recipient.address(channel)
        if not address:
            return None
        template = self.catalog.template(event.type.short_name, target.recipient, channel)
        language = recipient.language
        fields = {
            "event_id": event.id,
            "event_type": event.type.short_name,
            "dossier_id": payload.dossier_id,
            "dossier_code": payload.dossier_code,
            "agency_code": payload.agency_code,
            "recipient_id": recipient.id,
            "recipient_role": target.recipient.value,
            "recipient_name": recipient.name,
            "channel": channel.value,
            "address": address,
            "language": language,
            "template": str(template.key),
            "template_version": template.version,
            "form": target.form.value if target.form is not None and channel is Channel.EMAIL else None,
            "facts": self.facts(dossier, language).model_dump(),
            "envelope": event.model_dump_json(),
            "correlation_id": event.correlationid,
        }
        return delivery_id(event.id, recipient.id, channel.value), fields

    @staticmethod
    def facts(dossier: Document, language: str) -> DossierFacts:
        procedure = dossier.get(f"procedure_name_{language}") or dossier.get("procedure_name_vi", "")
        return DossierFacts(
            code=dossier.get("code", ""),
            procedure_name=procedure,
            agency_name=agency_name(dossier.get("agency_code", "")),
            applicant_name=(dossier.get("applicant") or {}).get("name", ""),
        )

    # --- the sender loop ------------------------------------------------------------------------------------------

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

    async def run_sender(self) -> None:
        """Send new deliveries as they are created and retries when they fall due; look at every due delivery each
        `sweep_interval_seconds`.

        New deliveries are attempted by `_id` at once and this worker's own retries at the time they fall due (both
        kept in memory), so the steady state reads no more than the deliveries it works on. The full look (which reads
        the whole collection on FerretDB v1) finds what this worker was not told of: deliveries of a worker that died,
        retries a provider's receipt asked for in another process. A worker starting up looks at once.
        """
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
        doc = await self.repo.store.collection.find_one({"_id": did})  # a copy behind its steps: the claim says so
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

    def render(self, doc: Document, event: Envelope) -> Rendered:
        payload = event.payload()
        pin = None
        sealed = getattr(payload, "tracking_pin_sealed", None)
        if sealed and self.seal_key and doc["channel"] != Channel.IN_APP.value:
            pin = unseal_pin(sealed, self.seal_key)
        facts = DossierFacts(**{**doc["facts"], "tracking_pin": pin})
        event_name, role, channel = doc["template"].split("/")
        template = self.catalog.template(event_name, RecipientRole(role), Channel(channel))
        return render(template, doc["language"], payload, facts, RecipientFacts(name=doc.get("recipient_name", "")))

    def attachments(self, doc: Document, event: Envelope) -> tuple[Attachment, ...]:
        if not doc.get("form"):
            return ()
        payload = event.payload()
        sealed = getattr(payload, "tracking_pin_sealed", None)
        dossier = doc["facts"]
        form = form_for_event(
            payload,
            issued_at=event.time,
            procedure_name=dossier.get("procedure_name", ""),
            applicant_name=dossier.get("applicant_name", ""),
            officer=payload.actor_id if isinstance(payload, OfficerAction) else "",
            tracking_pin=unseal_pin(sealed, self.seal_key) if sealed and self.seal_key else None,
        )
        if form is None:
            return ()
        return (Attachment(filename=f"Mau-{form.form.value}-{doc['dossier_code']}.pdf", content=render_form(form)),)

    async def deliver(self, doc: Document) -> Outcome:
        event = Envelope.model_validate_json(doc["envelope"])
        message = self.render(doc, event)
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
                attachments=await asyncio.to_thread(self.attachments, doc, event),
            )
            return await self.email.send(email)
        if self.sms is None:
            return Outcome(Status.TECHNICAL_FAILURE, "no SMS provider is configured")
        return await self.sms.send(Sms(delivery_id=doc["_id"], to=doc["address"], text=message.body.strip()))

    # --- provider receipts ----------------------------------------------------------------------------------------

    async def on_receipt(self, did: str, outcome: Outcome) -> Document | None:
        """A provider's delivery receipt for delivery `did`; None when there is no such delivery."""
        doc, changed = await self.repo.store.transact(did, lambda d: settle(d, None, outcome, bson_now(), self.policy))
        if changed and doc is not None:
            NOTIFY_DELIVERIES.labels(doc["channel"], outcome.status.value).inc()
        if changed and doc is not None and not doc["final"]:
            self._attempt_at(did, doc.get("next_attempt_at"))
        return doc
