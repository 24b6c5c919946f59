"""RFC 9457 problem details: every error leaves the API in one shape, naming the field at fault."""

from __future__ import annotations

import re
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from switchboard.application.errors import ApplicationError, ContactMerged
from switchboard.application.ports.storage import Conflict, StorageUnavailable

log = structlog.get_logger("switchboard.web")
PROBLEM = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[Any] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if field is not None:
        body["field"] = field
    if errors is not None:
        body["errors"] = errors
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
    errors = []
    for item in error.errors():
        if item.get("type") == "json_invalid":
            return problem(400, "Malformed JSON", f"the body is not valid JSON: {item.get('msg')}", field="body")
        errors.append({"field": _field_path(tuple(item.get("loc", ()))), "message": item.get("msg")})
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return problem(422, "Invalid input", f"{first['field']}: {first['message']}", field=first["field"], errors=errors)


async def _application(_: Request, error: ApplicationError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    if error.status == 503:
        headers = {"Retry-After": "1"}
    return problem(error.status, error.title, error.detail, field=error.field, headers=headers)


async def _merged(request: Request, error: ContactMerged) -> JSONResponse:
    """A merged contact: reads are sent on to the survivor (307, the same path), writes refused (409)."""
    extra = {"merged_into_id": error.survivor_id}
    if request.method in ("GET", "HEAD"):
        path = re.sub(rf"/contacts/{error.contact_id}(?=/|$)", f"/contacts/{error.survivor_id}", request.url.path)
        location = f"{path}?{request.url.query}" if request.url.query else path
        return problem(307, "Merged", error.detail, field=error.field, headers={"Location": location}, extra=extra)
    return problem(409, error.title, error.detail, field=error.field, extra=extra)


async def _unavailable(request: Request, error: StorageUnavailable) -> JSONResponse:
    log.warning("storage.unavailable", path=request.url.path, reason=str(error))
    return problem(
        503,
        "Service unavailable",
        "the database cannot be reached; nothing was written, try again",
        headers={"Retry-After": "2"},
    )


async def _conflict(_: Request, error: Conflict) -> JSONResponse:
    return problem(409, "Conflict", "the request collided with a concurrent change; try again")


async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
    titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large", 401: "Unauthenticated"}
    field = "body" if error.status_code == 413 else None
    return problem(error.status_code, titles.get(error.status_code, "Error"), str(error.detail), field=field)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("request.failed", path=request.url.path)
    return problem(500, "Internal error", "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(ContactMerged, _merged)  # type: ignore[arg-type]
    app.add_exception_handler(ApplicationError, _application)  # type: ignore[arg-type]
    app.add_exception_handler(StorageUnavailable, _unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(Conflict, _conflict)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
