"""Intake's HTTP API: parse, authorise, call a handler, shape the answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, File, Header, Path, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from hoso.auth import OFFICER_ROLES, Principal, Role, current_principal, require_roles
from hoso.events.catalog import Channel, FileRef
from hoso.mongo import Document, bson_now
from hoso.outbox import OutboxRelay
from hoso.problems import Problem
from hoso.retry import retry_transient
from intake import handlers, payments
from intake.catalog_store import CatalogStore, VersionExists
from intake.domain.catalog import (
    FeeUndetermined,
    NoVersionInForce,
    OverlappingVersions,
    ProcedureVersion,
    UnknownProcedure,
    version_in_force,
)
from intake.domain.codes import DOSSIER_CODE_PATTERN, service_day
from intake.domain.content import UnrecognisedContent
from intake.drafts import DraftNotFound, DraftStore
from intake.files import FileStore, StoredFile
from intake.messages import MAX_MESSAGES, MessageStore, ThreadFull, side_of
from intake.repository import DossierRepository
from intake.schemas import (
    CallbackAnswer,
    DossierOut,
    DossierPage,
    DraftList,
    DraftOut,
    FeeQuote,
    FileOut,
    FindingOut,
    MessageIn,
    MessageList,
    MessageOut,
    PaymentOut,
    ProcedureOut,
    ProcedureSummary,
    RegisterDossier,
    SubmitDossier,
    SupplementIn,
    VersionSummary,
    WithdrawalIn,
)
from intake.settings import IntakeSettings

Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Reception = Annotated[Principal, Depends(require_roles(Role.RECEPTION_OFFICER))]
Uploader = Annotated[Principal, Depends(require_roles(Role.APPLICANT, *OFFICER_ROLES))]
Reader = Annotated[Principal, Depends(require_roles(Role.APPLICANT, *OFFICER_ROLES))]
# A member of a dossier's appraisal council, through their own account, reads the dossier and its files.
CouncilReader = Annotated[Principal, Depends(require_roles(Role.APPLICANT, *OFFICER_ROLES, Role.COUNCIL_MEMBER))]
Anyone = Annotated[Principal, Depends(current_principal)]
Code = Annotated[str, Path(max_length=80, pattern=DOSSIER_CODE_PATTERN)]
DraftId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
ComponentCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
DRAFT_WRITE_ATTEMPTS = 5
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="A client-chosen key; a retried request with the same key returns the same dossier",
    ),
]


@dataclass(frozen=True)
class IntakeContext:
    repo: DossierRepository
    catalog: CatalogStore
    files: FileStore
    relay: OutboxRelay
    settings: IntakeSettings
    drafts: DraftStore
    messages: MessageStore


def procedures_router(ctx: IntakeContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1/procedures", tags=["procedures"])

    @router.get("", response_model=list[ProcedureSummary], summary="Procedures in force (public)")
    async def list_procedures(
        on: Annotated[date | None, Query(description="Day (default: today)")] = None,
    ) -> list[ProcedureSummary]:
        day = on or service_day(bson_now(), ctx.settings.timezone)
        versions = await ctx.catalog.all_versions()
        return [ProcedureSummary.of(v) for v in sorted(versions, key=lambda v: v.procedure_code) if v.in_force(day)]

    @router.get("/{code}", response_model=ProcedureOut, summary="A procedure: the version in force and its history")
    async def get_procedure(
        code: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
        on: Annotated[date | None, Query()] = None,
    ) -> ProcedureOut:
        day = on or service_day(bson_now(), ctx.settings.timezone)
        versions = await ctx.catalog.versions_of(code)
        try:
            current = version_in_force(versions, code, day)
        except (UnknownProcedure, NoVersionInForce) as exc:
            raise Problem(404, "Not found", str(exc)) from exc
        return ProcedureOut(
            in_force=current,
            versions=[
                VersionSummary(version=v.version, effective_from=v.effective_from, effective_to=v.effective_to)
                for v in versions
            ],
        )

    @router.get("/{code}/fee", response_model=FeeQuote, summary="The fee for a project, by the catalog's rule (public)")
    async def fee_quote(
        code: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
        request: Request,
        on: Annotated[date | None, Query()] = None,
    ) -> FeeQuote:
        day = on or service_day(bson_now(), ctx.settings.timezone)
        try:
            version = version_in_force(await ctx.catalog.versions_of(code), code, day)
        except (UnknownProcedure, NoVersionInForce) as exc:
            raise Problem(404, "Not found", str(exc)) from exc
        fields: dict[str, object] = {}
        for spec in version.fields:
            raw = request.query_params.get(spec.name)
            if raw is None or raw == "":
                continue
            if spec.type == "integer":
                if not raw.isdigit() or len(raw) > 20:
                    raise _fee_problem(spec.name, "a whole number, zero or more")
                fields[spec.name] = int(raw)
            else:
                fields[spec.name] = raw[: spec.max_length]
        try:
            amount = version.fee.amount_for(fields, day)
        except FeeUndetermined as exc:
            raise _fee_problem(exc.field, str(exc)) from exc
        return FeeQuote(
            procedure_code=version.procedure_code,
            version=version.version,
            amount_vnd=amount,
            legal_basis=version.fee.legal_basis,
            uncertain=version.fee.uncertain,
            note=version.fee.note,
        )

    @router.post("", status_code=201, response_model=ProcedureVersion, summary="Publish a new version (admin)")
    async def publish(body: ProcedureVersion, admin: Admin) -> ProcedureVersion:
        today = service_day(bson_now(), ctx.settings.timezone)
        if body.effective_from < today:
            detail = f"a new version takes effect today ({today.isoformat()}) or later"
            raise Problem(
                422, "Invalid version", detail, errors=[{"field": "effective_from", "in": "body", "message": detail}]
            )
        try:
            await ctx.catalog.publish(body, published_by=admin.subject)
        except (OverlappingVersions, VersionExists) as exc:
            raise Problem(
                409,
                "Version conflict",
                str(exc),
                errors=[{"field": "effective_from", "in": "body", "message": str(exc)}],
            ) from exc
        return body

    return router


def _size_of(source: BinaryIO) -> int:
    source.seek(0, 2)
    size = source.tell()
    source.seek(0)
    return size


def _fee_problem(field: str, message: str) -> Problem:
    return Problem(422, "Fee undetermined", message, errors=[{"field": field, "in": "query", "message": message}])


async def store_upload(ctx: IntakeContext, owner: Principal, file: UploadFile) -> StoredFile:
    """Keep an uploaded file for its owner after the checks every upload gets (size, not empty, a known type).

    The request's file is spooled to disk as it arrives; it is read from there in chunks, never whole."""
    size = file.size if file.size is not None else await asyncio.to_thread(_size_of, file.file)
    if size > ctx.settings.max_upload_bytes:
        raise Problem(
            413,
            "Too large",
            f"a file may have at most {ctx.settings.max_upload_bytes} bytes",
            errors=[{"field": "file", "in": "body", "message": "too large"}],
        )
    if size == 0:
        raise Problem(
            422, "Empty file", "the file is empty", errors=[{"field": "file", "in": "body", "message": "empty"}]
        )
    try:
        return await ctx.files.store(owner=owner.subject, name=file.filename, data=file.file)
    except UnrecognisedContent as exc:
        raise Problem(
            415, "Unsupported file type", str(exc), errors=[{"field": "file", "in": "body", "message": str(exc)}]
        ) from exc


