"""Asterisk's side of FastAGI and AMI, as its documentation describes them, for tests to drive our adapters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

Answer = Callable[[str], Awaitable[str | None]]


def environment(uniqueid: str, callerid: str, dnid: str, **more: str) -> dict[str, str]:
    """The ``agi_*`` lines Asterisk 20 sends first, for a call from ``callerid`` to ``dnid``."""
    return {
        "agi_network": "yes",
        "agi_network_script": "",
        "agi_request": "agi://switchboard:4573",
        "agi_channel": "PJSIP/trunk-00000001",
        "agi_language": "ru",
        "agi_type": "PJSIP",
        "agi_uniqueid": uniqueid,
        "agi_version": "20.5.0",
        "agi_callerid": callerid,
        "agi_calleridname": "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": dnid,
        "agi_rdnis": "unknown",
        "agi_context": "from-trunk",
        "agi_extension": dnid,
        "agi_priority": "1",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": "140234567",
        **more,
    }


@dataclass
class AgiCaller:
    """One channel running ``AGI(agi://…)``: sends the environment, answers each command as Asterisk would.

    ``digits`` are what the caller keys at each GET DATA (``""``: silence until the timeout);
    ``hooks`` run before a command's answer (by its first words), e.g. to let routing work while on hold.
    """

    port: int
    digits: list[str] = field(default_factory=list)
    dial_status: str = "ANSWER"
    hooks: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    hang_up_at: str | None = None  # the caller hangs up during this command (the HANGUP notice, then 511s)
    commands: list[str] = field(default_factory=list)

    async def call(self, env: dict[str, str] | None = None, raw: bytes | None = None) -> list[str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(raw if raw is not None else "".join(f"{k}: {v}\n" for k, v in (env or {}).items()).encode())
            writer.write(b"\n")
            await writer.drain()
            await self._serve(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return self.commands

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hung = False
        while line := (await asyncio.wait_for(reader.readline(), 10)).decode():
            command = line.rstrip("\n")
            self.commands.append(command)
            for name, hook in self.hooks.items():
                if command.startswith(name):
                    await hook()
            if hung:
                writer.write(b"511 Command Not Permitted on a dead channel or intercept routine\n")
            elif self.hang_up_at and command.startswith(self.hang_up_at):
                hung = True
                writer.write(b"HANGUP\n200 result=-1\n")
            else:
                writer.write((self.reply(command) + "\n").encode())
            await writer.drain()
            if command == "HANGUP":
                return

    def reply(self, command: str) -> str:
        if command.startswith("GET DATA"):
            keyed = self.digits.pop(0) if self.digits else ""
            return f"200 result={keyed}" if keyed else "200 result= (timeout)"
        if command == "GET VARIABLE DIALSTATUS":
            return f"200 result=1 ({self.dial_status})"
        if command == "GET VARIABLE ANSWEREDTIME":
            return "200 result=1 (90)"
        if command.startswith("STREAM FILE"):
            return "200 result=0 endpos=16000"
        if command.startswith(("SET VARIABLE", "HANGUP")):
            return "200 result=1"
        if command.startswith(("ANSWER", "EXEC")):
            return "200 result=0"
        return "510 Invalid or unknown command"


@dataclass
class FakeManager:
    """An Asterisk manager (AMI) on loopback: banner, Login, actions answered by ActionID, events on demand."""

    username: str = "switchboard"
    secret: str = "s3cret-manager"
    originate: str = "Success"  # "Success", "Error" (refused at once) or "Failure" (the OriginateResponse)
    originate_after_s: float = 0.0  # how long the operator's phone takes to answer (or to fail)
    port: int = 0
    actions: list[dict[str, str]] = field(default_factory=list)
    logins: int = 0
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    _logged_in: asyncio.Event = field(default_factory=asyncio.Event)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeManager]:
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            self.drop()
            await server.wait_closed()

    @property
    def url(self) -> str:
        return f"ami://{self.username}:{self.secret}@127.0.0.1:{self.port}"

    async def logged_in(self, count: int = 1) -> None:
        async with asyncio.timeout(10):
            while self.logins < count:
                await self._logged_in.wait()
                self._logged_in.clear()

    def drop(self) -> None:
        """The manager goes away (a restart): every connection closes."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def send(self, *lines: str) -> None:
        """Raw lines to every logged-in client (a blank line ends a message)."""
        for writer in self._writers:
            writer.write(("\r\n".join(lines) + "\r\n").encode())
            await writer.drain()

    async def event(self, name: str, **fields: str) -> None:
        await self.send(f"Event: {name}", "Privilege: call,all", *(f"{k}: {v}" for k, v in fields.items()), "")

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while message := await self._message(reader):
                await self._act(message, writer)
        writer.close()

    async def _message(self, reader: asyncio.StreamReader) -> dict[str, str]:
        message: dict[str, str] = {}
        while line := (await reader.readline()).decode():
            if line in ("\r\n", "\n"):
                return message
            key, _, value = line.rstrip("\r\n").partition(": ")
            message[key] = value
        return message

    async def _act(self, message: dict[str, str], writer: asyncio.StreamWriter) -> None:
        self.actions.append(message)
        action_id = message.get("ActionID", "")
        if message.get("Action") == "Login":
            ok = (message.get("Username"), message.get("Secret")) == (self.username, self.secret)
            answer = "Success\r\nMessage: Authentication accepted" if ok else "Error\r\nMessage: Authentication failed"
            writer.write(f"Response: {answer}\r\nActionID: {action_id}\r\n\r\n".encode())
            if ok:
                self._writers.append(writer)
                self.logins += 1
                self._logged_in.set()
        elif message.get("Action") == "Originate":
            if self.originate == "Error":
                writer.write(
                    f"Response: Error\r\nActionID: {action_id}\r\nMessage: Extension does not exist.\r\n\r\n".encode()
                )
                return
            writer.write(
                f"Response: Success\r\nActionID: {action_id}\r\nMessage: Originate successfully queued\r\n\r\n".encode()
            )
            await writer.drain()
            await asyncio.sleep(self.originate_after_s)
            reason = "4" if self.originate == "Success" else "0"
            writer.write(
                (
                    f"Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: {action_id}\r\n"
                    f"Response: {self.originate}\r\nChannel: {message.get('Channel')}\r\n"
                    f"Context: {message.get('Context')}\r\n"
                    f"Exten: {message.get('Exten')}\r\nReason: {reason}\r\nUniqueid: {message.get('ChannelId')}\r\n\r\n"
                ).encode()
            )
        else:
            writer.write(
                f"Response: Error\r\nActionID: {action_id}\r\nMessage: Invalid/unknown command\r\n\r\n".encode()
            )
        await writer.drain()
