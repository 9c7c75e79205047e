"""Notify's events in: each dossier remembered, its recipients looked up, the deliveries planned and created.

The consumer only writes deliveries (`created`, unique per event, recipient and channel, before anything is sent),
then tells the sender (`notify.sending`); so a slow or unreachable relay never holds up a partition. Who gets what
on which channel is `notify.planning`; the messages are `notify.rendering`. Records' erasure of a dossier's personal
data erases notify's copies of it (`notify.domain.privacy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hoso.documents import Document
from hoso.events import Envelope, EventType
from hoso.events.catalog import DossierEventData, DossierPersonalDataErased
from hoso.logs import get_logger
from hoso.mongo import bson_now
from notify.channels.email import EmailChannel
from notify.channels.sms import SmsChannel
from notify.domain.catalog import NotifyCatalog, RecipientRole
from notify.domain.delivery import Outcome, create, erase, scrubbed_step
from notify.domain.privacy import erased_values, forgotten, memory_update, scrub
from notify.planning import Recipient, dossier_fields, plan, recipient_of, roles_of
from notify.rendering import Renderer
from notify.repository import NotifyRepository
from notify.sending import Sender
from notify.settings import NotifySettings

log = get_logger(__name__)


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


async def recipients(role: RecipientRole, dossier: Document, directory: Directory) -> list[Recipient]:
    """The dossier's recipients in `role`: its applicant, its assignee, or its agency's leaders."""
    if role is RecipientRole.APPLICANT:
        applicant = dossier.get("applicant")
        if not applicant:
            return []
        prefs = await directory.recipient(applicant["id"])
        found = recipient_of(
            prefs, role, id=applicant["id"], name=applicant.get("name") or None,
            email=applicant.get("email"), phone=applicant.get("phone"),
        )  # fmt: skip
        return [found] if found else []
    if role is RecipientRole.ASSIGNEE:
        assignee = dossier.get("assignee_id")
        found = recipient_of(await directory.recipient(assignee), role) if assignee else None
        if assignee and found is None:
            log.warning("notify.assignee_unknown", assignee_id=assignee)
        return [found] if found else []
    leaders = [recipient_of(doc, role) for doc in await directory.leaders_of(dossier.get("agency_code", ""))]
    return [r for r in leaders if r is not None]


@dataclass
class Notify:
    repo: NotifyRepository
    catalog: NotifyCatalog
    settings: NotifySettings
    email: EmailChannel
    sms: SmsChannel | None = None
    sender: Sender = field(init=False)

    def __post_init__(self) -> None:
        renderer = Renderer(self.catalog, self.settings.seal_key)
        self.sender = Sender(self.repo, self.settings, renderer, self.email, self.sms)

    async def on_event(self, event: Envelope) -> None:
        """One event (the one-by-one way a failed batch takes): a batch of one."""
        await self.on_events([event])

    async def on_events(self, events: Sequence[Envelope]) -> None:
        """A batch of events (in order per dossier): the events between two erasures of personal data are planned
        together, each erasure in its turn. Applying a batch again creates nothing twice."""
        planned: list[Envelope] = []
        for event in events:
            if event.type is EventType.DOSSIER_PERSONAL_DATA_ERASED:
                await self._plan(planned)
                planned = []
                await self.erase(event)
            else:
                planned.append(event)
        await self._plan(planned)

    async def _plan(self, events: Sequence[Envelope]) -> None:
        """Each dossier remembered in one write, then every delivery the events call for created in two inserts."""
        if not events:
            return
        payloads = [(event, event.payload()) for event in events]
        dossier_ids = list(dict.fromkeys(p.dossier_id for _, p in payloads if isinstance(p, DossierEventData)))
        known = await self.repo.dossiers.get_many(dossier_ids)
        changes: dict[str, Document] = {}
        planned: dict[str, Document] = {}
        directory = _BatchDirectory(self.repo)
        for event, payload in payloads:
            assert isinstance(payload, DossierEventData)
            change = changes.setdefault(payload.dossier_id, {})
            change.update(dossier_fields(payload))
            if "applicant" in change and (erased := known.get(payload.dossier_id, {}).get("personal_data_erased")):
                change["applicant"] = forgotten(change["applicant"], erased)  # delivered again after the erasure
            roles = roles_of(self.catalog, event)
            if not roles:
                continue
            dossier = {**known.get(payload.dossier_id, {}), **changes[payload.dossier_id]}
            people = {role: await recipients(role, dossier, directory) for role in roles}
            planned.update(plan(self.catalog, event, payload, dossier, people, sms=self.sms is not None))
        await self.repo.remember_dossiers(changes)
        now = bson_now()
        created = await self.repo.store.create_many({did: create(f, now) for did, f in planned.items()})
        self.sender.created(created, planned)

    async def erase(self, event: Envelope) -> None:
        """Erase the dossier's personal data from notify's copies: its deliveries (each document and the versions it
        left), the in-app messages, then the memory of the dossier. Once: done again, it finds nothing to change."""
        payload = event.payload()
        assert isinstance(payload, DossierPersonalDataErased)
        dossier = await self.repo.dossier(payload.dossier_id)
        if dossier is None or dossier.get("personal_data_erased_at") is not None:
            return  # notify never heard of the dossier, or erased it all already (the memory forgets last)
        secrets = erased_values(dossier, payload.erased)
        now = bson_now()
        for doc in await self.repo.whole_deliveries_of(payload.dossier_code):
            await self.repo.store.transact(doc["_id"], lambda d: erase(d, secrets, now), cached=doc)
            await self.repo.store.rewrite_steps(doc["_id"], lambda step: scrubbed_step(step, secrets))
        for item in await self.repo.inbox_of_dossier(payload.dossier_code):
            fields: Document = {k: scrub(item[k], secrets) for k in ("subject", "body") if k in item}
            if fields != {k: item[k] for k in fields}:
                await self.repo.rewrite_inbox_item(item["_id"], fields)
        await self.repo.forget(payload.dossier_id, memory_update(dossier.get("applicant") or {}, payload.erased, now))
        log.info("notify.personal_data_erased", dossier_code=payload.dossier_code, values=len(secrets))

    async def run_sender(self) -> None:
        await self.sender.run()

    async def on_receipt(self, did: str, outcome: Outcome) -> Document | None:
        return await self.sender.on_receipt(did, outcome)
