"""The public /api/v1 as typed calls, with the signed-in person's bearer token; problem+json becomes ApiProblem.

This is the only module that talks to the platform: the portal reads no service's database and consumes no topic.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

import httpx

from hoso.http import REQUEST_ID_HEADER


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ApiProblem(Exception):
    """An answer of 4xx/5xx from the API, with the fields its problem+json names."""

    status: int
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"

    @classmethod
    def of(cls, answer: httpx.Response) -> ApiProblem:
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        errors = []
        for raw in body.get("errors") or []:
            if isinstance(raw, dict):
                errors.append(FieldError(field=str(raw.get("field", "")), message=str(raw.get("message", ""))))
        return cls(
            status=answer.status_code,
            title=str(body.get("title", answer.reason_phrase)),
            detail=str(body.get("detail", "")),
            errors=errors,
        )


class Unauthorised(Exception):
    """The API did not accept the token (expired or revoked): the person must sign in again."""


@dataclass(frozen=True)
class Download:
    content_type: str
    headers: dict[str, str]
    chunks: AsyncIterator[bytes]


class PlatformApi:
    def __init__(self, http: httpx.AsyncClient, *, upload_timeout: float) -> None:
        self._http = http
        self._upload_timeout = upload_timeout

    async def _call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        request_id: str | None = None,
        expect: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        answer = await self._http.request(method, path, headers=headers, **kwargs)
        if answer.status_code == 401 and token:
            raise Unauthorised(answer.text[:200])
        if answer.status_code not in expect:
            raise ApiProblem.of(answer)
        return answer.json() if answer.content else None

    # --- catalog (public) -----------------------------------------------------------------------------------------

    async def procedures(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "/api/v1/procedures")
        return result

    async def procedure(self, code: str, *, on: date | None = None) -> dict[str, Any]:
        params = {"on": on.isoformat()} if on else {}
        result: dict[str, Any] = await self._call("GET", f"/api/v1/procedures/{code}", params=params)
        return result

    async def fee_quote(self, code: str, fields: Mapping[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v1/procedures/{code}/fee", params=dict(fields))
        return result

    # --- tracking (public) ----------------------------------------------------------------------------------------

    async def tracking(self, code: str, pin: str, *, client_address: str | None) -> dict[str, Any]:
        headers = {"X-Forwarded-For": client_address} if client_address else {}
        result: dict[str, Any] = await self._call(
            "GET", f"/api/v1/tracking/{code}", params={"pin": pin}, headers=headers
        )
        return result

    # --- an applicant's dossiers ----------------------------------------------------------------------------------

    async def my_dossiers(self, token: str, *, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "GET", "/api/v1/dossiers", token=token, params={"offset": offset, "limit": limit}
        )
        return result

    async def dossier(self, token: str, code: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v1/dossiers/{code}", token=token)
        return result

    async def timeline(self, token: str, code: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v1/records/dossiers/{code}/timeline", token=token)
        return result

    async def upload(self, token: str, *, name: str, content_type: str, data: IO[bytes]) -> dict[str, Any]:
        """One file to intake, streamed from `data` (a spooled temporary file), never read whole into memory."""
        result: dict[str, Any] = await self._call(
            "POST",
            "/api/v1/files",
            token=token,
            expect=(201,),
            files={"file": (name, data, content_type)},
            timeout=self._upload_timeout,
        )
        return result

    async def add_draft_file(
        self, token: str, draft_id: str, component: str, *, name: str, content_type: str, data: IO[bytes]
    ) -> dict[str, Any]:
        """One file to a draft's component, streamed from `data`; intake checks it by the component's rules and
        answers with the draft as it now is."""
        result: dict[str, Any] = await self._call(
            "POST",
            f"/api/v1/drafts/{draft_id}/components/{component}/files",
            token=token,
            expect=(201,),
            files={"file": (name, data, content_type)},
            timeout=self._upload_timeout,
        )
        return result

    async def submit(
        self, token: str, body: Mapping[str, Any], *, idempotency_key: str, request_id: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST",
            "/api/v1/dossiers",
            token=token,
            request_id=request_id,
            expect=(200, 201),
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return result

    async def supplement(self, token: str, code: str, body: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/api/v1/dossiers/{code}/supplements", token=token, json=body
        )
        return result

    async def withdraw(self, token: str, code: str, reason: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/api/v1/dossiers/{code}/withdrawal", token=token, json={"reason": reason}
        )
        return result

    async def payment(self, token: str, code: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v1/dossiers/{code}/payment", token=token)
        return result

    # --- messages between applicant and agency --------------------------------------------------------------------

    async def open_messages(self, token: str, code: str) -> dict[str, Any]:
        """The dossier's messages, the other side's now marked read (the person is looking at them)."""
        result: dict[str, Any] = await self._call("POST", f"/api/v1/dossiers/{code}/messages/read", token=token)
        return result

    async def send_message(self, token: str, code: str, body: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/api/v1/dossiers/{code}/messages", token=token, expect=(201,), json=body
        )
        return result

    # --- ratings, statistics and performance ----------------------------------------------------------------------

    async def rating(self, token: str, code: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = await self._call("GET", f"/api/v1/records/dossiers/{code}/rating", token=token)
        except ApiProblem as problem:
            if problem.status == 404:
                return None
            raise
        return result

    async def rate(self, token: str, code: str, body: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/api/v1/records/dossiers/{code}/rating", token=token, expect=(201,), json=body
        )
        return result

    async def stats(self, token: str, params: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/v1/records/stats", token=token, params=dict(params))
        return result

    async def performance(self, *, procedure: str | None = None, months: int = 12) -> dict[str, Any]:
        params: dict[str, Any] = {"months": months} | ({"procedure": procedure} if procedure else {})
        result: dict[str, Any] = await self._call("GET", "/api/v1/records/performance", params=params)
        return result

    # --- the officers' desk ---------------------------------------------------------------------------------------

    async def register(self, token: str, body: Mapping[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        """A paper dossier registered at the desk (a reception officer's token)."""
        result: dict[str, Any] = await self._call(
            "POST",
            "/api/v1/dossiers/registered",
            token=token,
            expect=(200, 201),
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return result

    async def tasks(self, token: str, params: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/v1/review/tasks", token=token, params=dict(params))
        return result

    async def councils(self, token: str) -> dict[str, Any]:
        """The open dossiers whose appraisal council the caller sits on."""
        result: dict[str, Any] = await self._call("GET", "/api/v1/review/councils", token=token)
        return result

    async def task_counts(self, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/v1/review/tasks/counts", token=token)
        return result

    async def workflow_dossier(self, token: str, code: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v1/review/dossiers/{code}", token=token)
        return result

    async def act(self, token: str, code: str, body: Mapping[str, Any], *, request_id: str | None) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/api/v1/review/dossiers/{code}/actions", token=token, request_id=request_id, json=body
        )
        return result

    # --- drafts ---------------------------------------------------------------------------------------------------

    async def drafts(self, token: str) -> list[dict[str, Any]]:
        result: dict[str, Any] = await self._call("GET", "/api/v1/drafts", token=token)
        items: list[dict[str, Any]] = result["items"]
        return items

    async def draft(self, token: str, draft_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v1/drafts/{draft_id}", token=token)
        return result

    async def create_draft(self, token: str, body: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/api/v1/drafts", token=token, expect=(201,), json=body)
        return result

    async def save_draft(self, token: str, draft_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("PUT", f"/api/v1/drafts/{draft_id}", token=token, json=body)
        return result

    async def delete_draft(self, token: str, draft_id: str) -> None:
        await self._call("DELETE", f"/api/v1/drafts/{draft_id}", token=token, expect=(204, 404))

    # --- notifications --------------------------------------------------------------------------------------------

    async def inbox(self, token: str, *, page: int = 1) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "GET", "/api/v1/notifications", token=token, params={"page": page, "page_size": 20}
        )
        return result

    async def mark_read(self, token: str, item_id: str) -> None:
        await self._call("POST", f"/api/v1/notifications/{item_id}/read", token=token)

    async def preferences(self, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/v1/notify/preferences", token=token)
        return result

    async def set_preferences(self, token: str, body: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("PUT", "/api/v1/notify/preferences", token=token, json=body)
        return result

    # --- downloads (a file, a form) -------------------------------------------------------------------------------

    async def download(self, token: str, path: str) -> tuple[httpx.Response, Download]:
        """Open a download from the API; the caller streams `chunks` and then closes the answer."""
        request = self._http.build_request("GET", path, headers={"Authorization": f"Bearer {token}"})
        answer = await self._http.send(request, stream=True)
        if answer.status_code == 401:
            await answer.aclose()
            raise Unauthorised(path)
        if answer.status_code != 200:
            await answer.aread()
            await answer.aclose()
            raise ApiProblem.of(answer)
        kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-disposition", "x-content-sha256")}
        return answer, Download(
            content_type=answer.headers.get("content-type", "application/octet-stream"),
            headers=kept,
            chunks=answer.aiter_bytes(),
        )
