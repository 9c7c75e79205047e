"""Review's event handlers and schedulers: the engine's decisions written through the versioned store."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hoso.errors import ImpossibleTransition, PoisonMessage
from hoso.events import Envelope
from hoso.events.catalog import DossierSubmitted
from hoso.faults import is_transient
from hoso.logs import get_logger
from hoso.mongo import Document, bson_now
from hoso.steps import Step
from review.domain.definition import WorkflowDefinition, definition_for
from review.domain.engine import Context, decide_event, decide_timers, open_instance
from review.repository import ReviewRepository
from review.settings import ReviewSettings

log = get_logger(__name__)


class NoWorkflow(PoisonMessage):
    def __init__(self, detail: str) -> None:
        super().__init__("no-workflow", detail)


@dataclass
class Review:
    """What review's handlers share: the repository, the definitions, the settings."""

    repo: ReviewRepository
    definitions: list[WorkflowDefinition]
    settings: ReviewSettings
    seal_key: str | None = field(init=False)

    def __post_init__(self) -> None:
        # Read once: in local mode the key is a file, and contexts are built for every action and scheduler look.
        self.seal_key = self.settings.seal_key

    def definition(self, workflow_id: str) -> WorkflowDefinition:
        for definition in self.definitions:
            if definition.id == workflow_id:
                return definition
        raise NoWorkflow(f"workflow {workflow_id!r} is not defined")

    def state_labels(self, doc: Document) -> tuple[str, str]:
        """The Vietnamese and English names of the state `doc` is in (its code when the definition names none)."""
        state = self.definition(doc["workflow_id"]).states.get(doc["state"])
        return (state.label_vi or doc["state"], state.label_en or doc["state"]) if state else (doc["state"],) * 2

    def context(self, doc: Document | None, *, correlation_id: str | None = None) -> Context:
        assert doc is not None
        return Context(
            definition=self.definition(doc["workflow_id"]),
            calendar=self.settings.calendar,
            now=bson_now(),
            seal_key=self.seal_key,
            due_soon_lead=self.settings.due_soon_lead,
            correlation_id=correlation_id,
        )

    async def on_submitted(self, event: Envelope) -> None:
        """A submitted dossier enters the reception queue of its competent agency (status 1)."""
        payload = event.payload()
        assert isinstance(payload, DossierSubmitted)
        definition = definition_for(self.definitions, payload.procedure_code, payload.procedure_version)
        if definition is None:
            raise NoWorkflow(f"no workflow for {payload.procedure_code} version {payload.procedure_version}")
        await self.repo.remember_code(payload.dossier_code, payload.dossier_id)
        _, opened = await self.repo.transact(
            payload.dossier_id, lambda doc: None if doc is not None else open_instance(event, payload, definition)
        )
        log.info("review.workflow_opened" if opened else "review.duplicate_ignored", workflow=definition.id)

    async def on_intake_event(self, event: Envelope) -> None:
        """Supplement, fee payment and withdrawal requests move the workflow as its definition says."""

        def decide(doc: Document | None) -> Step | None:
            if doc is None:
                raise ImpossibleTransition(f"{event.type.short_name} for {event.subject}, which review never opened")
            return decide_event(doc, event, self.context(doc, correlation_id=event.correlationid))

        await self.repo.transact(event.partitionkey, decide)

    async def run_timers_once(self) -> int:
        """One pass of the schedulers over every open dossier; returns how many steps were written."""
        docs = await self.repo.open_instances()
        await self.repo.store.repair(docs)
        written = 0
        for doc in docs:
            if decide_timers(doc, self.context(doc)) is None:
                continue
            _, changed = await self.repo.transact(doc["_id"], lambda d: decide_timers(d, self.context(d)))
            written += changed
        return written

    async def run_timers(self) -> None:
        interval = self.settings.scheduler_interval_seconds
        while True:
            try:
                written = await self.run_timers_once()
                if written:
                    log.info("review.timers_fired", steps=written)
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("review.timers_failed")
                else:
                    log.warning("review.timers_waiting", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(interval)
