"""Issue 4's "done when": a customer who writes in the widget, then emails, then faxes is one contact.

The widget is a real websocket client on a real server; the mail and the fax come through the
email connector's inbound path (what its SMTP server and IMAP poller call); the fax gateway is a
T.37 mail with a TIFF from ``FAX=<number>@fax.example``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.adapters.email import mails
from tests.api.test_outbound_email import mail_in
from tests.support.desk import Desk
from tests.support.server import serving
from tests.support.widget import Widget

PHONE = "+74951234567"
EMAIL = "anna@romashka.example"


@pytest.fixture
def extra_settings(tmp_path: Path) -> dict[str, object]:
    return {"files_dir": str(tmp_path / "files")}


@pytest.fixture
async def host(container: Container) -> AsyncIterator[str]:
    async with serving(create_app(container, manage_lifecycle=False)) as address:
        yield address


async def channel(client: httpx.AsyncClient, desk: Desk, kind: str, settings: dict[str, object]) -> int:
    answer = await client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": kind, "name": kind, "line_id": desk.line_id, "settings": settings},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def test_widget_then_email_then_fax_is_one_contact_with_one_timeline(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, host: str
) -> None:
    # given a web chat, a mailbox and a fax line
    chat = await channel(
        app_client, desk, "webchat", {"prechat": {"fields": [{"name": "name"}, {"name": "phone"}, {"name": "email"}]}}
    )
    await channel(app_client, desk, "email", {"addresses": ["support@desk.example"]})
    await channel(app_client, desk, "fax", {"addresses": ["fax@desk.example"], "gateway": {"domain": "fax.example"}})

    # when the customer writes in the widget, giving her phone and email in the pre-chat form
    async with Widget(host, chat) as visitor:
        introduced = await visitor.introduce(name="Анна", phone="8 (495) 123-45-67", email=EMAIL, consent=True)
        assert introduced["type"] == "introduced", introduced
        ack = await visitor.write("Нужен счёт на оплату")
        assert ack["type"] == "ack", ack
    widget_conversation = ack["message"]["conversation_id"]

    # and then emails from that address
    raw = mails.plain("Пришлите счёт, пожалуйста", sender=f"Anna <{EMAIL}>")
    emailed = await mail_in(container, raw, EMAIL, "support@desk.example")
    assert emailed.kind == "message", emailed

    # and then faxes from that number through the gateway
    faxed = await mail_in(container, mails.fax_mail(), "FAX=+74951234567@fax.example", "fax@desk.example")
    assert faxed.kind == "fax", faxed

    # then all three conversations belong to one contact, whose timeline shows the three channels
    ids = set()
    for conversation_id in (widget_conversation, emailed.conversation_id, faxed.conversation_id):
        answer = await app_client.get(f"/api/v1/conversations/{conversation_id}", headers=desk.as_("supervisor"))
        ids.add(answer.json()["contact_id"])
    assert len(ids) == 1
    (contact_id,) = ids
    card = (await app_client.get(f"/api/v1/contacts/{contact_id}", headers=desk.as_("supervisor"))).json()
    identities = {(i["kind"], i["value"]) for i in card["identities"]}
    assert {("phone", PHONE), ("email", EMAIL)} <= identities
    timeline = await app_client.get(f"/api/v1/contacts/{contact_id}/timeline", headers=desk.as_("supervisor"))
    channels = [e["channel"] for e in timeline.json()["items"] if e["kind"] == "message"]
    assert channels == ["fax", "email", "webchat"]  # newest first
    only_fax = await app_client.get(
        f"/api/v1/contacts/{contact_id}/timeline", params={"channel": "fax"}, headers=desk.as_("supervisor")
    )
    assert [e["channel"] for e in only_fax.json()["items"]] == ["fax"] * len(only_fax.json()["items"])
