"""Notify's HTTP API: the in-app inbox, preferences, deliveries, template previews and provider receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hoso.auth import OFFICER_ROLES, Principal, Role, current_principal, require_roles
from hoso.events.catalog import EVENT_MODELS
from hoso.mongo import Document, bson_now
from hoso.problems import Problem
from notify.channels.sms import SIGNATURE_HEADER, Receipt, signature_valid
from notify.domain.catalog import LANGUAGES, Channel, RecipientRole, event_type_named
from notify.domain.messages import SAMPLE_DOSSIER, SAMPLE_RECIPIENT, render, sample_payload
from notify.handlers import Notify

Anyone = Annotated[Principal, Depends(current_principal)]
Staff = Annotated[
    Principal,
    Depends(require_roles(Role.RECEPTION_OFFICER, Role.SPECIALIST, Role.LEADER, Role.ADMIN, Role.OPS)),
]
Operator = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OPS))]


class InboxItem(BaseModel):
    id: str
    dossier_code: str
    event_type: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None = None

    @classmethod
    def of(cls, doc: Document) -> InboxItem:
        return cls(id=doc["_id"], **{k: doc.get(k) for k in cls.model_fields if k != "id"})


class InboxPage(BaseModel):
    items: list[InboxItem]
    unread: bool
    page: int
    page_size: int
    total: int


class ChannelPreferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: bool = True
    sms: bool = True
    in_app: bool = True


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Literal["vi", "en"] = "vi"
    channels: ChannelPreferences = Field(default_factory=ChannelPreferences)


class PreferencesOut(PreferencesIn):
    recipient_id: str
    email: str | None = None
    phone: str | None = None


class StatusChange(BaseModel):
    status: str
    at: datetime
    attempt: int | None = None
    detail: str = ""


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    dossier_code: str
    channel: str
    recipient_id: str
    recipient_role: str
    address: str
    language: str
    template: str
    template_version: int
    form: str | None = None
    status: str
    final: bool
    attempts: int
    next_attempt_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None = None
    last_detail: str = ""
    provider_ref: str | None = None
    history: list[StatusChange]


class DeliveryList(BaseModel):
    dossier_code: str
    items: list[DeliveryOut]


class TemplateOut(BaseModel):
    key: str
    event: str
    recipient: str
    channel: str
    version: int
    languages: list[str]


class TemplateList(BaseModel):
    items: list[TemplateOut]


class Preview(BaseModel):
    key: str
    version: int
    language: str
    subject: str
    body: str
    sample_event: dict[str, Any]


class ReceiptAck(BaseModel):
    delivery_id: str
    status: str
    final: bool


def notify_router(notify: Notify) -> APIRouter:
    router = APIRouter(tags=["notify"])
    repo = notify.repo

    # --- the in-app inbox -----------------------------------------------------------------------------------------

    @router.get("/api/v1/notifications", response_model=InboxPage, summary="The caller's in-app notifications")
    async def inbox(
        me: Anyone,
        unread: bool = False,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> InboxPage:
        docs, total = await repo.inbox_of(me.subject, unread=unread, skip=(page - 1) * page_size, limit=page_size)
        return InboxPage(
            items=[InboxItem.of(d) for d in docs], unread=unread, page=page, page_size=page_size, total=total
        )

    @router.post(
        "/api/v1/notifications/{item_id}/read", response_model=InboxItem, summary="Mark one notification as read"
    )
    async def mark_read(item_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], me: Anyone) -> InboxItem:
        doc = await repo.mark_read(me.subject, item_id, bson_now())
        if doc is None:
            raise Problem(404, "Not found", f"no notification {item_id} in your inbox")
        return InboxItem.of(doc)

    # --- preferences ----------------------------------------------------------------------------------------------

    def preferences_of(me: Principal, doc: Document | None) -> PreferencesOut:
        doc = doc or {}
        return PreferencesOut(
            recipient_id=me.subject,
            language=doc.get("language", "vi"),
            channels=ChannelPreferences(**doc.get("channels", {})),
            email=doc.get("email", me.email),
            phone=doc.get("phone", me.phone),
        )

    @router.get("/api/v1/notify/preferences", response_model=PreferencesOut, summary="The caller's preferences")
    async def get_preferences(me: Anyone) -> PreferencesOut:
        return preferences_of(me, await repo.recipient(me.subject))

    @router.put("/api/v1/notify/preferences", response_model=PreferencesOut, summary="Set language and channels")
    async def put_preferences(body: PreferencesIn, me: Anyone) -> PreferencesOut:
        fields: Document = {"language": body.language, "channels": body.channels.model_dump()}
        # Officers' contacts come from their token too, so an officer missing from the directory can be reached.
        if me.roles & OFFICER_ROLES:
            fields.update(agency_code=me.agency, roles=sorted(r.value for r in me.roles))
            fields.update({k: v for k, v in {"name": me.name, "email": me.email, "phone": me.phone}.items() if v})
        return preferences_of(me, await repo.save_preferences(me.subject, fields))

    # --- deliveries -----------------------------------------------------------------------------------------------

    @router.get("/api/v1/notify/deliveries", response_model=DeliveryList, summary="Deliveries of a dossier")
    async def deliveries(
        me: Staff, dossier_code: Annotated[str, Query(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9.\-]+$")]
    ) -> DeliveryList:
        docs = await repo.deliveries_of(dossier_code)
        if not me.has_any(Role.ADMIN, Role.OPS):
            docs = [d for d in docs if d.get("agency_code") == me.agency]
        items = []
        for doc in docs:
            history = [StatusChange(**s["record"]) for s in await repo.store.history(doc) if s.get("record")]
            fields = {k: doc.get(k) for k in DeliveryOut.model_fields if k not in {"id", "history"}}
            items.append(
                DeliveryOut(id=doc["_id"], history=history, **{k: v for k, v in fields.items() if v is not None})
            )
        return DeliveryList(dossier_code=dossier_code, items=items)

    # --- templates ------------------------------------------------------------------------------------------------

    @router.get("/api/v1/notify/templates", response_model=TemplateList, summary="Templates in use")
    async def templates(_: Operator) -> TemplateList:
        return TemplateList(
            items=[
                TemplateOut(
                    key=str(t.key),
                    event=t.key.event,
                    recipient=t.key.recipient.value,
                    channel=t.key.channel.value,
                    version=t.version,
                    languages=sorted(t.texts),
                )
                for t in notify.catalog
            ]
        )

    @router.get(
        "/api/v1/notify/templates/{event}/{recipient}/{channel}",
        response_model=Preview,
        summary="Preview a template with sample data",
    )
    async def preview(
        event: Annotated[str, Path(max_length=60, pattern=r"^[a-z_.]+$")],
        recipient: RecipientRole,
        channel: Channel,
        _: Operator,
        lang: Annotated[str, Query(pattern=r"^[a-z]{2}$")] = "vi",
    ) -> Preview:
        event_type = event_type_named(event)
        if event_type is None or (event, recipient, channel) not in {
            (t.key.event, t.key.recipient, t.key.channel) for t in notify.catalog
        }:
            raise Problem(404, "Not found", f"no template {event}/{recipient.value}/{channel.value}")
        if lang not in LANGUAGES:
            raise Problem(
                422, "Invalid request", f"language {lang!r} is not one of {list(LANGUAGES)}",
                errors=[{"field": "query.lang", "message": f"one of {list(LANGUAGES)}"}],
            )  # fmt: skip
        template = notify.catalog.template(event, recipient, channel)
        sample = sample_payload(EVENT_MODELS[event_type])
        rendered = render(template, lang, sample, SAMPLE_DOSSIER, SAMPLE_RECIPIENT)
        return Preview(
            key=rendered.template,
            version=rendered.template_version,
            language=rendered.language,
            subject=rendered.subject,
            body=rendered.body,
            sample_event=sample.model_dump(mode="json"),
        )

    # --- provider receipts ----------------------------------------------------------------------------------------

    @router.post(
        "/api/v1/notify/callbacks/{provider}",
        response_model=ReceiptAck,
        summary="Delivery receipt from the SMS provider (HMAC-SHA256 of the body in X-Hoso-Signature)",
        responses={401: {"description": "missing or wrong signature"}},
    )
    async def callback(provider: Annotated[str, Path(max_length=40)], request: Request) -> ReceiptAck:
        configured = notify.settings.sms
        if configured is None or provider != configured.name:
            raise Problem(404, "Not found", f"no provider {provider!r} is configured")
        body = await request.body()
        if not signature_valid(body, request.headers.get(SIGNATURE_HEADER), configured.callback_secret):
            raise Problem(401, "Unauthorized", f"missing or wrong {SIGNATURE_HEADER}")
        try:
            receipt = Receipt.model_validate_json(body)
        except ValidationError as exc:
            errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
            raise Problem(
                422, "Invalid receipt", "the receipt does not match the expected shape", errors=errors
            ) from exc
        doc = await notify.on_receipt(receipt.reference, receipt.outcome())
        if doc is None:
            raise Problem(404, "Not found", f"no delivery {receipt.reference}")
        return ReceiptAck(delivery_id=doc["_id"], status=doc["status"], final=doc["final"])

    return router
