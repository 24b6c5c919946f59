"""A local Meta Graph API: exactly the endpoints the WhatsApp, Messenger and Instagram connectors use.

Run it with ``async with meta_graph() as graph:`` (a real uvicorn server on a free loopback port)
and point a channel at it with ``settings["api_base"] = graph.api_base``. It

- answers ``GET /v25.0/{id}`` for the phone number, the Page, the Instagram account (``?fields=``
  honoured) and media ids (``add_media``), whose ``url`` is ``/media-download/{id}`` here — served only
  with the bearer token, as Meta's media URLs are;
- takes ``POST /v25.0/{phone_number_id}/messages`` (WhatsApp), ``POST /v25.0/{phone_number_id}/media``
  (multipart upload), ``POST /v25.0/me/messages`` (Messenger and Instagram, JSON or multipart
  ``filedata``) and ``POST /v25.0/{page_id}/subscribed_apps``, answering with Meta's bodies and ids
  numbered in order (``wamid.out-1``, ``m_out-1``, media ``900001``);
- serves ``/cdn/...`` files without a token (``add_cdn``), as Messenger's attachment URLs are, and
  ``/redirect/...`` answers 302 to the same file under ``/cdn/``, as Instagram's lookaside links do;
- refuses a wrong or missing token with Graph's error 190 (HTTP 401);
- records every request (``requests``, ``sent()``) with its JSON, form fields and uploaded files;
- answers the next matching call with an error on demand (``fail_next``: any HTTP status, Graph
  ``error.code``, headers such as ``Retry-After``).

Webhooks are sent as Meta sends them: the body is JSON with non-ASCII escaped (``\\u00e9``), and
``X-Hub-Signature-256: sha256=<hex>`` is the HMAC-SHA256 of exactly those bytes with the app secret
(``meta_body``, ``signature``, ``webhook_headers``, ``post_webhook``; ``verification_query`` for the GET
handshake). The constants below are the ids the fixtures in ``tests/fixtures/meta`` use.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tests.support.server import serving

VERSION = "v25.0"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAtest-token"
APP_SECRET = "6f1c2a9e0b7d4c3f8a5e2d1b0c9f8e7d"
VERIFY_TOKEN = "switchboard-verify-1"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
PAGE_ID = "106421835586127"
INSTAGRAM_ACCOUNT_ID = "17841405309211844"
CUSTOMER_WA_ID = "79161234567"
CUSTOMER_PSID = "6754318947863547"
CUSTOMER_IGSID = "1020304050607080"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "meta"


@dataclass(frozen=True)
class Uploaded:
    name: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # after the version, e.g. "/106540352242922/messages"
    headers: dict[str, str]
    query: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, Uploaded] = field(default_factory=dict)


@dataclass
class Failure:
    path_suffix: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


class MetaGraph:
    """The local Graph API's state: objects, media, recorded requests and errors to answer next."""

    def __init__(self) -> None:
        self.base_url = ""  # set once serving: http://127.0.0.1:<port>
        self.requests: list[Recorded] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.uploads: dict[str, Uploaded] = {}
        self.cdn_files: dict[str, tuple[bytes, str]] = {}
        self.failures: list[Failure] = []
        self.objects: dict[str, dict[str, Any]] = {
            PHONE_NUMBER_ID: {
                "id": PHONE_NUMBER_ID,
                "display_phone_number": "+1 555-078-3881",
                "verified_name": "Lucky Shrub",
                "quality_rating": "GREEN",
                "code_verification_status": "VERIFIED",
            },
            PAGE_ID: {"id": PAGE_ID, "name": "Lucky Shrub"},
            INSTAGRAM_ACCOUNT_ID: {"id": INSTAGRAM_ACCOUNT_ID, "username": "luckyshrub", "name": "Lucky Shrub"},
        }
        self._ids = itertools.count(1)
        self.app = self._build()

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/{VERSION}"

    @property
    def cdn_base(self) -> str:
        return f"{self.base_url}/cdn"

    # --- set-up by tests ----------------------------------------------------------------------

    def add_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        self.media[media_id] = (data, mime_type)

    def add_cdn(self, path: str, data: bytes, content_type: str) -> str:
        self.cdn_files[path.lstrip("/")] = (data, content_type)
        return f"{self.cdn_base}/{path.lstrip('/')}"

    def fail_next(
        self,
        path_suffix: str,
        status: int,
        *,
        code: int | None = None,
        message: str = "",
        details: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        body: dict[str, Any] | None = None,
    ) -> None:
        """The next ``times`` calls whose path ends with ``path_suffix`` get this Graph error."""
        if body is None:
            error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
            if details is not None:
                error["error_data"] = {"messaging_product": "whatsapp", "details": details}
            body = {"error": error}
        self.failures.append(Failure(path_suffix, status, body, headers or {}, times))

    def sent(self, path_suffix: str = "/messages") -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith(path_suffix)]

    # --- the server ---------------------------------------------------------------------------

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/cdn/{path:path}")
        async def cdn(path: str, request: Request) -> Response:
            await self._record(request, f"/cdn/{path}")
            found = self.cdn_files.get(path)
            if found is None:
                return Response(status_code=404)
            return Response(found[0], media_type=found[1])

        @app.get("/redirect/{path:path}")
        async def redirect(path: str, request: Request) -> Response:
            await self._record(request, f"/redirect/{path}")
            return Response(status_code=302, headers={"location": f"{self.cdn_base}/{path}"})

        @app.get("/media-download/{media_id}")
        async def media_download(media_id: str, request: Request) -> Response:
            await self._record(request, f"/media-download/{media_id}")
            if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
                return Response(status_code=401)
            failure = self._failure(f"/media-download/{media_id}")
            if failure is not None:
                return failure
            found = self.media.get(media_id)
            if found is None:
                return Response(status_code=404)
            return Response(found[0], media_type=found[1])

        @app.api_route("/{version}/{path:path}", methods=["GET", "POST"])
        async def graph(version: str, path: str, request: Request) -> Response:
            record = await self._record(request, f"/{path}")
            if version != VERSION:
                return _error(400, 100, f"Unknown version {version}")
            failure = self._failure(record.path)
            if failure is not None:
                return failure
            if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
                return _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
            return self._answer(record)

        return app

    async def _record(self, request: Request, path: str) -> Recorded:
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        payload, form, files = None, {}, {}
        if content_type.startswith("application/json"):
            payload = json.loads(body)
        elif content_type.startswith("multipart/form-data"):
            form, files = _multipart(content_type, body)
        record = Recorded(request.method, path, dict(request.headers), dict(request.query_params), payload, form, files)
        self.requests.append(record)
        return record

    def _failure(self, path: str) -> Response | None:
        for failure in self.failures:
            if path.endswith(failure.path_suffix) and failure.times > 0:
                failure.times -= 1
                return JSONResponse(failure.body, failure.status, headers=failure.headers)
        return None

    def _answer(self, record: Recorded) -> Response:
        parts = record.path.strip("/").split("/")
        if record.method == "GET" and len(parts) == 1:
            return self._get(parts[0], record.query.get("fields"))
        if record.method == "POST" and parts == [PHONE_NUMBER_ID, "messages"]:
            return self._whatsapp_message(record)
        if record.method == "POST" and parts == [PHONE_NUMBER_ID, "media"]:
            return self._upload(record)
        if record.method == "POST" and len(parts) == 2 and parts[0] in ("me", PAGE_ID) and parts[1] == "messages":
            return self._page_message(record)
        if record.method == "POST" and parts == [PAGE_ID, "subscribed_apps"]:
            return JSONResponse({"success": True})
        return _error(400, 100, f"Unsupported {record.method} request {record.path}")

    def _get(self, node: str, fields: str | None) -> Response:
        if node in self.media:
            data, mime_type = self.media[node]
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.base_url}/media-download/{node}",
                    "mime_type": mime_type,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "file_size": len(data),
                    "id": node,
                }
            )
        found = self.objects.get(node)
        if found is None:
            return _error(400, 100, f"Unsupported get request. Object with ID '{node}' does not exist")
        wanted = fields.split(",") if fields else list(found)
        return JSONResponse({key: found[key] for key in ("id", *wanted) if key in found})

    def _whatsapp_message(self, record: Recorded) -> Response:
        body = record.json or {}
        if body.get("messaging_product") != "whatsapp" or not body.get("to") or body.get("type") not in body:
            return _error(400, 100, "(#100) Invalid parameter")
        wamid = f"wamid.out-{next(self._ids)}"
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            }
        )

    def _upload(self, record: Recorded) -> Response:
        upload = record.files.get("file")
        if record.form.get("messaging_product") != "whatsapp" or upload is None:
            return _error(400, 100, "(#100) The parameter messaging_product is required.")
        media_id = str(900000 + next(self._ids))
        self.uploads[media_id] = upload
        return JSONResponse({"id": media_id})

    def _page_message(self, record: Recorded) -> Response:
        body = record.json if record.json is not None else {k: _maybe_json(v) for k, v in record.form.items()}
        recipient = (body.get("recipient") or {}).get("id")
        if not recipient or not body.get("message"):
            return _error(400, 100, "(#100) The parameter recipient is required")
        return JSONResponse({"recipient_id": recipient, "message_id": f"m_out-{next(self._ids)}"})


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}}, status
    )


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Uploaded]]:
    """Parse multipart/form-data with the standard library (the server needs no extra package)."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    form: dict[str, str] = {}
    files: dict[str, Uploaded] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            form[str(name)] = data.decode()
        else:
            files[str(name)] = Uploaded(filename, part.get_content_type(), data)
    return form, files


@contextlib.asynccontextmanager
async def meta_graph() -> AsyncIterator[MetaGraph]:
    graph = MetaGraph()
    async with serving(graph.app) as address:
        graph.base_url = f"http://{address}"
        yield graph


# --- webhooks as Meta sends them ----------------------------------------------------------------


def load_fixture(name: str, **values: str) -> dict[str, Any]:
    """A payload from tests/fixtures/meta, with ``$cdn`` and other ``$names`` filled in."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(string.Template(text).safe_substitute(values))
    return loaded


def meta_body(payload: dict[str, Any]) -> bytes:
    """The bytes Meta posts: compact JSON, non-ASCII escaped with lowercase hex."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def signature(body: bytes, app_secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_headers(body: bytes, app_secret: str = APP_SECRET) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "facebookexternalua",
        "x-hub-signature-256": signature(body, app_secret),
    }


def verification_query(verify_token: str = VERIFY_TOKEN, challenge: str = "1158201444") -> dict[str, str]:
    return {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}


async def post_webhook(
    client: httpx.AsyncClient, url: str, payload: dict[str, Any], app_secret: str = APP_SECRET
) -> httpx.Response:
    """POST a webhook to Switchboard exactly as Meta does (for end-to-end tests through the web route)."""
    body = meta_body(payload)
    return await client.post(url, content=body, headers=webhook_headers(body, app_secret))
