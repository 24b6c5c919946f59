"""SMS.ru: send through ``/sms/send``, statuses by its callback (or by polling ``/sms/status``).

Sending posts ``api_id``, ``to`` (digits), ``msg``, ``json=1`` and, when set, ``from`` (a sender name
SMS.ru approved). The answer has an overall status and one entry per number: ``sms_id`` when it
was taken, else a status code; codes that can succeed later (no funds yet, a daily or per-minute
limit, the service briefly down) are retryable, the others fail the message with SMS.ru's reason.
SMS.ru splits a long text itself and refuses one over 8 SMS (code 205).

SMS.ru posts statuses to the callback URL registered for the account (``connect`` registers the
channel's webhook URL with ``/callback/add``): form fields ``data[0]`` … ``data[N]``, each
``"sms_status\\n<sms id>\\n<status code>\\n<unix time>"``, and ``hash`` = SHA-256 hex of the api_id
followed by every data entry in order. A callback whose hash does not match is refused; when the
channel has a ``callback_token`` secret, the URL must also carry it as ``?token=…`` (SMS.ru sends
back the URL it was given). The handler answers ``100``, else SMS.ru keeps retrying. SMS.ru's API
offers no inbound SMS: other entry types (``callcheck_status``, ``test``) are acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from switchboard.adapters.connectors.http import call, same_secret
from switchboard.adapters.connectors.sms import settings as read
from switchboard.adapters.connectors.sms.phones import digits, recipient
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundMessage,
    Receipt,
    SendFailed,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from switchboard.domain.conversation import DeliveryStatus

log = logging.getLogger("switchboard.sms.smsru")

API = "https://sms.ru"
MAX_PARTS = 8  # code 205: "the message is too long (over 8 SMS)"
ACKNOWLEDGED = b"100"

# Request codes (https://sms.ru/api/send): the ones that may succeed later, with how long to wait.
RETRY_LATER: dict[int, float | None] = {201: 600.0, 206: 3600.0, 220: None, 231: 60.0, 500: None}
CODES = {
    200: "wrong api_id",
    201: "not enough money on the account",
    202: "wrong recipient number, or no route to it",
    203: "no message text",
    204: "the sender name is not approved",
    205: "the message is longer than 8 SMS",
    206: "the daily sending limit is reached",
    207: "no delivery route to this number",
    208: "wrong time parameter",
    209: "the number is in the stop list",
    210: "GET used where POST is needed",
    211: "method not found",
    212: "the text must be UTF-8",
    213: "more than 100 recipients",
    220: "the service is temporarily unavailable",
    230: "the daily limit of messages to this number is reached",
    231: "the per-minute limit of identical messages to this number is reached",
    232: "the daily limit of identical messages to this number is reached",
    233: "repeated codes to this number too fast (fraud protection)",
    300: "wrong token",
    301: "wrong api_id, login or password",
    302: "the account is not confirmed",
    500: "server error, try again",
    901: "callback URL must start with http:// or https://",
    902: "callback handler not found",
}
# Message status codes (https://sms.ru/api/status), as callbacks and /sms/status give them.
STATUS = {
    100: DeliveryStatus.QUEUED,
    101: DeliveryStatus.SENT,
    102: DeliveryStatus.SENT,
    103: DeliveryStatus.DELIVERED,
    110: DeliveryStatus.READ,
    104: DeliveryStatus.FAILED,
    105: DeliveryStatus.FAILED,
    106: DeliveryStatus.FAILED,
    107: DeliveryStatus.FAILED,
    108: DeliveryStatus.FAILED,
    150: DeliveryStatus.FAILED,
}
FAILURES = {
    104: "not delivered: its lifetime expired",
    105: "not delivered: deleted by the operator",
    106: "not delivered: handset failure",
    107: "not delivered: unknown reason",
    108: "not delivered: rejected",
    150: "not delivered: no route to the number",
}
_DATA_KEY = re.compile(r"data\[(\d*)\]|data")


def callback_hash(api_id: str, entries: Sequence[str]) -> str:
    """SMS.ru's callback signature: sha256(api_id + entry1 + entry2 …) in hex."""
    return hashlib.sha256((api_id + "".join(entries)).encode("utf-8")).hexdigest()


def failure(code: int, text: str | None = None) -> SendFailed:
    """A refused request as ``SendFailed``: retryable per SMS.ru's code table."""
    reason = f"smsru: {code} {text or CODES.get(code, 'unknown code')}".strip()
    if code in RETRY_LATER:
        return SendFailed(reason, retryable=True, retry_after=RETRY_LATER[code])
    return SendFailed(reason, retryable=False)


POLL_INTERVAL_S = 60.0


