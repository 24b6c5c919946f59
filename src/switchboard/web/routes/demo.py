"""The demo company's page with the web chat widget on it: what a customer sees at ``/demo/chat``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from switchboard.application.errors import NotFound
from switchboard.application.webchat import first_webchat_channel
from switchboard.web.access import container, public

router = APIRouter(tags=["demo"])
PAGE = Path(__file__).resolve().parent.parent / "static" / "demo" / "chat.html"


@router.get("/demo/chat", response_class=HTMLResponse, **public())
async def demo_chat(request: Request) -> HTMLResponse:
    """A plausible shop page with the widget of the first web chat channel (load the demo data first)."""
    channel_id = await first_webchat_channel(container(request).services)
    if channel_id is None:
        raise NotFound("there is no web chat channel: run `switchboard demo` or create one")
    html = PAGE.read_text(encoding="utf-8").replace("{{CHANNEL_ID}}", str(channel_id))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
