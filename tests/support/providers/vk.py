"""A local VK API server and Callback API sender: what a VK channel uses, answered as documented.

Fixture use::

    async with FakeVk().running() as vk:
        settings = {"api_base": vk.base_url, "confirmation_code": vk.confirmation_code, "group_id": vk.group_id}
        secrets = {"access_token": vk.token, "secret": vk.secret}
        vk.add_file("photo-big.jpg", b"…")                 # served at <base>/files/photo-big.jpg
        event = vk.event("message_new_photo")              # a fixture with this community's id, secret and file URLs
        vk.api_error_next("messages.send", 9, "Flood control")
        await vk.deliver(event, "http://127.0.0.1:8000/api/v1/channels/7/webhook")

Endpoints: ``POST /method/<name>`` with form fields (a wrong ``access_token`` answers error 5), for
``messages.send`` (answered with the new message id; a repeated ``random_id`` for the same peer is
answered with the first message's id and not delivered again), ``users.get``, ``groups.getById``,
``photos.getMessagesUploadServer`` → ``POST /upload/photo`` → ``photos.saveMessagesPhoto``, and
``docs.getMessagesUploadServer`` → ``POST /upload/doc`` → ``docs.save``. ``GET /files/<name>`` serves
attachments of inbound events. ``delivered`` lists the messages VK would show, in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Response

from switchboard.application.ports.connectors import WebhookRequest
from tests.support.providers import FIXTURES, ProviderServer, Recorded, Uploaded, answer

TOKEN = "vk1.a.community-token-for-tests"
CDN = "https://sun9-54.userapi.com"  # attachment URLs in the fixtures; served by the fake under /files


@dataclass(slots=True)
class Delivered:
    id: int
    peer_id: int
    random_id: int
    message: str
    attachment: str
    uploads: list[Uploaded] = field(default_factory=list)


class FakeVk(ProviderServer):
    def __init__(self, token: str = TOKEN, group_id: int = 197700001) -> None:
        super().__init__()
        self.token = token
        self.group_id = group_id
        self.secret = "callback-secret-key"
        self.confirmation_code = "d8v2ve07"
        self.users: dict[int, dict[str, Any]] = {2050: {"id": 2050, "first_name": "Анна", "last_name": "Смирнова"}}
        self.delivered: list[Delivered] = []
        self._files: dict[str, bytes] = {}
        self._uploads: dict[str, Uploaded] = {}
        self._saved: dict[str, Uploaded] = {}
        self._next = 500

    def add_file(self, name: str, data: bytes) -> None:
        self._files[name] = data

    def api_error_next(self, method: str, code: int, message: str) -> None:
        """The next call of ``method`` answers HTTP 200 with VK's error object."""
        error = {"error_code": code, "error_msg": message, "request_params": [{"key": "method", "value": method}]}
        self.fail_next(200, {"error": error}, path=f"/method/{method}")

    def event(self, name: str, **changes: Any) -> dict[str, Any]:
        """A fixture event of this community, its secret and file URLs pointing at this server."""
        text = (FIXTURES / "vk" / f"{name}.json").read_text(encoding="utf-8").replace(CDN, f"{self.base_url}/files")
        event: dict[str, Any] = json.loads(text)
        if "group_id" in event:
            event["group_id"] = self.group_id
        if "secret" in event:
            event["secret"] = self.secret
        event.update(changes)
        return event

    def webhook_request(self, event: dict[str, Any]) -> WebhookRequest:
        body = json.dumps(event, ensure_ascii=False).encode()
        return WebhookRequest("POST", {"content-type": "application/json"}, {}, body)

    async def deliver(self, event: dict[str, Any], url: str) -> httpx.Response:
        request = self.webhook_request(event)
        async with httpx.AsyncClient() as client:
            return await client.post(url, content=request.body, headers=dict(request.headers))

    # --- the server ------------------------------------------------------------------------------

    async def handle(self, recorded: Recorded) -> Response:
        path = recorded.path
        if path.startswith("/files/"):
            data = self._files.get(path.removeprefix("/files/"))
            if data is None:
                return answer(404, "Not Found")
            return Response(data, 200, media_type="application/octet-stream")
        if path.startswith("/upload/"):
            return self._upload(path.removeprefix("/upload/"), recorded)
        if not path.startswith("/method/"):
            return answer(404, "Not Found")
        params = recorded.form or recorded.query
        if params.get("access_token") != self.token:
            return _error(5, "User authorization failed: invalid access_token (4).")
        if not params.get("v"):
            return _error(8, "Invalid request: v (version) is required")
        method = getattr(self, "_" + path.removeprefix("/method/").replace(".", "_"), None)
        if method is None:
            return _error(3, "Unknown method passed")
        return answer(200, {"response": method(params)})

    def _messages_send(self, params: dict[str, str]) -> int:
        peer, random_id = int(params["peer_id"]), int(params["random_id"])
        for earlier in self.delivered:
            if (earlier.peer_id, earlier.random_id) == (peer, random_id):
                return earlier.id
        self._next += 1
        uploads = [self._saved[key] for key in params.get("attachment", "").split(",") if key in self._saved]
        message = Delivered(
            self._next, peer, random_id, params.get("message", ""), params.get("attachment", ""), uploads
        )
        self.delivered.append(message)
        return message.id

    def _users_get(self, params: dict[str, str]) -> list[dict[str, Any]]:
        ids = [int(part) for part in params.get("user_ids", "").split(",") if part]
        return [self.users[user] for user in ids if user in self.users]

    def _groups_getById(self, params: dict[str, str]) -> dict[str, Any]:
        return {"groups": [{"id": self.group_id, "name": "Магазин", "screen_name": "shop"}], "profiles": []}

    def _photos_getMessagesUploadServer(self, params: dict[str, str]) -> dict[str, Any]:
        return {"upload_url": f"{self.base_url}/upload/photo", "album_id": -3, "group_id": self.group_id}

    def _docs_getMessagesUploadServer(self, params: dict[str, str]) -> dict[str, Any]:
        return {"upload_url": f"{self.base_url}/upload/doc"}

    def _photos_saveMessagesPhoto(self, params: dict[str, str]) -> list[dict[str, Any]]:
        self._next += 1
        key = f"photo-{self.group_id}_{self._next}_k{self._next}"
        self._saved[key] = self._uploads[params["photo"]]
        return [{"id": self._next, "owner_id": -self.group_id, "access_key": f"k{self._next}"}]

    def _docs_save(self, params: dict[str, str]) -> dict[str, Any]:
        self._next += 1
        self._saved[f"doc-{self.group_id}_{self._next}"] = self._uploads[params["file"]]
        return {"type": "doc", "doc": {"id": self._next, "owner_id": -self.group_id, "title": params.get("title")}}

    def _upload(self, kind: str, recorded: Recorded) -> Response:
        upload = recorded.files.get("photo" if kind == "photo" else "file")
        if upload is None:
            return answer(200, {"error": "no file"})
        key = f"{kind}-upload-{len(self._uploads) + 1}"
        self._uploads[key] = upload
        if kind == "photo":
            return answer(200, {"server": 842123, "photo": key, "hash": "a1b2c3"})
        return answer(200, {"file": key})


def _error(code: int, message: str) -> Response:
    return answer(200, {"error": {"error_code": code, "error_msg": message, "request_params": []}})