class SmsRuProvider:
    name: str = "smsru"
    secret_names: tuple[str, ...] = ("api_id", "callback_token")

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        read.optional_text(settings, "from", max_length=11)
        read.url(settings, "base_url", default=API)
        if settings.get("webhook_url") is not None:
            read.url(settings, "webhook_url")
        read.flag(settings, "test", False)
        read.max_parts(settings, MAX_PARTS)
        self.poll_interval(settings)
        read.secret(secrets, "api_id")

    def poll_interval(self, settings: Mapping[str, Any]) -> float | None:
        """Seconds between status polls when ``poll_statuses`` is on (no callback reaches us); else None."""
        every = read.number(settings, "poll_interval_seconds", POLL_INTERVAL_S, low=5, high=3600)
        return every if read.flag(settings, "poll_statuses", False) else None

    def max_parts(self, settings: Mapping[str, Any]) -> int:
        return read.max_parts(settings, MAX_PARTS)

    def max_characters(self) -> int | None:
        return None

    def _url(self, config: ChannelConfig, path: str) -> str:
        return f"{read.url(config.settings, 'base_url', default=API)}{path}"

    async def _post(self, config: ChannelConfig, path: str, form: dict[str, str]) -> dict[str, Any]:
        form = {"api_id": config.secret("api_id"), "json": "1", **form}
        response = await call(self._client, "POST", self._url(config, path), provider="smsru", data=form)
        try:
            answer = response.json()
        except json.JSONDecodeError as error:
            raise SendFailed(f"smsru: unreadable answer: {response.text[:200]}", retryable=True) from error
        if not isinstance(answer, dict):
            raise SendFailed(f"smsru: unexpected answer: {response.text[:200]}", retryable=True)
        if answer.get("status") != "OK":
            raise failure(_code(answer), answer.get("status_text"))
        return answer

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        to = digits(recipient(message))
        form = {"to": to, "msg": message.body}
        if config.settings.get("from"):
            form["from"] = str(config.settings["from"])
        if config.settings.get("test"):
            form["test"] = "1"
        answer = await self._post(config, "/sms/send", form)
        entry = (answer.get("sms") or {}).get(to)
        if not isinstance(entry, dict):
            raise SendFailed(f"smsru: the answer has no entry for {to}", retryable=False)
        if entry.get("status") != "OK" or not entry.get("sms_id"):
            raise failure(_code(entry), entry.get("status_text"))
        return Receipt(str(entry["sms_id"]), DeliveryStatus.SENT)

    async def statuses(self, config: ChannelConfig, external_ids: Sequence[str]) -> list[DeliveryUpdate]:
        """Poll ``/sms/status`` for up to 100 messages (a fallback where no callback can reach us)."""
        answer = await self._post(config, "/sms/status", {"sms_id": ",".join(external_ids[:100])})
        updates = []
        for sms_id, entry in (answer.get("sms") or {}).items():
            update = _update(config.id, str(sms_id), _code(entry) if isinstance(entry, dict) else -1)
            if update is not None:
                updates.append(update)
        return updates

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        if request.method.upper() != "POST":
            raise WebhookRejected("SMS.ru callbacks are POSTed", 405)
        entries, given = _callback(request.body)
        self._verify(config, request, entries, given)
        statuses: list[DeliveryUpdate] = []
        ignored: list[str] = []
        for entry in entries:
            lines = entry.replace("\r\n", "\n").split("\n")
            if lines[0] != "sms_status":
                ignored.append(f"smsru: {lines[0][:40]}")
                continue
            update = _status_entry(config.id, lines)
            if update is None:
                ignored.append(f"smsru: malformed or unknown sms_status {entry[:80]!r}")
            else:
                statuses.append(update)
        for item in ignored:
            log.info("smsru channel %d: ignored %s", config.id, item)
        return WebhookResult(statuses=tuple(statuses), ignored=tuple(ignored), reply_body=ACKNOWLEDGED)

    def _verify(self, config: ChannelConfig, request: WebhookRequest, entries: list[str], given: str | None) -> None:
        api_id = config.secrets.get("api_id")
        if not api_id:
            raise WebhookRejected("the channel has no api_id: no callback can be verified")
        token = config.secrets.get("callback_token")
        if token and not same_secret(request.query.get("token"), token):
            raise WebhookRejected("the callback URL's token is wrong")
        if not given or not same_secret(given.lower(), callback_hash(api_id, entries)):
            raise WebhookRejected("the callback's hash does not match")

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        """Register this channel's webhook as an SMS.ru callback handler."""
        url = str(config.settings.get("webhook_url") or public_url)
        token = config.secrets.get("callback_token")
        if token:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode({'token': token})}"
        await self._post(config, "/callback/add", {"url": url})
        shown = url.replace(token, "***") if token else url
        return f"SMS.ru now posts delivery statuses to {shown}"


def _code(entry: Mapping[str, Any]) -> int:
    try:
        return int(entry.get("status_code", -1))
    except (TypeError, ValueError):
        return -1


def _callback(body: bytes) -> tuple[list[str], str | None]:
    """The data entries in SMS.ru's order and the hash; ``data[N]`` keys are ordered by N."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as error:
        raise WebhookRejected("smsru: the callback is not UTF-8", 400) from error
    numbered: list[tuple[int, int, str]] = []
    given = None
    for at, (key, value) in enumerate(pairs):
        match = _DATA_KEY.fullmatch(key)
        if match:
            index = int(match.group(1)) if match.group(1) else at
            numbered.append((index, at, value))
        elif key == "hash":
            given = value
    if not numbered:
        raise WebhookRejected("smsru: the callback carries no data entries", 400)
    return [value for _, _, value in sorted(numbered)], given


def _status_entry(channel_id: int, lines: list[str]) -> DeliveryUpdate | None:
    if len(lines) < 3 or not lines[1].strip():
        return None
    try:
        code = int(lines[2])
    except ValueError:
        return None
    return _update(channel_id, lines[1].strip(), code)


def _update(channel_id: int, sms_id: str, code: int) -> DeliveryUpdate | None:
    status = STATUS.get(code)
    if status is None:
        return None
    error = f"smsru: {code} {FAILURES[code]}" if code in FAILURES else None
    return DeliveryUpdate(channel_id, sms_id, status, error)
