"""FastAGI: Asterisk asks Switchboard what to do with a call over AGI on TCP, the same flow as HTTP call control.

Asterisk's dialplan runs ``AGI(agi://switchboard:4573)``; it connects, sends the channel's
``agi_*: value`` lines and a blank line, then waits for commands. Each command is answered by
one line: ``200 result=<n> [(data)] [key=value]``, ``510`` (unknown command), ``511`` (the channel
is gone), ``520`` (bad syntax; ``520-`` starts a multi-line usage text). When the caller hangs up,
Asterisk sends the line ``HANGUP`` (then answers later commands with 511).

Per call: ``start_call`` with the channel's unique id, caller id and dialled number; every step
becomes AGI commands (play → STREAM FILE, collect → GET DATA, enqueue → hold music then poll,
connect → EXEC Dial, voicemail → EXEC VoiceMail, hangup → HANGUP) and its outcome goes back with
``report_result``. Bad lines are logged and the call is hung up; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from switchboard.application.errors import ApplicationError
from switchboard.application.tasks import within
from switchboard.application.voice import CallControl
from switchboard.application.voice.model import Action, CallEvent, EventKind, NewCall, Outcome, Step, StepResult

log = logging.getLogger("switchboard.voice.agi")
LINE_LIMIT = 8192
MAX_ENV_LINES = 200
MAX_STEPS = 1000  # a guard only: the IVR ends every walk long before
READ_TIMEOUT_S = 4 * 3600.0  # a bridged call can last hours inside one EXEC Dial
ENV_KEY = re.compile(r"^agi_[a-z0-9_]{1,40}$")
UNKNOWN = ("", "unknown", "anonymous")
DIAL_OUTCOMES = {"NOANSWER": Outcome.NO_ANSWER, "BUSY": Outcome.BUSY}


class AgiHangup(Exception):
    """The caller hung up (the HANGUP notice, a 511 answer, or the connection closed)."""


class AgiProtocolError(Exception):
    """A line that is not AGI as Asterisk speaks it."""


@dataclass(frozen=True, slots=True)
class AgiReply:
    code: int
    result: str = ""
    data: str = ""  # the text in parentheses: "(timeout)", "(ANSWER)"


REPLY = re.compile(r"^200 result=(?P<result>\S*)(?: \((?P<data>[^)]*)\))?(?: .*)?$")


def parse_reply(line: str) -> AgiReply:
    """``200 result=12 (timeout)`` → AgiReply(200, "12", "timeout"); 5xx lines keep their code."""
    found = REPLY.match(line)
    if found:
        return AgiReply(200, found["result"], found["data"] or "")
    if re.match(r"^5\d\d[ -]", line):
        return AgiReply(int(line[:3]), "", line[4:])
    raise AgiProtocolError(f"not an AGI reply: {line[:80]!r}")


def quoted(text: str) -> str:
    """An AGI argument: double-quoted, with quotes and backslashes escaped, no line breaks."""
    clean = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
    return f'"{clean}"'


def sound(prompt: str) -> str:
    """Asterisk plays files by name without the extension: ``vip-hold.wav`` → ``vip-hold``."""
    return re.sub(r"\.(wav|gsm|ulaw|alaw|sln|g722|mp3)$", "", prompt.strip(), flags=re.IGNORECASE)


def dial_string(target: str, technology: str = "PJSIP") -> str:
    """An extension ``1004`` → ``PJSIP/1004``; ``sip:olga@pbx`` → ``PJSIP/olga@pbx``; ``PJSIP/x`` kept."""
    if "/" in target and not target.startswith(("sip:", "sips:")):
        return target
    return f"{technology}/{target.split(':', 1)[1] if target.startswith(('sip:', 'sips:')) else target}"


class AgiSession:
    """One FastAGI connection: the environment, then commands and their replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self.hung_up = False

    async def _line(self, timeout: float = READ_TIMEOUT_S) -> str:
        try:
            raw = await within(timeout, self._reader.readline())
        except ValueError as error:  # longer than the stream's limit
            raise AgiProtocolError("a line longer than 8 KiB") from error
        if not raw:
            raise AgiHangup("the connection closed")
        try:
            return raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise AgiProtocolError("a line that is not UTF-8") from error

    async def environment(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for _ in range(MAX_ENV_LINES):
            line = await self._line(timeout=10.0)
            if line == "":
                return env
            key, sep, value = line.partition(": ")
            if not sep and line.endswith(":"):
                key, sep, value = line[:-1], ":", ""
            if not sep or not ENV_KEY.match(key):
                raise AgiProtocolError(f"not an agi_* environment line: {line[:80]!r}")
            env[key] = value
        raise AgiProtocolError("the environment has no end")

    async def command(self, text: str) -> AgiReply:
        if self.hung_up:
            raise AgiHangup("the caller hung up")
        self._writer.write(text.encode() + b"\n")
        await self._writer.drain()
        while True:
            line = await self._line()
            if line.startswith("HANGUP"):  # the notice; the reply to our command follows
                self.hung_up = True
                continue
            if line.startswith("520-"):  # usage text up to "520 End of proper usage."
                while not (line := await self._line(timeout=10.0)).startswith("520 "):
                    pass
                raise AgiProtocolError(f"Asterisk refused the syntax of {text.split(' ')[0]!r}")
            reply = parse_reply(line)
            if reply.code == 511 or self.hung_up:
                self.hung_up = True
                raise AgiHangup("the caller hung up")
            if reply.code != 200:
                raise AgiProtocolError(f"Asterisk answered {line[:80]!r} to {text.split(' ')[0]!r}")
            return reply

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
            await self._writer.wait_closed()


class CallScript:
    """Runs one call: Switchboard's steps as AGI commands, their outcomes back to call control."""

    def __init__(self, server: FastAgiServer, agi: AgiSession, call_id: str) -> None:
        self.server, self.agi, self.call_id = server, agi, call_id
        self.control = server.control

    async def run(self, first: Step) -> None:
        step = first
        for _ in range(MAX_STEPS):
            outcome = await self.perform(step)
            if outcome is None:
                return
            result = StepResult(self.call_id, step.step_id, outcome[0], outcome[1])
            following = await self.control.report_result(None, result)
            if following.step_id == step.step_id and following.action is not Action.ENQUEUE:
                log.warning("agi.step_repeated call=%s step=%s", self.call_id, step.step_id)
                await self.hang_up("stuck")
                return
            step = following
        await self.hang_up("too_many_steps")

    async def perform(self, step: Step) -> tuple[Outcome, str] | None:
        """Do the step; its outcome and digits, or None when the call is over for us."""
        if step.action is Action.PLAY:
            await self.play(step.prompts)
            return Outcome.DONE, ""
        if step.action is Action.COLLECT:
            return await self.collect(step)
        if step.action is Action.ENQUEUE:
            await self.agi.command("SET VARIABLE SWITCHBOARD_ACTION queue")
            await self.agi.command(f"SET VARIABLE SWITCHBOARD_LINE {step.line_id or ''}")
            await self.play(step.prompts)
            await self.agi.command(f"EXEC MusicOnHold {quoted(f',{int(step.poll_after_s or 5)}')}")
            return Outcome.WAITED, ""
        if step.action is Action.CONNECT:
            return await self.connect(step)
        if step.action is Action.VOICEMAIL:
            await self.play(step.prompts)
            await self.agi.command(f"EXEC VoiceMail {quoted(self.server.mailbox + ',s')}")
            await self.hang_up("voicemail")
            return None
        await self.play(step.prompts)
        await self.hang_up("ivr")
        return None

    async def play(self, prompts: tuple[str, ...]) -> None:
        for prompt in prompts:
            reply = await self.agi.command(f'STREAM FILE {quoted(sound(prompt))} ""')
            if reply.result == "-1":
                log.warning("agi.prompt_not_played call=%s prompt=%r", self.call_id, prompt[:60])

    async def collect(self, step: Step) -> tuple[Outcome, str]:
        await self.play(step.prompts[:-1])
        last = sound(step.prompts[-1]) if step.prompts else "silence/1"
        timeout_ms = int((step.timeout_s or 5.0) * 1000)
        reply = await self.agi.command(f"GET DATA {quoted(last)} {timeout_ms} {step.max_digits or 1}")
        if reply.result == "-1":
            raise AgiHangup("GET DATA failed: the caller hung up")
        digits = reply.result if re.fullmatch(r"[0-9*#]{1,32}", reply.result) else ""
        return (Outcome.DIGITS, digits) if digits else (Outcome.NO_INPUT, "")

    async def connect(self, step: Step) -> tuple[Outcome, str] | None:
        await self.play(step.prompts)
        dial = dial_string(step.target or "", self.server.technology)
        await self.agi.command(f"SET VARIABLE SWITCHBOARD_DIAL {quoted(dial)}")
        if step.operator_id is not None:
            await self.agi.command(f"SET VARIABLE SWITCHBOARD_OPERATOR {step.operator_id}")
        if self.server.report_dial_events:
            await self.event(
                "ring", step.step_id, EventKind.RINGING, operator_id=step.operator_id, extension=step.target
            )
        await self.agi.command(f"EXEC Dial {quoted(f'{dial},{int(step.timeout_s or 30)}')}")
        status = (await self.agi.command("GET VARIABLE DIALSTATUS")).data
        if status == "ANSWER":
            if self.server.report_dial_events:
                talk = (await self.agi.command("GET VARIABLE ANSWEREDTIME")).data
                at = self.control.services.clock.now() - timedelta(seconds=int(talk)) if talk.isdigit() else None
                await self.event("answer", step.step_id, EventKind.ANSWERED, at=at, operator_id=step.operator_id)
            await self.hang_up("normal")
            return None
        if self.agi.hung_up:
            raise AgiHangup("the caller hung up while the operator's phone rang")
        return DIAL_OUTCOMES.get(status, Outcome.FAILED), ""

    async def event(self, name: str, seq: int, kind: EventKind, **fields: object) -> None:
        event = CallEvent(f"{self.call_id}-agi-{name}-{seq}", self.call_id, kind, **fields)  # type: ignore[arg-type]
        try:
            await self.control.record_call_event(None, event)
        except ApplicationError as error:
            log.warning("agi.event_refused call=%s kind=%s reason=%s", self.call_id, kind.value, error)

    async def hang_up(self, cause: str) -> None:
        with contextlib.suppress(AgiHangup, AgiProtocolError, OSError):
            await self.agi.command("HANGUP")
        await self.event("hangup", 0, EventKind.HANGUP, cause=cause)


class FastAgiServer:
    """The TCP server Asterisk's ``AGI(agi://host:port)`` connects to; one task per call."""

    def __init__(
        self,
        control: CallControl,
        *,
        host: str = "127.0.0.1",
        port: int = 4573,
        report_dial_events: bool = True,
        technology: str = "PJSIP",
        mailbox: str = "switchboard@default",
    ) -> None:
        self.control = control
        self.host, self.port = host, port
        self.report_dial_events = report_dial_events  # False when the AMI client reports ringing and answers
        self.technology, self.mailbox = technology, mailbox
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, limit=LINE_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("agi.listening host=%s port=%s", self.host, self.port)

    async def idle(self) -> None:
        """Wait until every call in progress has finished (its last report included)."""
        while self._calls:
            await asyncio.gather(*self._calls, return_exceptions=True)

    async def stop(self, grace: float = 5.0) -> None:
        """Take no new calls; a call in progress gets ``grace`` seconds to end before it is cut short
        (its last reports are database writes, which a cancel would cut half-way)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._calls:
            await asyncio.wait(set(self._calls), timeout=grace)
        for task in list(self._calls):
            task.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        agi = AgiSession(reader, writer)
        try:
            await self.serve(agi)
        except asyncio.CancelledError:  # stopping: not re-raised, asyncio would log the callback's task as failed
            log.info("agi.call_cut_short reason=server stopping")
        finally:
            self._calls.discard(task)
            await agi.close()

    async def serve(self, agi: AgiSession) -> None:
        call_id = ""
        script: CallScript | None = None
        try:
            env = await agi.environment()
            call_id = env.get("agi_uniqueid", "")
            if not call_id:
                raise AgiProtocolError("the environment has no agi_uniqueid")
            ani = env.get("agi_callerid", "")
            dnid = env.get("agi_dnid", "")
            dnis = dnid if dnid.lower() not in UNKNOWN else env.get("agi_extension", "")
            try:
                step = await self.control.start_call(NewCall(call_id, None if ani.lower() in UNKNOWN else ani, dnis))
            except ApplicationError as error:
                log.warning("agi.call_refused call=%s dnis=%s reason=%s", call_id, dnis, error)
                await agi.command("HANGUP")
                return
            script = CallScript(self, agi, call_id)
            await agi.command("ANSWER")
            await script.run(step)
        except AgiHangup:
            if script is not None:
                await script.event("hangup", 0, EventKind.HANGUP, cause="caller")
        except (AgiProtocolError, TimeoutError, ApplicationError) as error:
            log.error("agi.call_failed call=%s reason=%s", call_id or "?", error)
            if script is not None:
                await script.hang_up("error")
            else:
                with contextlib.suppress(Exception):
                    await agi.command("HANGUP")
        except OSError as error:
            log.warning("agi.connection_lost call=%s reason=%s", call_id or "?", error)
            if script is not None:
                await script.event("hangup", 0, EventKind.HANGUP, cause="caller")
        except Exception:
            log.exception("agi.call_crashed call=%s", call_id or "?")
