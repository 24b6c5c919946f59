"""The web chat channel over HTTP and websocket: the widget's script, settings, files and live socket.

Everything here is public (the visitor is anonymous); the visitor is known by the ``sb_visitor``
cookie, signed with the secret key. Browsers that block third-party cookies get the same signed
token in the socket's welcome frame and send it back as ``?visitor=`` / ``X-Visitor-Token``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, WebSocket
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from switchboard.adapters.files.local import LocalFileStore
from switchboard.adapters.security.visitors import ForgedVisitor, VisitorTokens
from switchboard.application.access import Principal
from switchboard.application.errors import ApplicationError, Unauthenticated
from switchboard.application.ports.files import FileStore
from switchboard.application.webchat import (
    FileTooLarge,
    UploadedFile,
    WidgetConfig,
    file_url,
    find_file,
    open_visit,
    operator_typing,
    store_file,
    widget_config,
)
from switchboard.domain.webchat import MAX_ATTACHMENTS, MAX_TEXT, Throttle, WidgetSettings
from switchboard.web.access import STAFF, allow, container, current_principal, public
from switchboard.web.runtime import Runtime
from switchboard.web.schemas import PathId
from switchboard.web.stored_files import stored_file
from switchboard.web.visitor_protocol import ProtocolError, VisitorSession, serve_visitor
from switchboard.web.visitors import VisitorHub

router = APIRouter(tags=["web chat"])
api_router = APIRouter(tags=["web chat"])
VISITOR_COOKIE = "sb_visitor"
VISITOR_HEADER = "x-visitor-token"
COOKIE_SECONDS = 365 * 86_400
WIDGET_JS = Path(__file__).resolve().parent.parent / "static" / "widget" / "widget.js"
Sha256 = Annotated[str, PathParam(pattern=r"^[0-9a-fA-F]{64}$")]


# --- shapes ---------------------------------------------------------------------------------------------------


class PrechatFieldOut(BaseModel):
    name: str
    required: bool


class WidgetConfigOut(BaseModel):
    channel_id: int
    title: str
    online: bool = Field(description="the line works now by its calendar")
    next_opening: datetime | None = Field(description="when an offline line opens next")
    prechat_fields: list[PrechatFieldOut] = Field(description="asked before the first message; empty: no form")
    consent_required: bool
    offline_requires_contact: bool = Field(description="outside hours, a phone or email is needed to write")
    max_file_bytes: int
    file_types: list[str]
    frames_per_second: float
    max_text: int
    max_attachments: int

    @classmethod
    def of(cls, config: WidgetConfig) -> WidgetConfigOut:
        s = config.settings
        return cls(
            channel_id=config.channel_id,
            title=config.title,
            online=config.online,
            next_opening=config.next_opening,
            prechat_fields=[PrechatFieldOut(name=f.name, required=f.required) for f in s.prechat_fields],
            consent_required=s.consent_required,
            offline_requires_contact=s.offline_requires_contact,
            max_file_bytes=config.max_file_bytes,
            file_types=list(s.file_types),
            frames_per_second=s.frames_per_second,
            max_text=MAX_TEXT,
            max_attachments=MAX_ATTACHMENTS,
        )


class UploadedFileOut(BaseModel):
    sha256: str = Field(description="put it in a message frame's attachments")
    name: str
    content_type: str
    size: int
    url: str

    @classmethod
    def of(cls, uploaded: UploadedFile) -> UploadedFileOut:
        return cls(
            sha256=uploaded.sha256,
            name=uploaded.name,
            content_type=uploaded.content_type,
            size=uploaded.size,
            url=file_url(uploaded),
        )


class TypingOut(BaseModel):
    conversation_id: int
    sent: bool = Field(description="false when throttled (at most one notice a second) or the bus is down")


# --- helpers --------------------------------------------------------------------------------------------------


def tokens(runtime: Runtime) -> VisitorTokens:
    return VisitorTokens(runtime.settings.secret_key)


def files_of(runtime: Runtime, app_state: object) -> FileStore:
    """The shared content-addressed store (the container's when it has one, else the local directory)."""
    store = getattr(runtime, "files", None) or getattr(app_state, "webchat_files", None)
    if store is None:
        store = LocalFileStore(runtime.settings.files_dir)
        app_state.webchat_files = store  # type: ignore[attr-defined]
    return store  # type: ignore[no-any-return]


def server_limit(runtime: Runtime) -> int:
    return runtime.settings.body_limit_bytes


def cookie_header(runtime: Runtime, token: str) -> str:
    """``SameSite=None; Secure`` when served over HTTPS, so the widget works embedded on another site."""
    same_site = "None; Secure" if runtime.settings.cookie_secure else "Lax"
    return f"{VISITOR_COOKIE}={token}; Path=/webchat; Max-Age={COOKIE_SECONDS}; HttpOnly; SameSite={same_site}"


def allow_origin(response: Response, origin: str | None, settings: WidgetSettings | None) -> None:
    """CORS for the widget on the company's own site: the visitor's cookie travels with the request."""
    if origin and (settings is None or settings.origin_allowed(origin)):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"


def visitor_of(request: Request) -> str:
    """The visitor id of the signed cookie (or header); 401 when missing or forged."""
    runtime = container(request)
    token = request.cookies.get(VISITOR_COOKIE) or request.headers.get(VISITOR_HEADER)
    if not token:
        raise Unauthenticated("open the chat first: the visitor cookie is missing")
    try:
        return tokens(runtime).read(token)
    except ForgedVisitor as error:
        raise Unauthenticated("the visitor cookie is forged or tampered with") from error


# --- HTTP -----------------------------------------------------------------------------------------------------


@router.get("/webchat/widget.js", response_class=FileResponse, **public())
async def widget_script() -> FileResponse:
    """The embeddable widget: ``<script src="…/webchat/widget.js" data-channel="ID" async></script>``."""
    return FileResponse(
        WIDGET_JS, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/webchat/{channel_id}/config", response_model=WidgetConfigOut, **public())
async def config(channel_id: PathId, request: Request, response: Response) -> WidgetConfigOut:
    """What the widget shows before anyone writes: online by the line's hours, the pre-chat form, the limits."""
    runtime = container(request)
    found = await widget_config(runtime.services, channel_id, server_limit(runtime))
    allow_origin(response, request.headers.get("origin"), found.settings)
    response.headers["Cache-Control"] = "no-store"
    return WidgetConfigOut.of(found)


@router.options("/webchat/{channel_id}/files", include_in_schema=False, **public())
async def files_preflight(channel_id: PathId, request: Request) -> Response:
    response = Response(status_code=204)
    allow_origin(response, request.headers.get("origin"), None)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = f"content-type, {VISITOR_HEADER}"
    response.headers["Access-Control-Max-Age"] = "600"
    return response


@router.post(
    "/webchat/{channel_id}/files",
    response_model=UploadedFileOut,
    status_code=201,
    **public(),
    responses={
        401: {"description": "no visitor cookie, or a forged one"},
        413: {"description": "larger than the channel (or server) takes"},
        415: {"description": "a type the channel does not take, or content that is not what it says"},
    },
)
async def upload(
    channel_id: PathId,
    request: Request,
    response: Response,
    name: str = Query("file", max_length=255, description="the file's name as the visitor sees it"),
) -> UploadedFileOut:
    """Upload one attachment (the raw bytes as the body, its type as Content-Type), then send its sha256."""
    runtime = container(request)
    visitor_id = visitor_of(request)
    declared = request.headers.get("content-length", "")
    limit = server_limit(runtime)
    if declared.isdigit() and int(declared) > limit:
        raise FileTooLarge(f"the file is {declared} bytes; this chat takes files up to {limit} bytes", field="file")
    data = await request.body()
    uploaded = await store_file(
        runtime.services,
        files_of(runtime, request.app.state),
        channel_id,
        visitor_id,
        data,
        request.headers.get("content-type", ""),
        name,
        limit,
    )
    allow_origin(response, request.headers.get("origin"), None)
    return UploadedFileOut.of(uploaded)


@router.get("/webchat/{channel_id}/files/{sha256}", response_class=Response, **public())
async def download(channel_id: PathId, sha256: Sha256, request: Request) -> Response:
    """A file a visitor uploaded to this chat; pictures inline, the rest as a download, never run."""
    runtime = container(request)
    uploaded = await find_file(runtime.services, channel_id, sha256)
    store = files_of(runtime, request.app.state)
    return await stored_file(store, uploaded.sha256, uploaded.content_type, uploaded.name)


@api_router.post("/conversations/{conversation_id}/typing", response_model=TypingOut, status_code=202, **allow(*STAFF))
async def typing(
    conversation_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> TypingOut:
    """The operator is typing: the web chat visitor's widget shows it (at most one notice a second)."""
    runtime = container(request)
    throttle = getattr(request.app.state, "operator_typing", None)
    if throttle is None:
        throttle = request.app.state.operator_typing = Throttle(1.0)
    if not throttle.allow(f"{principal.user_id}:{conversation_id}", time.monotonic()):
        return TypingOut(conversation_id=conversation_id, sent=False)
    sent = await operator_typing(runtime.services, runtime.bus, principal, conversation_id)
    return TypingOut(conversation_id=conversation_id, sent=sent)


# --- the visitor's socket -------------------------------------------------------------------------------------


@router.websocket("/webchat/{channel_id}/ws")
async def visitor_socket(websocket: WebSocket, channel_id: int) -> None:
    """The widget's live connection; see ``web/visitor_protocol.py`` for frames and close codes.

    A refused connection is accepted and then closed with a code and a reason, because browsers never
    see the reason of a refused handshake.
    """
    runtime: Runtime = websocket.app.state.container
    signer = tokens(runtime)
    token = websocket.cookies.get(VISITOR_COOKIE) or websocket.query_params.get("visitor")
    headers: list[tuple[bytes, bytes]] = []
    try:
        visitor_id = signer.read(token) if token else None
    except ForgedVisitor:
        # refused, and the bad cookie is dropped so that the widget's next try starts as a new visitor
        # (after a secret key rotation every old cookie is "forged")
        expire = f"{VISITOR_COOKIE}=; Path=/webchat; Max-Age=0; HttpOnly".encode()
        await websocket.accept(headers=[(b"set-cookie", expire)])
        await websocket.close(code=4401, reason="the visitor cookie is forged or tampered with")
        return
    if visitor_id is None:
        visitor_id = signer.new_visitor()
        token = signer.issue(visitor_id, int(runtime.services.clock.now().timestamp()))
        headers.append((b"set-cookie", cookie_header(runtime, token).encode()))
    assert token is not None
    await websocket.accept(headers=headers)
    try:
        config_ = await widget_config(runtime.services, channel_id, server_limit(runtime))
        if not config_.settings.origin_allowed(websocket.headers.get("origin")):
            raise ProtocolError(4403, "this site may not embed the chat")
        visit = await open_visit(runtime.services, channel_id, visitor_id, server_limit(runtime))
    except ProtocolError as error:
        await websocket.close(code=error.code, reason=error.reason)
        return
    except ApplicationError as error:
        await websocket.close(code=4404 if error.status == 404 else 1011, reason=error.detail)
        return
    hub: VisitorHub = websocket.app.state.visitors
    await serve_visitor(VisitorSession(websocket, runtime, hub, visit, token))
