"""Screen pops on the operators' websocket: the ringing operator gets the caller's card right after
``CallRinging``. The card is read when sent, so the event outbox never carries personal data."""

from __future__ import annotations

import json
from typing import Any

import structlog
from fastapi import WebSocket

from switchboard.application.access import Principal
from switchboard.application.errors import ApplicationError
from switchboard.application.ports.bus import Envelope
from switchboard.application.voice.screen_pop import screen_pop
from switchboard.web.voice_schemas import ScreenPopOut

log = structlog.get_logger("switchboard.ws")


async def after(websocket: WebSocket, principal: Principal, envelope: Envelope) -> None:
    """Send the follow-up frame an event calls for (only CallRinging, to the operator it rings at)."""
    if envelope.name != "CallRinging" or envelope.payload.get("operator_id") != principal.user_id:
        return
    services: Any = websocket.app.state.container.services
    try:
        pop = await screen_pop(services, principal, int(envelope.payload["call_id"]))
    except ApplicationError as error:
        log.info("ws.screen_pop_skipped", reason=error.detail)
        return
    data = ScreenPopOut.of(pop).model_dump(mode="json")
    await websocket.send_text(json.dumps({"event": "ScreenPop", "for_event": envelope.event_id, "data": data}))
