"""Local stand-ins for messenger providers: real HTTP servers on loopback speaking the documented endpoints.

Each provider module (``telegram``, ``vk``, ``yandex``) has a ``Fake…`` class built on ``ProviderServer``:

- ``async with FakeTelegram().running() as telegram:`` starts a uvicorn server on 127.0.0.1 (a free
  port) inside the test's event loop; ``telegram.base_url`` is what a channel's ``api_base`` setting
  points at.
- ``server.requests`` lists every request received, in order, as ``Recorded`` (method, path, query,
  headers, raw body, and the parsed JSON, form fields and uploaded files); ``server.calls("sendMessage")``
  filters them by a path ending.
- ``server.fail_next(status, body, path=…, times=…, headers=…)`` answers the next matching requests
  with that status and body (a dict is sent as JSON) instead of the normal answer: 429 with the
  provider's retry hint, a 5xx, a 4xx; ``skip=n`` lets the first n matching requests through.
  With ``after=True`` the request is first handled normally (the provider did the work) and then
  answered with the failure — a lost answer, for idempotency tests.
- ``server.deliver(update)`` posts a webhook to the URL registered through the provider's set-up
  call, exactly as the provider would (headers, secret), for end-to-end tests through our route;
  ``server.webhook_request(update)`` builds the same call as a ``WebhookRequest`` for a connector.

Payloads come from ``tests/fixtures/<provider>/*.json``, copied from the providers' documentation
(``fixture("telegram", "voice")``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from fastapi import FastAPI, Request, Response

from switchboard.application.ports.connectors import WebhookRequest
from tests.support.server import serving

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def fixture(provider: str, name: str) -> Any:
    """A documented payload: ``tests/fixtures/<provider>/<name>.json``."""
    return json.loads((FIXTURES / provider / f"{name}.json").read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Uploaded:
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, Uploaded] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """Whatever the client sent as parameters: JSON body, form fields or query."""
        if isinstance(self.json, dict):
            return self.json
        return self.form or self.query


@dataclass(slots=True)
class Scripted:
    status: int
    body: Any
    headers: dict[str, str]
    path: str | None
    times: int
    after: bool
    skip: int


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Uploaded]]:
    """multipart/form-data read with the standard library's MIME parser (no extra dependency)."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    form: dict[str, str] = {}
    files: dict[str, Uploaded] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            form[name] = data.decode("utf-8")
        else:
            files[name] = Uploaded(filename, part.get_content_type(), data)
    return form, files


class ProviderServer:
    """A recording HTTP server whose subclasses answer like one provider (``handle``)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._scripted: list[Scripted] = []
        self.base_url = ""
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self._endpoint, methods=["GET", "POST"], include_in_schema=False)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Self]:
        async with serving(self.app) as host:
            self.base_url = f"http://{host}"
            yield self

    def fail_next(
        self,
        status: int,
        body: Any = None,
        *,
        path: str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        after: bool = False,
        skip: int = 0,
    ) -> None:
        self._scripted.append(Scripted(status, body, headers or {}, path, times, after, skip))

    def calls(self, ending: str) -> list[Recorded]:
        return [recorded for recorded in self.requests if recorded.path.rstrip("/").endswith(ending.rstrip("/"))]

    async def handle(self, recorded: Recorded) -> Response:
        raise NotImplementedError

    async def _endpoint(self, request: Request, path: str) -> Response:
        recorded = await _record(request)
        self.requests.append(recorded)
        scripted = self._take_script(recorded.path)
        if scripted is None:
            return await self.handle(recorded)
        if scripted.after:
            await self.handle(recorded)
        return answer(scripted.status, scripted.body, scripted.headers)

    def _take_script(self, path: str) -> Scripted | None:
        for scripted in self._scripted:
            if scripted.path is None or path.rstrip("/").endswith(scripted.path.rstrip("/")):
                if scripted.skip > 0:
                    scripted.skip -= 1
                    return None
                scripted.times -= 1
                if scripted.times <= 0:
                    self._scripted.remove(scripted)
                return scripted
        return None


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, bytes):
        return Response(body, status, headers=headers)
    if isinstance(body, str):
        return Response(body, status, headers=headers, media_type="text/plain")
    return Response(json.dumps(body, ensure_ascii=False), status, headers=headers, media_type="application/json")


async def _record(request: Request) -> Recorded:
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    recorded = Recorded(
        request.method, request.url.path, dict(request.query_params), dict(request.headers.items()), body
    )
    if content_type.startswith("application/json") and body:
        recorded.json = json.loads(body)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        recorded.form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        recorded.form, recorded.files = parse_multipart(content_type, body)
    return recorded


@dataclass(frozen=True)
class WebhookCall:
    """One webhook as the provider sends it, before anything on our side reads it."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    def request(self) -> WebhookRequest:
        """What our webhook route hands the connector: lower-cased headers, the URL's query, the raw body."""
        query = dict(parse_qsl(urlsplit(self.url).query))
        headers = {name.lower(): value for name, value in self.headers.items()}
        return WebhookRequest(method=self.method, headers=headers, query=query, body=self.body)
