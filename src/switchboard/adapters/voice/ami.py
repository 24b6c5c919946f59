"""AMI: Asterisk's manager interface, for call events (screen pop, answers, hang-ups, recordings) and click-to-call.

The protocol, as Asterisk documents it: on connect a banner line (``Asterisk Call Manager/9.0.0``);
then messages both ways as ``Key: Value`` lines ended by a blank line. We send ``Action: Login``;
every action carries an ``ActionID`` that its ``Response:`` repeats. Events arrive as
``Event: <name>`` messages. The client reconnects with backoff when the connection drops.

Events → ``record_call_event`` (the call is Asterisk's ``Linkedid``: the unique id of the call's
first channel, the one FastAGI started, or the one ``Originate`` named with ``ChannelId``):

- ``DialBegin`` → ringing at the dialled extension (the screen pop)
- ``BridgeEnter`` → answered (once per call)
- ``BlindTransfer`` → transferred to the extension
- ``Hangup`` of the call's first channel → hang-up
- ``VarSet`` of ``MIXMONITOR_FILENAME`` → the recording is ready (``recordings_url`` + file name)

Event ids are ``<Uniqueid>-<Event>-<n>`` (n counts that event on that channel): stable and unique,
so a repeat is harmless. Events for calls Switchboard does not know are logged and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from switchboard.application.errors import ApplicationError, NotFound
from switchboard.application.ports.voice import OriginateFailed, OriginateRequest
from switchboard.application.tasks import stop_task, within
from switchboard.application.voice import CallControl
from switchboard.application.voice.model import CallEvent, EventKind

log = logging.getLogger("switchboard.voice.ami")
LINE_LIMIT = 8192
MAX_KEYS = 200
ACTION_TIMEOUT_S = 5.0
Message = dict[str, str]


class AmiProtocolError(Exception):
    """A line that is not AMI as Asterisk speaks it."""


class LoginRefused(Exception):
    """The manager refused our user name or secret."""


@dataclass(frozen=True, slots=True)
class AmiAddress:
    host: str
    port: int
    username: str
    secret: str = field(repr=False)

    @classmethod
    def parse(cls, url: str) -> AmiAddress:
        """``ami://user:secret@127.0.0.1:5038`` (the port defaults to 5038)."""
        parts = urlsplit(url)
        if parts.scheme != "ami" or not parts.hostname or not parts.username or parts.password is None:
            raise ValueError("must be ami://user:secret@host[:port]")
        return cls(parts.hostname, parts.port or 5038, unquote(parts.username), unquote(parts.password))


