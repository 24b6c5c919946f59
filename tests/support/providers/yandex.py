"""A local Yandex Messenger bot API: the endpoints a Yandex channel uses, answered as documented.

Fixture use::

    async with FakeYandex().running() as yandex:
        settings = {"api_base": yandex.base_url}
        secrets = {"oauth_token": yandex.token}
        yandex.add_file("disk/<guid>", b"hello")              # what getFile streams for that file_id
        yandex.queue(fixture("yandex", "private_text"))       # updates getUpdates hands out (polling)
        await yandex.deliver(fixture("yandex", "file"))       # POST to the webhook_url set via self/update

Endpoints (``Authorization: OAuth <token>`` required, else 401): ``POST /bot/v1/self/update/``
(remembers ``webhook_url``), ``GET|POST /bot/v1/messages/getUpdates/`` (``offset``/``limit``;
updates below ``offset`` are erased, as documented), ``GET|POST /bot/v1/messages/getFile/``,
``POST /bot/v1/messages/sendText/`` (a repeated ``payload_id`` is answered with the first message's
id and not delivered again), ``sendFile/`` and ``sendImage/`` (multipart). ``delivered`` lists what
the chat would show, in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from fastapi import Response

from switchboard.application.ports.connectors import WebhookRequest
from tests.support.providers import ProviderServer, Recorded, Uploaded, answer

TOKEN = "y0_AgAAAAB0-bot-token-for-tests"
BOT_ID = "103ecea2-e303-478d-91a7-b6d423ace527"


@dataclass(frozen=True, slots=True)
class Delivered:
    message_id: int
    to: dict[str, str]  # {"login": …} or {"chat_id": …}
    text: str | None = None
    upload: Uploaded | None = None
    payload_id: str | None = None


class FakeYandex(ProviderServer):
    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.webhook_url: str | None = None
        self.delivered: list[Delivered] = []
        self._updates: list[dict[str, Any]] = []
        self._files: dict[str, bytes] = {}
        self._next = 1702400000000005

    def add_file(self, file_id: str, data: bytes) -> None:
        self._files[file_id] = data

    def queue(self, response: dict[str, Any]) -> None:
        """Updates (a documented ``getUpdates`` answer) waiting for the bot's next poll."""
        self._updates.extend(response["updates"])

    def webhook_request(self, body: dict[str, Any], *, secret: str | None = None) -> WebhookRequest:
        """The call Yandex makes to the registered webhook URL (its query included)."""
        query = dict(parse_qsl(urlsplit(self.webhook_url or "").query))
        if secret is not None:
            query["secret"] = secret
        return WebhookRequest("POST", {"content-type": "application/json"}, query, _json(body))

    async def deliver(self, body: dict[str, Any]) -> httpx.Response:
        assert self.webhook_url, "no webhook_url was set"
        async with httpx.AsyncClient() as client:
            return await client.post(
                self.webhook_url, content=_json(body), headers={"content-type": "application/json"}
            )

    # --- the server ------------------------------------------------------------------------------

    async def handle(self, recorded: Recorded) -> Response:
        if recorded.headers.get("authorization") != f"OAuth {self.token}":
            return answer(401, {"ok": False, "description": "Unauthorized"})
        route = recorded.path.removeprefix("/bot/v1/").strip("/")
        params = recorded.params()
        if route == "self/update":
            self.webhook_url = params.get("webhook_url")
            return answer(200, {"ok": True, "id": BOT_ID, "display_name": "Shop bot", "webhook_url": self.webhook_url})
        if route == "messages/getUpdates":
            return self._get_updates(int(params.get("offset", 0)), int(params.get("limit", 100)))
        if route == "messages/getFile":
            data = self._files.get(str(params.get("file_id")))
            if data is None:
                return answer(400, {"ok": False, "description": "Failed to get file"})
            return Response(data, 200, media_type="application/octet-stream")
        if route in ("messages/sendText", "messages/sendFile", "messages/sendImage"):
            return self._send(route.rsplit("/", 1)[-1], recorded)
        return answer(404, {"ok": False, "description": "Invalid route"})

    def _get_updates(self, offset: int, limit: int) -> Response:
        self._updates = [update for update in self._updates if update["update_id"] >= offset]
        return answer(200, {"updates": self._updates[:limit], "ok": True})

    def _send(self, method: str, recorded: Recorded) -> Response:
        params = recorded.params()
        to = {key: str(params[key]) for key in ("login", "chat_id") if params.get(key)}
        if len(to) != 1:
            return answer(400, {"ok": False, "description": "Either chat_id or login must be set"})
        payload_id = params.get("payload_id")
        for earlier in self.delivered:
            if payload_id and earlier.payload_id == payload_id:
                return answer(200, {"ok": True, "message_id": earlier.message_id})
        upload = recorded.files.get("image" if method == "sendImage" else "document")
        if method != "sendText" and upload is None:
            return answer(400, {"ok": False, "description": "No file"})
        self._next += 1000
        self.delivered.append(Delivered(self._next, to, params.get("text"), upload, payload_id))
        return answer(200, {"ok": True, "message_id": self._next})


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()