def files_router(ctx: IntakeContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1/files", tags=["files"])

    @router.post("", status_code=201, response_model=FileOut, summary="Upload one file (applicants; officers' scans)")
    async def upload(uploader: Uploader, file: Annotated[UploadFile, File(description="One file")]) -> FileOut:
        return FileOut.of(await store_upload(ctx, uploader, file))

    @router.get("/{file_id}", summary="Download a file (its owner, or officers of the dossier's agency)")
    async def download(
        file_id: Annotated[str, Path(pattern=r"^[0-9a-f]{24}$")], principal: Anyone
    ) -> StreamingResponse:
        stored = await ctx.files.get(file_id)
        allowed = stored is not None and (
            stored.owner == principal.subject
            or (principal.has_any(*OFFICER_ROLES) and stored.agency_code == principal.agency)
        )
        if stored is not None and not allowed and stored.dossier_id:
            # A file the agency attached to a message on the applicant's own dossier; a file of a dossier whose
            # appraisal council the reader sits on.
            dossier = await ctx.repo.by_id(stored.dossier_id)
            allowed = dossier is not None and (
                dossier["applicant_id"] == principal.subject or handlers.seated_on_council(dossier, principal)
            )
        if stored is None or not allowed:
            raise Problem(404, "Not found", "no such file that you may read")
        headers = {"Content-Disposition": f'attachment; filename="{stored.name}"', "X-Content-SHA256": stored.sha256}
        return StreamingResponse(ctx.files.stream(file_id), media_type=stored.content_type, headers=headers)

    return router


def _message_list(thread: list[Document], side: str) -> MessageList:
    unread = sum(1 for m in thread if m["side"] != side and m["read_at"] is None)
    return MessageList(items=[MessageOut.of(m) for m in thread], unread=unread)


def dossiers_router(ctx: IntakeContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1/dossiers", tags=["dossiers"])
    seal_key = ctx.settings.seal_key  # opens the receipt's tracking PIN for its owner

    async def create(
        applicant: Principal,
        command: SubmitDossier,
        key: str,
        request: Request,
        response: Response,
        channel: Channel = "online",
        registered_by: Principal | None = None,
    ) -> Document:
        """The dossier of a submission or registration: 201 when made now, 200 for the one this key made before."""
        # A submission is idempotent by its key, so a transient database fault is retried here, whole.
        submission = await retry_transient(
            lambda: handlers.submit_dossier(
                ctx.repo,
                ctx.catalog,
                ctx.files,
                ctx.relay,
                applicant=applicant,
                command=command,
                idempotency_key=key,
                correlation_id=request.state.correlation_id,
                timezone=ctx.settings.timezone,
                channel=channel,
                registered_by=registered_by,
            ),
            attempts=8,
            max_delay=2.0,
        )
        if not submission.created:
            response.status_code = status.HTTP_200_OK
        response.headers["Location"] = f"/api/v1/dossiers/{submission.dossier['code']}"
        return submission.dossier

    @router.post(
        "",
        status_code=201,
        response_model=DossierOut,
        summary="Submit a dossier",
        responses={200: {"model": DossierOut, "description": "The dossier this Idempotency-Key created before"}},
    )
    async def submit(
        body: SubmitDossier, applicant: Applicant, key: IdempotencyKey, request: Request, response: Response
    ) -> DossierOut:
        return DossierOut.of(await create(applicant, body, key, request, response))

    @router.post(
        "/registered",
        status_code=201,
        response_model=DossierOut,
        summary="Register a paper dossier brought to the desk or sent by post (reception officers)",
        responses={200: {"model": DossierOut, "description": "The dossier this Idempotency-Key registered before"}},
    )
    async def register(
        body: RegisterDossier, officer: Reception, key: IdempotencyKey, request: Request, response: Response
    ) -> DossierOut:
        person = body.applicant
        # The applicant has no account behind this dossier: they are known by their identifier, as on their papers.
        applicant = Principal(
            subject=f"desk:{person.kind}:{person.identifier}",
            roles=frozenset({Role.APPLICANT}),
            name=person.name,
            email=person.email,
            phone=person.phone,
            address=person.address,
            personal_id=person.personal_id,
            tax_code=person.tax_code,
        )
        dossier = await create(
            applicant, body.as_submission(), key, request, response, channel=body.channel, registered_by=officer
        )
        return DossierOut.of(dossier, owner=False)

    @router.get("", response_model=DossierPage, summary="My dossiers")
    async def list_mine(
        applicant: Applicant,
        status_code: Annotated[int | None, Query(alias="status", ge=1, le=10)] = None,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> DossierPage:
        docs, total = await ctx.repo.list_for_applicant(applicant.subject, status=status_code, skip=offset, limit=limit)
        items = [DossierOut.of(d, seal_key=seal_key) for d in docs]
        return DossierPage(items=items, offset=offset, limit=limit, total=total)

    @router.get("/{code}", response_model=DossierOut, summary="One dossier (its owner, or officers of its agency)")
    async def get_one(code: Code, reader: CouncilReader) -> DossierOut:
        doc, readership = await handlers.dossier_read_by(ctx.repo, code, reader, council=True)
        owner = readership is handlers.Readership.OWNER
        ids = [i for c in doc.get("components", []) for i in c["file_ids"]]
        ids += [i for s in doc.get("supplements", []) for c in s["components"] for i in c["file_ids"]]
        stored = await ctx.files.get_many(ids)
        files = [FileOut.of(stored[i]) for i in dict.fromkeys(ids) if i in stored]
        # The tracking PIN is on the applicant's receipt: shown to them alone.
        return DossierOut.of(
            doc,
            seal_key=seal_key if owner else None,
            files=files,
            owner=owner,
            contact=readership is not handlers.Readership.COUNCIL,
        )

    @router.get("/{code}/messages", response_model=MessageList, summary="The messages between applicant and agency")
    async def messages(code: Code, reader: Reader) -> MessageList:
        doc = await handlers.readable_dossier(ctx.repo, code, reader)
        thread = await ctx.messages.thread(doc["_id"])
        return _message_list(thread, side_of(reader, doc))

    @router.post(
        "/{code}/messages/read",
        response_model=MessageList,
        summary="The caller has opened the messages: the other side's unread ones are read now",
    )
    async def read_messages(code: Code, reader: Reader, request: Request) -> MessageList:
        doc = await handlers.readable_dossier(ctx.repo, code, reader)
        thread = await ctx.messages.mark_read(doc, reader, request.state.correlation_id)
        return _message_list(thread, side_of(reader, doc))

    @router.post("/{code}/messages", status_code=201, response_model=MessageOut, summary="Write to the other side")
    async def send_message(code: Code, body: MessageIn, author: Reader, request: Request) -> MessageOut:
        doc = await handlers.readable_dossier(ctx.repo, code, author)
        stored = await ctx.files.get_many(body.file_ids)
        problems = []
        for n, file_id in enumerate(body.file_ids):
            found = stored.get(file_id)
            if found is None or found.owner != author.subject:
                problems.append({"field": f"file_ids.{n}", "in": "body", "message": "not a file you uploaded"})
            elif found.dossier_id not in (None, doc["_id"]):
                problems.append({"field": f"file_ids.{n}", "in": "body", "message": "already part of another dossier"})
        if problems:
            raise Problem(422, "Invalid message", "the message cannot be sent: " + ", ".join(
                p["field"] for p in problems), errors=problems)  # fmt: skip
        attachments = [
            FileRef(id=f.id, name=f.name, content_type=f.content_type, size=f.size, sha256=f.sha256)
            for f in (stored[i] for i in dict.fromkeys(body.file_ids))
        ]
        try:
            message = await ctx.messages.send(doc, author, body.text.strip(), attachments, request.state.correlation_id)
        except ThreadFull as exc:
            raise Problem(409, "Too many messages", f"dossier {code} has {MAX_MESSAGES} messages") from exc
        await ctx.files.attach(list(stored), dossier_id=doc["_id"], agency_code=doc["agency_code"])
        return MessageOut.of(message)

    @router.post("/{code}/supplements", response_model=DossierOut, summary="Supplement a dossier (status 5)")
    async def supplement(code: Code, body: SupplementIn, applicant: Applicant, request: Request) -> DossierOut:
        doc = await handlers.supplement_dossier(
            ctx.repo,
            ctx.catalog,
            ctx.files,
            ctx.relay,
            applicant=applicant,
            code=code,
            command=body,
            correlation_id=request.state.correlation_id,
        )
        return DossierOut.of(doc)

    @router.post("/{code}/withdrawal", response_model=DossierOut, summary="Ask to withdraw a dossier")
    async def withdraw(code: Code, body: WithdrawalIn, applicant: Applicant, request: Request) -> DossierOut:
        doc = await handlers.withdraw_dossier(
            ctx.repo,
            ctx.relay,
            applicant=applicant,
            code=code,
            command=body,
            correlation_id=request.state.correlation_id,
        )
        return DossierOut.of(doc)

    @router.get("/{code}/payment", response_model=PaymentOut, summary="The signed payment link for the fee (status 6)")
    async def payment(code: Code, applicant: Applicant, request: Request) -> PaymentOut:
        client_ip = request.headers.get("X-Forwarded-For", request.client.host if request.client else "127.0.0.1")
        link = await payments.payment_link(
            ctx.repo, ctx.settings, applicant=applicant, code=code, client_ip=client_ip.split(",")[0].strip()
        )
        return PaymentOut(
            provider=ctx.settings.payment_provider,
            reference=link.reference,
            amount_vnd=link.amount_vnd,
            payment_url=link.url,
        )

    return router


def payments_router(ctx: IntakeContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1/payments", tags=["payments"])

    @router.get("/callbacks/{provider}", response_model=CallbackAnswer, summary="Payment provider callback (IPN)")
    async def callback(provider: Annotated[str, Path(max_length=32)], request: Request) -> CallbackAnswer:
        if provider != ctx.settings.payment_provider:
            raise Problem(404, "Not found", f"no payment provider {provider!r}")
        params = {k: v for k, v in request.query_params.items() if len(k) <= 64 and len(v) <= 512}
        message = await payments.confirm_payment(ctx.repo, ctx.relay, ctx.settings, params=params)
        return CallbackAnswer(RspCode="02" if "already" in message else "00", Message=message)

    return router


def drafts_router(ctx: IntakeContext) -> APIRouter:
    """Drafts: a dossier being prepared, its author's alone; no code, no event, deleted after the retention."""
    router = APIRouter(prefix="/api/v1/drafts", tags=["drafts"])

    async def answers(applicant: Principal, docs: list[Document]) -> list[DraftOut]:
        """The drafts with their files and what each still misses: one look-up of the files, one of each procedure."""
        day = service_day(bson_now(), ctx.settings.timezone)
        versions: dict[str, ProcedureVersion | None] = {}
        for code in {d["procedure_code"] for d in docs}:
            try:
                versions[code] = version_in_force(await ctx.catalog.versions_of(code), code, day)
            except (UnknownProcedure, NoVersionInForce):
                versions[code] = None
        stored = await ctx.files.get_many([i for d in docs for c in d["components"] for i in c["file_ids"]])
        out = []
        for doc in docs:
            mine = {i: stored[i] for c in doc["components"] for i in c["file_ids"] if i in stored}
            missing = handlers.missing_in_draft(versions[doc["procedure_code"]], doc, mine, owner=applicant)
            files = [FileOut.of(f) for f in mine.values()]
            out.append(DraftOut.of(doc, files, [FindingOut(field=f.field, message=f.message) for f in missing]))
        return out

    async def answer(applicant: Principal, doc: Document) -> DraftOut:
        return (await answers(applicant, [doc]))[0]

    async def own(applicant: Principal, draft_id: str) -> Document:
        try:
            return await ctx.drafts.get(applicant.subject, draft_id)
        except DraftNotFound as exc:
            raise Problem(404, "Not found", str(exc)) from exc

    @router.post("", status_code=201, response_model=DraftOut, summary="Start a draft")
    async def create(body: SubmitDossier, applicant: Applicant) -> DraftOut:
        content = await handlers.draft_content(
            ctx.catalog, ctx.files, owner=applicant, command=body, timezone=ctx.settings.timezone
        )
        return await answer(applicant, await ctx.drafts.create(applicant.subject, content))

    @router.get("", response_model=DraftList, summary="My drafts, the latest changed first")
    async def list_mine(applicant: Applicant) -> DraftList:
        return DraftList(items=await answers(applicant, await ctx.drafts.list_for(applicant.subject)))

    @router.get("/{draft_id}", response_model=DraftOut, summary="One of my drafts")
    async def get_one(draft_id: DraftId, applicant: Applicant) -> DraftOut:
        return await answer(applicant, await own(applicant, draft_id))

    @router.put("/{draft_id}", response_model=DraftOut, summary="Replace a draft's content")
    async def replace(draft_id: DraftId, body: SubmitDossier, applicant: Applicant) -> DraftOut:
        if body.procedure_code != (await own(applicant, draft_id))["procedure_code"]:
            detail = "a draft stays with the procedure it was started for"
            raise Problem(
                422, "Invalid draft", detail, errors=[{"field": "procedure_code", "in": "body", "message": detail}]
            )
        content = await handlers.draft_content(
            ctx.catalog, ctx.files, owner=applicant, command=body, timezone=ctx.settings.timezone
        )
        try:
            doc = await ctx.drafts.replace(applicant.subject, draft_id, content)
        except DraftNotFound as exc:
            raise Problem(404, "Not found", str(exc)) from exc
        return await answer(applicant, doc)

    @router.post(
        "/{draft_id}/components/{component}/files",
        status_code=201,
        response_model=DraftOut,
        summary="Add one file to a component of a draft, checked by the component's rules as it arrives",
    )
    async def add_file(
        draft_id: DraftId,
        component: ComponentCode,
        applicant: Applicant,
        file: Annotated[UploadFile, File(description="One file")],
    ) -> DraftOut:
        draft = await own(applicant, draft_id)
        day = service_day(bson_now(), ctx.settings.timezone)
        version = await handlers.procedure_in_force(ctx.catalog, draft["procedure_code"], day)
        if component not in {c.code for c in version.components}:
            raise Problem(404, "Not found", f"{draft['procedure_code']} has no component {component!r}")
        stored = await store_upload(ctx, applicant, file)
        for _ in range(DRAFT_WRITE_ATTEMPTS):
            try:
                content = await handlers.draft_with_file(ctx.files, version, draft, component, stored, owner=applicant)
            except Problem:
                await ctx.files.discard(stored.id)  # refused here: not kept for anyone
                raise
            saved = await ctx.drafts.replace_if_unchanged(draft, content)
            if saved is not None:
                return await answer(applicant, saved)
            draft = await own(applicant, draft_id)  # changed meanwhile (another file, a save): add to the new one
        raise Problem(409, "Conflict", "the draft kept changing meanwhile; send the file again")

    @router.delete("/{draft_id}", status_code=204, summary="Delete a draft")
    async def delete(draft_id: DraftId, applicant: Applicant) -> Response:
        try:
            await ctx.drafts.delete(applicant.subject, draft_id)
        except DraftNotFound as exc:
            raise Problem(404, "Not found", str(exc)) from exc
        return Response(status_code=204)

    return router
