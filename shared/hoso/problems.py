"""RFC 9457 problem details: every error answer is application/problem+json, shaped in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hoso.faults import is_transient
from hoso.logs import get_logger

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error the API answers with; subclasses name domain errors."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extra = extra


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# Parts of a pydantic error location that name a union member or a key check rather than a field.
_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "none", "list", "dict", "[key]"})


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else ""
        parts = [p for p in loc[1:] if p not in _TYPE_TAGS and "[" not in p] if len(loc) > 1 else loc
        field = ".".join(parts)
        out.setdefault((where, field), {"field": field, "in": where, "message": err.get("msg", "")})
    return list(out.values())


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.title, exc.detail, headers=exc.headers, errors=exc.errors, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        fields = ", ".join(e["field"] or e["in"] for e in errors)
        return problem_response(request, 422, "Invalid request", f"invalid or missing: {fields}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            request,
            exc.status_code,
            _title(exc.status_code),
            str(exc.detail),
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):
            log.warning("http.dependency_unavailable", path=request.url.path, error=f"{type(exc).__name__}: {exc}")
            detail = "a backing service is unavailable; nothing was changed, retry later"
            return problem_response(request, 503, "Service unavailable", detail, headers={"Retry-After": "5"})
        log.exception("http.unhandled_error", path=request.url.path)
        return problem_response(request, 500, "Internal error", "the request could not be completed")


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
