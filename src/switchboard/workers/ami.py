"""The AMI client as a worker: Asterisk's call events reach call control; click-to-call goes out through it."""

from __future__ import annotations

from switchboard.adapters.voice.ami import AmiAddress, AmiClient, AmiOriginator
from switchboard.application.voice import CallControl


class AmiWorker:
    def __init__(self, control: CallControl, url: str, *, recordings_url: str = "") -> None:
        self.client = AmiClient(control, AmiAddress.parse(url), recordings_url=recordings_url)
        self.originator = AmiOriginator(self.client)

    async def start(self) -> None:
        await self.client.start()

    async def stop(self) -> None:
        await self.client.stop()
