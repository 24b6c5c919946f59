"""What the messenger connectors (Telegram, VK, Yandex Messenger) share beyond ``http``.

Their APIs answer a failure with a JSON body that says why (Telegram's ``description`` and
``parameters.retry_after``, VK's ``error`` object in an HTTP 200, Yandex's ``description``), so
they need the response, not only its status: ``request`` maps only the transport's failures and
``failure`` maps a status and the provider's reason onto the one meaning ``http.call`` gives them.

A transport error is not chained into the ``SendFailed``: a Telegram request's URL carries the bot
token, and a chained exception would carry it into every log that prints the traceback.

Also here: the settings every messenger channel may carry (``api_base``, ``max_file_bytes``), the
"chat:message" form of their external message ids, and a bounded memory of half-done sends so a
retried reply does not repeat the parts already delivered.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import httpx

from switchboard.adapters.connectors.http import MAX_REASON, retry_after_seconds
from switchboard.application.errors import InvalidInput
from switchboard.application.ports.connectors import SendFailed, WebhookRejected
from switchboard.application.ports.files import FileStore
from switchboard.domain.identity import Identity, IdentityKind

MIB = 1024 * 1024
MAX_FILE_LIMIT = 2 * 1024 * MIB
_URL = re.compile(r"^https?://[^\s/?#]+(?::\d+)?(?:/[^\s?#]*)?$")


async def request(client: httpx.AsyncClient, method: str, url: str, *, provider: str, **kwargs: Any) -> httpx.Response:
    """Send one request and return whatever the provider answered; a transport failure is retryable."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        raise SendFailed(f"{provider}: timed out ({type(error).__name__})", retryable=True) from None
    except httpx.TransportError as error:
        raise SendFailed(f"{provider}: cannot connect ({type(error).__name__})", retryable=True) from None
    except httpx.HTTPError as error:  # a bad encoding, too many redirects: worth another try, never the URL
        raise SendFailed(f"{provider}: request failed ({type(error).__name__})", retryable=True) from None


def failure(provider: str, response: httpx.Response, reason: str, retry_after: float | None = None) -> SendFailed:
    """A refused call: 429 waits (the body's time, else ``Retry-After``), 5xx and 408 retry, other 4xx fail."""
    status = response.status_code
    text = f"{provider}: HTTP {status} {reason}".strip()[:MAX_REASON]
    if status == 429:
        wait = retry_after if retry_after is not None else retry_after_seconds(response)
        return SendFailed(text, retryable=True, retry_after=wait)
    if status >= 500 or status == 408:
        return SendFailed(text, retryable=True, retry_after=retry_after_seconds(response))
    return SendFailed(text, retryable=False)


def response_object(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object, or an empty one when the body is not one (an HTML error page)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def webhook_object(body: bytes) -> dict[str, Any]:
    """A webhook body must be a JSON object; anything else is answered 400 and nothing is stored."""
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WebhookRejected(f"the body is not JSON ({error.__class__.__name__})", status=400) from None
    if not isinstance(parsed, dict):
        raise WebhookRejected("the body is not a JSON object", status=400)
    return parsed


# --- settings -------------------------------------------------------------------------------


def check_api_base(settings: Mapping[str, Any]) -> None:
    value = settings.get("api_base")
    if value is not None and (not isinstance(value, str) or not _URL.match(value)):
        raise InvalidInput("api_base must be an http(s) URL without query", field="settings.api_base")


def check_file_limit(settings: Mapping[str, Any]) -> None:
    value = settings.get("max_file_bytes")
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_FILE_LIMIT:
        raise InvalidInput(
            f"max_file_bytes must be a whole number from 1 to {MAX_FILE_LIMIT}", field="settings.max_file_bytes"
        )


def require_secret(secrets: Mapping[str, str], name: str, pattern: re.Pattern[str] | None = None) -> None:
    value = secrets.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"the secret {name} is required", field=f"secrets.{name}")
    if pattern is not None and not pattern.match(value):
        raise InvalidInput(f"the secret {name} does not look like one", field=f"secrets.{name}")


def api_base(settings: Mapping[str, Any], default: str) -> str:
    value = settings.get("api_base") or default
    return str(value).rstrip("/")


def file_limit(settings: Mapping[str, Any], default: int) -> int:
    value = settings.get("max_file_bytes")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


# --- addressing -----------------------------------------------------------------------------


def message_key(chat: str | int, message: str | int) -> str:
    """A provider message's external id: its chat and its number in the chat (numbers repeat across chats)."""
    return f"{chat}:{message}"


def chat_of(external_id: str | None) -> str | None:
    """The chat part of a ``message_key``."""
    if not external_id or ":" not in external_id:
        return None
    chat = external_id.rpartition(":")[0]
    return chat or None


def read_stored(files: FileStore, sha256: str) -> bytes:
    """An outgoing attachment's bytes (call it in a thread: it is disk I/O)."""
    with files.open(sha256) as handle:
        return handle.read()


def identity_value(identities: tuple[Identity, ...], kind: IdentityKind) -> str | None:
    return next((identity.value for identity in identities if identity.kind is kind), None)


# --- half-done sends ------------------------------------------------------------------------

T = TypeVar("T")


class Recent(Generic[T]):
    """A bounded memory (oldest forgotten first): of half-done sends, of looked-up names."""

    def __init__(self, capacity: int = 1024) -> None:
        self._items: OrderedDict[Any, T] = OrderedDict()
        self._capacity = capacity

    def get(self, key: Any) -> T | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Any, value: T) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def forget(self, key: Any) -> None:
        self._items.pop(key, None)
