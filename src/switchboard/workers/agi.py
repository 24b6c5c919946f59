"""The FastAGI server as a worker: Asterisk's ``AGI(agi://host:port)`` calls run the call flow here."""

from __future__ import annotations

from switchboard.adapters.voice.agi import FastAgiServer
from switchboard.application.voice import CallControl


class AgiWorker:
    def __init__(self, control: CallControl, host: str, port: int, *, report_dial_events: bool = True) -> None:
        self.server = FastAgiServer(control, host=host, port=port, report_dial_events=report_dial_events)

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()