def encode(message: Message) -> bytes:
    lines = [f"{key}: {str(value).replace(chr(13), ' ').replace(chr(10), ' ')}" for key, value in message.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_message(reader: asyncio.StreamReader) -> Message:
    """One ``Key: Value`` block up to its blank line; AmiProtocolError for anything else."""
    message: Message = {}
    while True:
        try:
            raw = await reader.readline()
        except ValueError as error:
            raise AmiProtocolError("a line longer than 8 KiB") from error
        if not raw:
            raise ConnectionResetError("the manager closed the connection")
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if line == "":
            if message:
                return message
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key.strip() or len(message) >= MAX_KEYS:
            raise AmiProtocolError(f"not a Key: Value line: {line[:80]!r}")
        message[key.strip()] = value.strip()


class AmiClient:
    """Logs in, keeps the connection (reconnecting with backoff), turns events into call events, sends actions."""

    def __init__(
        self,
        control: CallControl,
        address: AmiAddress,
        *,
        recordings_url: str = "",
        backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        self.control, self.address = control, address
        self.recordings_url = recordings_url
        self._backoff = backoff
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._originates: dict[str, asyncio.Future[Message]] = {}
        self._ids = itertools.count(1)
        self._seen: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._answered: set[str] = set()
        self._operators: dict[str, int] = {}  # call → the operator FastAGI is putting it through to
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.connections = 0  # how many times we logged in (a reconnect adds one)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ami-client")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def _run(self) -> None:
        delay = self._backoff[0]
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except LoginRefused as error:
                log.error(
                    "ami.login_refused host=%s user=%s reason=%s", self.address.host, self.address.username, error
                )
                delay = self._backoff[1]
            except (OSError, AmiProtocolError, TimeoutError) as error:
                log.warning("ami.disconnected host=%s reason=%s", self.address.host, error)
            except Exception:
                log.exception("ami.failed")
            else:
                delay = self._backoff[0]
            self._drop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff[1])

    async def _session(self) -> None:
        reader, writer = await within(
            ACTION_TIMEOUT_S, asyncio.open_connection(self.address.host, self.address.port, limit=LINE_LIMIT)
        )
        self._writer = writer
        try:
            banner = (await within(ACTION_TIMEOUT_S, reader.readline())).decode(errors="replace")
            if not banner.startswith("Asterisk Call Manager"):
                raise AmiProtocolError(f"not an Asterisk manager: {banner[:60]!r}")
            login = {"Action": "Login", "Username": self.address.username, "Secret": self.address.secret}
            login_id = self._send(login)
            while True:
                message = await within(ACTION_TIMEOUT_S, read_message(reader))
                if message.get("ActionID") == login_id and "Response" in message:
                    break
            if message["Response"] != "Success":
                raise LoginRefused(message.get("Message", "refused"))
            self.connections += 1
            self.connected.set()
            log.info("ami.connected host=%s", self.address.host)
            while True:
                await self._dispatch(await read_message(reader))
        finally:
            self._writer = None
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _drop(self) -> None:
        self.connected.clear()
        for future in (*self._pending.values(), *self._originates.values()):
            if not future.done():
                future.set_exception(ConnectionResetError("the manager connection dropped"))
        self._pending.clear()
        self._originates.clear()

    def _send(self, action: Message) -> str:
        if self._writer is None:
            raise ConnectionResetError("not connected to the manager")
        action_id = f"sb-{next(self._ids)}"
        self._writer.write(encode({**action, "ActionID": action_id}))
        return action_id

    async def action(self, action: Message) -> Message:
        """Send an action and wait for its response (matched by ActionID)."""
        action_id = self._send(action)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        try:
            return await within(ACTION_TIMEOUT_S, future)
        finally:
            self._pending.pop(action_id, None)

    async def _dispatch(self, message: Message) -> None:
        action_id = message.get("ActionID", "")
        event = message.get("Event")
        if event is None and action_id in self._pending:
            if not self._pending[action_id].done():
                self._pending[action_id].set_result(message)
            return
        waiting = self._originates.get(action_id) if event == "OriginateResponse" else None
        if waiting is not None and not waiting.done():
            waiting.set_result(message)
        if event == "OriginateResponse" and message.get("Response") == "Failure" and action_id not in self._originates:
            await self._record(message, EventKind.HANGUP, cause="originate_failed")
        if event is not None:
            await self._on_event(event, message)

    async def _on_event(self, event: str, message: Message) -> None:
        call = message.get("Linkedid") or message.get("Uniqueid", "")
        if event == "DialBegin":
            operator = self._operators.get(call)
            await self._record(message, EventKind.RINGING, extension=_extension(message), operator_id=operator)
        elif event == "BridgeEnter" and call not in self._answered:
            self._answered.add(call)
            await self._record(message, EventKind.ANSWERED)
        elif event == "BlindTransfer":
            await self._record(message, EventKind.TRANSFERRED, target=message.get("Extension") or None)
        elif event == "Hangup" and message.get("Uniqueid") == call:
            self._answered.discard(call)
            self._operators.pop(call, None)
            await self._record(message, EventKind.HANGUP, cause=message.get("Cause-txt") or message.get("Cause"))
        elif event == "VarSet" and message.get("Variable") == "SWITCHBOARD_OPERATOR":
            if message.get("Value", "").isdigit():
                self._operators[call] = int(message["Value"])
        elif event == "VarSet" and message.get("Variable") == "MIXMONITOR_FILENAME":
            if not self.recordings_url:
                log.info("ami.recording_skipped call=%s reason=no recordings_url", call)
                return
            name = posixpath.basename(message.get("Value", ""))
            await self._record(message, EventKind.RECORDING, recording_url=self.recordings_url.rstrip("/") + "/" + name)

    async def _record(self, message: Message, kind: EventKind, **fields: str | int | None) -> None:
        channel = message.get("DestUniqueid") if kind is EventKind.RINGING else message.get("Uniqueid")
        call = message.get("Linkedid") or message.get("Uniqueid")
        if not call or not channel:
            log.warning("ami.event_without_call event=%s", message.get("Event"))
            return
        name = message.get("Event", "")
        self._seen[(channel, name)] += 1
        event_id = f"{channel}-{name}-{self._seen[(channel, name)]}"
        event = CallEvent(event_id, call, kind, at=_stamp(message), **fields)  # type: ignore[arg-type]
        try:
            outcome = await self.control.record_call_event(None, event)
        except NotFound:
            log.info("ami.unknown_call call=%s event=%s", call, name)
        except ApplicationError as error:
            log.warning("ami.event_refused call=%s event=%s reason=%s", call, name, error)
        else:
            if not outcome.applied:
                log.info("ami.event_not_applied call=%s event=%s detail=%s", call, name, outcome.detail)

    async def originate(self, request: OriginateRequest, *, context: str, wait_s: float) -> str | None:
        action = {
            "Action": "Originate",
            "Channel": _channel_of(request.operator_target),
            "Context": context,
            "Exten": request.number,
            "Priority": "1",
            "CallerID": request.caller_id,
            "ChannelId": request.call_id,  # the call's events carry this Uniqueid (and Linkedid)
            "Async": "true",
            "Variable": f"SWITCHBOARD_CALL_ID={request.call_id}",
        }
        try:
            action_id = self._send(action)
        except ConnectionResetError as error:
            raise OriginateFailed("not connected to the Asterisk manager") from error
        loop = asyncio.get_running_loop()
        response, result = loop.create_future(), loop.create_future()
        self._pending[action_id], self._originates[action_id] = response, result
        try:
            answer = await within(ACTION_TIMEOUT_S, response)
            if answer.get("Response") != "Success":
                raise OriginateFailed(f"Asterisk refused: {answer.get('Message', 'error')}")
            with contextlib.suppress(TimeoutError):  # not decided yet: a later Failure ends the call as an event
                final = await within(wait_s, result)
                if final.get("Response") != "Success":
                    raise OriginateFailed(f"Asterisk could not place the call: {final.get('Reason', '')}".strip())
                return final.get("Uniqueid") or None
            return None
        except (TimeoutError, ConnectionResetError) as error:
            raise OriginateFailed(f"the Asterisk manager did not answer ({type(error).__name__})") from error
        finally:
            self._pending.pop(action_id, None)
            self._originates.pop(action_id, None)


def _stamp(message: Message) -> datetime | None:
    """``Timestamp: 1712345678.123456`` (manager.conf ``timestampevents = yes``): when it happened, for late events."""
    try:
        return datetime.fromtimestamp(float(message["Timestamp"]), UTC)
    except (KeyError, ValueError, OverflowError):
        return None


def _extension(message: Message) -> str | None:
    """``DialString`` ``1004`` or ``ivan``; else the dialled channel's name without tech and sequence."""
    dialled = message.get("DialString") or message.get("DestChannel", "").split("/", 1)[-1].rsplit("-", 1)[0]
    if "@" in dialled and not dialled.startswith(("sip:", "sips:")):
        return f"sip:{dialled}"  # PJSIP/olga@pbx was dialled for the extension sip:olga@pbx
    return dialled or None


def _channel_of(target: str) -> str:
    """The operator's phone as an Asterisk channel: ``1004`` → ``PJSIP/1004``, ``sip:olga@pbx`` → ``PJSIP/olga``."""
    if "/" in target and not target.startswith(("sip:", "sips:")):
        return target
    bare = target.split(":", 1)[1] if target.startswith(("sip:", "sips:")) else target
    return f"PJSIP/{bare.split('@', 1)[0]}"


class AmiOriginator:
    """The ``Originator`` port over AMI: ring the operator's phone, then dial the customer from ``context``."""

    def __init__(self, client: AmiClient, *, context: str = "switchboard-out", wait_s: float = 5.0) -> None:
        self.client, self.context, self.wait_s = client, context, wait_s

    @property
    def needs_url(self) -> bool:
        return False  # Asterisk is reached through the manager connection, whatever the channel says

    async def originate(self, request: OriginateRequest) -> str | None:
        return await self.client.originate(request, context=self.context, wait_s=self.wait_s)
