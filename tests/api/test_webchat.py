"""The web chat channel through a real uvicorn server and a real websocket client, on both databases."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import select

from switchboard.adapters.security.visitors import VisitorTokens
from switchboard.adapters.storage import tables as t
from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.support.desk import Desk, inbound
from tests.support.server import serving
from tests.support.tcp_proxy import TcpProxy
from tests.support.widget import Widget, messages

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Chat:
    host: str
    channel_id: int
    desk: Desk
    client: httpx.AsyncClient
    container: Container

    @property
    def base(self) -> str:
        return f"http://{self.host}"

    async def settle(self) -> None:
        await self.container.relay.drain(2)
        await self.container.bus.drain()  # type: ignore[attr-defined]

    async def reply(self, conversation_id: int, text: str, who: str = "supervisor") -> int:
        answer = await self.client.post(
            f"/api/v1/conversations/{conversation_id}/replies", headers=self.desk.as_(who), json={"text": text}
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    async def conversation(self, conversation_id: int) -> dict[str, Any]:
        answer = await self.client.get(f"/api/v1/conversations/{conversation_id}", headers=self.desk.as_("supervisor"))
        return dict(answer.json())

    async def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        answer = await self.client.get(
            f"/api/v1/conversations/{conversation_id}/messages", headers=self.desk.as_("supervisor")
        )
        return list(reversed(answer.json()))

    async def contact(self, contact_id: int) -> dict[str, Any]:
        answer = await self.client.get(f"/api/v1/contacts/{contact_id}", headers=self.desk.as_("supervisor"))
        return dict(answer.json())


async def make_chat_channel(client: httpx.AsyncClient, desk: Desk, name: str = "Site chat", **settings: Any) -> int:
    answer = await client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": "webchat", "name": name, "line_id": desk.line_id, "settings": settings},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


@pytest.fixture
def chat_settings() -> dict[str, Any]:
    return {
        "prechat": {"fields": [{"name": "name"}, {"name": "phone"}, {"name": "email"}]},
        "files": {"max_bytes": 200_000},
    }


@pytest.fixture
async def chat(
    container: Container, app_client: httpx.AsyncClient, desk: Desk, chat_settings: dict[str, Any]
) -> AsyncIterator[Chat]:
    channel_id = await make_chat_channel(app_client, desk, **chat_settings)
    app = create_app(container, manage_lifecycle=False)
    async with serving(app) as host:
        app.state.visitors.poll_seconds = 0.2
        yield Chat(host, channel_id, desk, app_client, container)


# --- config, identity -----------------------------------------------------------------------------------------


async def test_config_is_public_and_tells_the_form_and_limits(chat: Chat) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{chat.base}/webchat/{chat.channel_id}/config", headers={"origin": "https://a.b"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["online"] is True and body["next_opening"] is None
    assert [f["name"] for f in body["prechat_fields"]] == ["name", "phone", "email"]
    assert body["consent_required"] is True
    assert body["max_file_bytes"] == 200_000
    assert "image/png" in body["file_types"] and "text/html" not in body["file_types"]
    assert answer.headers["access-control-allow-origin"] == "https://a.b"


async def test_config_of_a_channel_that_is_not_a_web_chat_is_404(chat: Chat) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{chat.base}/webchat/{chat.desk.channel_id}/config")
    assert answer.status_code == 404
    assert answer.json()["detail"] == f"web chat channel {chat.desk.channel_id} does not exist"


async def test_offline_outside_the_lines_hours(chat: Chat) -> None:
    # given a line that works only on Sundays (the test clock stands on a Monday at 09:00 UTC)
    answer = await chat.client.patch(
        f"/api/v1/lines/{chat.desk.line_id}",
        headers=chat.desk.as_("admin"),
        json={"routing": {"calendar": {"weekly": {"6": ["10:00-18:00"]}}}},
    )
    assert answer.status_code == 200, answer.text
    chat.container.services.catalog.forget()
    async with httpx.AsyncClient() as client:
        config = (await client.get(f"{chat.base}/webchat/{chat.channel_id}/config")).json()
    # then the widget is offline and knows when the line opens
    assert config["online"] is False
    assert config["next_opening"] == "2026-11-08T07:00:00Z"  # Sunday 10:00 in Moscow
    async with Widget(chat.host, chat.channel_id) as visitor:
        assert visitor.greeting[0]["online"] is False
        # when a visitor writes without a way to answer them, the offline form asks for one
        refused = await visitor.write("Есть доставка в воскресенье?")
        assert refused["type"] == "error" and refused["field"] == "email"
        # and with an email the message becomes a conversation that waits for the next shift
        introduced = await visitor.introduce(name="Вера", email="vera@mail.example", consent=True)
        assert introduced["type"] == "introduced"
        ack = await visitor.write("Есть доставка в воскресенье?")
    assert ack["type"] == "ack"
    conversation = await chat.conversation(ack["message"]["conversation_id"])
    assert conversation["status"] == "new" and conversation["assignee_id"] is None


async def test_forged_or_tampered_cookie_is_refused_with_a_reason(chat: Chat) -> None:
    genuine = VisitorTokens(chat.container.settings.secret_key).issue("A" * 22, 1_800_000_000)
    visitor_id, issued, signature = genuine.split(".")
    cases = {
        "forged": f"{visitor_id}.{issued}.{'x' * 43}",
        "tampered": f"{'B' * 22}.{issued}.{signature}",
        "other key": VisitorTokens("another-secret-key-of-32-characters!!").issue("A" * 22, 1_800_000_000),
        "malformed": "not-a-token",
    }
    for case, token in cases.items():
        widget = Widget(chat.host, chat.channel_id, token=token)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with widget:
                pass
        assert closed.value.rcvd is not None, case
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
            4401,
            "the visitor cookie is forged or tampered with",
        ), case
        # and the bad cookie is dropped, so the widget's next try starts as a new visitor
        assert widget.cookie == "sb_visitor=; Path=/webchat; Max-Age=0; HttpOnly", case
    # and nothing was recorded for them
    async with chat.container.services.uow(read_only=True) as uow:
        assert await uow.webchat.visitor("A" * 22) is None and await uow.webchat.visitor("B" * 22) is None


async def test_a_new_visitor_gets_a_signed_http_only_cookie_and_is_known_again(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as first:
        assert first.cookie is not None and first.cookie.startswith(f"sb_visitor={first.token};")
        assert "HttpOnly" in first.cookie and "Path=/webchat" in first.cookie
        await first.introduce(name="Ирина", consent=True)
    async with Widget(chat.host, chat.channel_id, token=first.token) as again:
        assert again.cookie is None
        assert again.greeting[0]["visitor"] == {"name": "Ирина", "phone": None, "email": None, "introduced": True}


async def test_unknown_channel_and_foreign_site_are_refused(chat: Chat) -> None:
    strict = await make_chat_channel(chat.client, chat.desk, "Strict chat", allowed_origins=["https://shop.example"])
    chat.container.services.catalog.forget()
    cases = [
        (chat.desk.channel_id, {}, 4404, f"web chat channel {chat.desk.channel_id} does not exist"),
        (999_999, {}, 4404, "web chat channel 999999 does not exist"),
        (strict, {"Origin": "https://evil.example"}, 4403, "this site may not embed the chat"),
    ]
    for channel_id, headers, code, reason in cases:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with Widget(chat.host, channel_id, headers=headers):
                pass
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, reason)
    async with Widget(chat.host, strict, headers={"Origin": "https://shop.example"}) as allowed:
        assert allowed.greeting[-1]["type"] == "ready"


# --- identity: the pre-chat form and later introductions ------------------------------------------------------


async def test_prechat_phone_of_a_known_customer_links_the_visitor_to_them(chat: Chat) -> None:
    # given a customer who once wrote through the API channel with their phone
    known = await chat.client.post(
        "/api/v1/inbound",
        headers=chat.desk.as_("integration"),
        json=inbound(chat.desk.channel_id, "Добрый день", phone="+79161110001", name="Пётр"),
    )
    contact_id = known.json()["contact_id"]
    async with Widget(chat.host, chat.channel_id) as visitor:
        # when a visitor fills the pre-chat form with the same phone, written differently, and writes
        introduced = await visitor.introduce(name="Петя", phone="8 (916) 111-00-01", consent=True)
        assert introduced["visitor"]["phone"] == "+79161110001"
        ack = await visitor.write("Это снова я, по заказу")
    # then the web chat conversation is that customer's, and the visitor is one of their identities
    conversation = await chat.conversation(ack["message"]["conversation_id"])
    assert conversation["contact_id"] == contact_id
    identities = {(i["kind"], i["value"]) for i in (await chat.contact(contact_id))["identities"]}
    assert ("phone", "+79161110001") in identities
    assert any(kind == "visitor" for kind, _ in identities)


async def test_prechat_refuses_bad_input_naming_the_field_and_writes_nothing(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        no_consent = await visitor.introduce(name="Оля", email="olya@mail.example")
        bad_phone = await visitor.introduce(phone="12", consent=True)
        bad_email = await visitor.introduce(email="olya@", consent=True)
    assert [(f["field"], f["type"]) for f in (no_consent, bad_phone, bad_email)] == [
        ("consent", "error"),
        ("phone", "error"),
        ("email", "error"),
    ]
    async with chat.container.services.uow(read_only=True) as uow:
        stored = await uow.webchat.visitor(visitor.token.split(".")[0])  # type: ignore[union-attr]
    assert stored is not None and not stored.introduced


async def test_an_anonymous_visitor_who_later_gives_a_known_email_joins_that_contact(chat: Chat) -> None:
    known = await chat.client.post(
        "/api/v1/inbound",
        headers=chat.desk.as_("integration"),
        json=inbound(chat.desk.channel_id, "Hi", email="anna@mail.example", name="Anna Smith"),
    )
    anna = known.json()["contact_id"]
    async with Widget(chat.host, chat.channel_id) as visitor:
        # given a visitor who wrote without introducing themselves (a provisional contact)
        first = await visitor.write("Сколько стоит доставка?")
        conversation_id = first["message"]["conversation_id"]
        provisional = (await chat.conversation(conversation_id))["contact_id"]
        assert provisional != anna
        # when they later give Anna's email
        await visitor.introduce(email="Anna@Mail.Example", consent=True)
        second = await visitor.write("Я Анна")
    # then the visitor, their conversation and its lead belong to Anna, and messages keep going there
    assert second["message"]["conversation_id"] == conversation_id
    assert (await chat.conversation(conversation_id))["contact_id"] == anna
    card = await chat.contact(anna)
    assert sorted(i["kind"] for i in card["identities"]) == ["email", "visitor"]
    assert card["name"] == "Anna Smith"  # the provisional contact's made-up name does not win
    leads = await chat.client.get("/api/v1/leads", params={"contact_id": anna}, headers=chat.desk.as_("supervisor"))
    assert len([lead for lead in leads.json() if lead["conversation_id"] == conversation_id]) == 1
    # and no empty contact is left behind: the provisional one was merged into Anna (reads go on to her)
    gone = await chat.client.get(f"/api/v1/contacts/{provisional}", headers=chat.desk.as_("supervisor"))
    assert (gone.status_code, gone.json()["merged_into_id"]) == (307, anna)
    found = await chat.client.get(
        "/api/v1/contacts", params={"name": "Web visitor"}, headers=chat.desk.as_("supervisor")
    )
    assert found.status_code == 200 and found.json() == []


async def test_the_link_of_a_provisional_contact_is_an_audited_merge_a_supervisor_can_undo(chat: Chat) -> None:
    known = await chat.client.post(
        "/api/v1/inbound",
        headers=chat.desk.as_("integration"),
        json=inbound(chat.desk.channel_id, "Hi", phone="+79161110077", name="Oleg"),
    )
    oleg = known.json()["contact_id"]
    async with Widget(chat.host, chat.channel_id) as visitor:
        # given an anonymous visitor who wrote, then claimed Oleg's phone in the form
        first = await visitor.write("Где мой заказ?")
        conversation_id = first["message"]["conversation_id"]
        provisional = (await chat.conversation(conversation_id))["contact_id"]
        await visitor.introduce(phone="+79161110077", consent=True)
    async with chat.container.services.uow(read_only=True) as uow:
        merges = await uow.merges.of_contact(oleg)
    async with chat.container.database.engine.connect() as connection:
        audit = (await connection.execute(select(t.audit_log).where(t.audit_log.c.action == "contact.merge"))).all()
    # then the link is recorded as a merge of the provisional contact into Oleg, and audited with its reason
    assert [(m.survivor_id, m.duplicate_id, m.merged_by) for m in merges] == [(oleg, provisional, None)]
    assert [(a.entity_id, a.detail["duplicate_id"], a.detail["moved"]["conversations"]) for a in audit] == [
        (oleg, provisional, 1)
    ]
    assert audit[0].detail["reason"].startswith("web chat visitor ")
    # when a supervisor finds the claim was false and undoes the merge
    undone = await chat.client.post(f"/api/v1/merges/{merges[0].id}/undo", headers=chat.desk.as_("supervisor"))
    assert undone.status_code == 200, undone.text
    # then the conversation is the visitor's own again
    assert (await chat.conversation(conversation_id))["contact_id"] == provisional


# --- messages, resume, receipts -------------------------------------------------------------------------------


async def test_a_resend_after_a_network_loss_is_not_doubled(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        first = await visitor.write("Хочу заказать секатор", client_id="msg-00000001")
    # the widget did not see the ack (network loss) and sends the same message again on a new socket
    async with Widget(chat.host, chat.channel_id, token=visitor.token) as again:
        second = await again.write("Хочу заказать секатор", client_id="msg-00000001")
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert first["message"]["id"] == second["message"]["id"]
    stored = await chat.messages(first["message"]["conversation_id"])
    assert [m["text"] for m in stored] == ["Хочу заказать секатор"]


async def test_a_cut_socket_resumes_with_nothing_lost_or_doubled(chat: Chat) -> None:
    host, port_text = chat.host.split(":")
    proxy = TcpProxy(host, int(port_text))
    port = await proxy.start()
    via = f"127.0.0.1:{port}"
    try:
        widget = Widget(via, chat.channel_id)
        await widget.__aenter__()
        ack = await widget.write("Здравствуйте, есть рассада томатов?")
        conversation_id = ack["message"]["conversation_id"]
        await chat.settle()
        one = await chat.reply(conversation_id, "Да, есть")
        seen = await widget.next("message")
        assert (seen["message"]["id"], seen["message"]["from"]) == (one, "operator")
        # when the network drops mid-conversation and the desk keeps writing
        await proxy.cut()
        with pytest.raises(websockets.ConnectionClosed):
            await widget.recv(5)
        two = await chat.reply(conversation_id, "Сорта: Бычье сердце, Черри")
        three = await chat.reply(conversation_id, "Доставим завтра")
        await chat.settle()
        await proxy.restore()
        # then the widget comes back with the last id it has and gets exactly what it missed, in order
        async with Widget(via, chat.channel_id, token=widget.token, last_id=one) as back:
            assert [m["id"] for m in messages(back.greeting)] == [two, three]
            assert [m["text"] for m in messages(back.greeting)] == ["Сорта: Бычье сердце, Черри", "Доставим завтра"]
            # and live messages continue, each once
            four = await chat.reply(conversation_id, "Что-нибудь ещё?")
            await chat.settle()
            live = await back.next("message")
            assert live["message"]["id"] == four
            assert not [f for f in await back.silent() if f["type"] == "message"]
    finally:
        await proxy.close()


async def test_a_reload_without_stored_messages_gets_the_history_since_the_visitor_joined(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        ack = await visitor.write("Первое")
        await chat.settle()
        reply = await chat.reply(ack["message"]["conversation_id"], "Ответ")
        await chat.settle()
        await visitor.next("message")
    async with Widget(chat.host, chat.channel_id, token=visitor.token) as tab:
        history = messages(tab.greeting)
    assert [(m["id"], m["from"], m["text"]) for m in history] == [
        (ack["message"]["id"], "visitor", "Первое"),
        (reply, "operator", "Ответ"),
    ]
    assert history[0]["client_id"] == ack["client_id"]


async def test_replies_become_delivered_then_read_as_the_widget_reports(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        ack = await visitor.write("Вопрос")
        conversation_id = ack["message"]["conversation_id"]
        reply = await chat.reply(conversation_id, "Ответ")
        await chat.settle()
        assert (await visitor.next("message"))["message"]["status"] == "queued"
        await visitor.send({"type": "receipt", "status": "delivered", "ids": [reply]})
        await visitor.send({"type": "ping"})
        await visitor.next("pong")
        delivered = [m["delivery_status"] for m in await chat.messages(conversation_id)]
        await visitor.send({"type": "receipt", "status": "read", "ids": [reply, ack["message"]["id"]]})
        await visitor.send({"type": "receipt", "status": "delivered", "ids": [reply]})  # late: never moves back
        await visitor.send({"type": "ping"})
        await visitor.next("pong")
    assert delivered == ["received", "delivered"]
    assert [m["delivery_status"] for m in await chat.messages(conversation_id)] == ["received", "read"]


async def test_a_visitor_cannot_touch_another_visitors_conversation(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as alice:
        ack = await alice.write("Мой секретный заказ")
    conversation_id = ack["message"]["conversation_id"]
    reply = await chat.reply(conversation_id, "Ваш заказ 42")
    await chat.client.post(f"/api/v1/conversations/{conversation_id}/close", headers=chat.desk.as_("supervisor"))
    async with Widget(chat.host, chat.channel_id) as mallory:
        assert messages(mallory.greeting) == []
        await mallory.send({"type": "receipt", "status": "read", "ids": [reply]})
        await mallory.send({"type": "rate", "conversation_id": conversation_id, "score": 1})
        refused = await mallory.next("error")
    assert refused["field"] == "conversation_id"
    assert [m["delivery_status"] for m in await chat.messages(conversation_id)] == ["received", "queued"]


# --- typing, source, attachments ------------------------------------------------------------------------------


async def test_typing_reaches_the_other_side_both_ways(chat: Chat) -> None:
    # given a web chat conversation assigned to the operator, who watches their websocket
    async with Widget(chat.host, chat.channel_id) as visitor:
        ack = await visitor.write("Алло")
        conversation_id = ack["message"]["conversation_id"]
        assigned = await chat.client.post(
            f"/api/v1/conversations/{conversation_id}/assign",
            headers=chat.desk.as_("supervisor"),
            json={"operator_id": chat.desk.operator_id},
        )
        assert assigned.status_code == 200
        await chat.settle()
        token = chat.desk.as_("operator")["authorization"].removeprefix("Bearer ")
        async with websockets.connect(f"ws://{chat.host}/api/v1/ws?token={token}") as desk_ws:
            assert json.loads(await desk_ws.recv())["event"] == "ready"
            # when the visitor types twice in a row, the operator hears it once (throttled), without an event id
            await visitor.send({"type": "typing"})
            await visitor.send({"type": "typing"})
            notice = json.loads(await asyncio.wait_for(desk_ws.recv(), 5))
            assert notice["event"] == "VisitorTyping" and "id" not in notice
            assert notice["data"]["conversation_id"] == conversation_id
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(desk_ws.recv(), 0.5)
        # and when the operator types, the widget shows it; a second notice within a second is not sent
        typing = f"/api/v1/conversations/{conversation_id}/typing"
        first = await chat.client.post(typing, headers=chat.desk.as_("operator"))
        second = await chat.client.post(typing, headers=chat.desk.as_("operator"))
        assert (first.status_code, first.json()["sent"], second.json()["sent"]) == (202, True, False)
        assert (await visitor.next("typing"))["conversation_id"] == conversation_id
        # an operator who does not handle the conversation may not type in it
        other = await chat.client.post(typing, headers=chat.desk.as_("operator2"))
        assert other.status_code in (403, 404)


async def test_the_visits_page_referrer_and_utm_tags_are_the_conversations_source(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        ack = await visitor.write("Интересуют семена")
    source = (await chat.conversation(ack["message"]["conversation_id"]))["source"]
    assert source["utm_source"] == "yandex" and source["utm_campaign"] == "spring"
    assert source["referrer"] == "https://ya.ru/search?q=seeds"
    assert source["landing_page"] == "https://shop.example/garden?utm_source=yandex&utm_campaign=spring"
    assert source["channel_id"] == chat.channel_id


async def upload(
    chat: Chat, token: str | None, data: bytes, content_type: str, name: str = "photo.png"
) -> httpx.Response:
    headers = {"content-type": content_type}
    if token:
        headers["cookie"] = f"sb_visitor={token}"
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{chat.base}/webchat/{chat.channel_id}/files", params={"name": name}, content=data, headers=headers
        )


async def test_attachments_within_the_limits_are_stored_and_sent(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        uploaded = await upload(chat, visitor.token, PNG, "image/png")
        assert uploaded.status_code == 201, uploaded.text
        sha = uploaded.json()["sha256"]
        ack = await visitor.write("Вот фото", attachments=[sha])
    assert ack["type"] == "ack"
    (attachment,) = ack["message"]["attachments"]
    assert attachment == {
        "name": "photo.png",
        "content_type": "image/png",
        "size": len(PNG),
        "url": f"/webchat/{chat.channel_id}/files/{sha}",
    }
    async with httpx.AsyncClient() as client:
        served = await client.get(f"{chat.base}{attachment['url']}")
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_oversize_forbidden_or_mislabelled_files_are_refused_and_nothing_is_stored(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        too_big = await upload(chat, visitor.token, b"x" * 200_001, "text/plain", "log.txt")
        huge = await upload(chat, visitor.token, b"x" * 2_000_000, "text/plain", "log.txt")
        html = await upload(chat, visitor.token, b"<script>alert(1)</script>", "text/html", "page.html")
        fake_png = await upload(chat, visitor.token, b"MZ\x90\x00 executable", "image/png", "cat.png")
        nobody = await upload(chat, None, PNG, "image/png")
        forged = await upload(chat, "x.1.y", PNG, "image/png")
        # and a message cannot point at a file this visitor did not upload
        unknown = await visitor.write("see", attachments=["0" * 64])
    assert [(r.status_code, r.headers["content-type"], r.json()["field"]) for r in (too_big, huge, html, fake_png)] == [
        (413, "application/problem+json", "file"),
        (413, "application/problem+json", "body"),  # over the server's body limit: refused before it is read
        (415, "application/problem+json", "file"),
        (415, "application/problem+json", "file"),
    ]
    assert too_big.json()["detail"] == "the file is 200001 bytes; this chat takes files up to 200000 bytes"
    assert html.json()["detail"].startswith("files of type text/html are not accepted here")
    assert fake_png.json()["detail"] == "the file's content is not image/png"
    assert (nobody.status_code, forged.status_code) == (401, 401)
    assert (unknown["type"], unknown["field"]) == ("error", "attachments")
    async with chat.container.services.uow(read_only=True) as uow:
        assert await uow.webchat.visitor_file(visitor.token.split(".")[0], "0" * 64) is None  # type: ignore[union-attr]


# --- closing and rating ---------------------------------------------------------------------------------------


async def test_the_visitor_rates_a_closed_conversation_once(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        ack = await visitor.write("Спасибо за помощь")
        conversation_id = ack["message"]["conversation_id"]
        # rating an open conversation is refused
        await visitor.send({"type": "rate", "conversation_id": conversation_id, "score": 5})
        assert (await visitor.next("error"))["detail"] == "a conversation is rated when it is closed"
        closed = await chat.client.post(
            f"/api/v1/conversations/{conversation_id}/close", headers=chat.desk.as_("supervisor")
        )
        assert closed.status_code == 200
        await chat.settle()
        state = await visitor.next("state")
        assert (state["status"], state["rated"]) == ("closed", False)
        assert (await visitor.next("rate"))["conversation_id"] == conversation_id
        # bad scores are refused, a good one is stored once
        await visitor.send({"type": "rate", "conversation_id": conversation_id, "score": 6})
        assert (await visitor.next("error"))["field"] == "score"
        await visitor.send({"type": "rate", "conversation_id": conversation_id, "score": 4, "comment": "Быстро"})
        assert (await visitor.next("rated"))["score"] == 4
        await visitor.send({"type": "rate", "conversation_id": conversation_id, "score": 1})
        assert (await visitor.next("error"))["detail"] == "this conversation is already rated"
    contact_id = (await chat.conversation(conversation_id))["contact_id"]
    timeline = await chat.client.get(f"/api/v1/contacts/{contact_id}/timeline", headers=chat.desk.as_("supervisor"))
    assert [e["summary"] for e in timeline.json()["items"] if e["kind"] == "rating"] == ["rating 4/5: Быстро"]
    async with chat.container.services.uow(read_only=True) as uow:
        rating = await uow.webchat.rating(conversation_id)
    assert rating is not None and (rating.score, rating.comment) == (4, "Быстро")
    names = [e.name for e in await chat.container.outbox.after(0, 1000)]
    assert names.count("ConversationRated") == 1


# --- flood ----------------------------------------------------------------------------------------------------


async def test_a_websocket_flood_is_closed_with_1008_and_a_reason(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for _ in range(200):
                await visitor.send({"type": "ping"})
            while True:
                await visitor.recv(5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "too many messages: at most 5 a second")
    pongs = [f for f in visitor.frames if f["type"] == "pong"]
    assert 20 <= len(pongs) < 30  # the burst, and what the rate refilled meanwhile


# --- admin and demo -------------------------------------------------------------------------------------------


async def test_a_web_chat_channel_with_bad_settings_is_refused_naming_the_field(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    answer = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={
            "kind": "webchat",
            "name": "Bad chat",
            "line_id": desk.line_id,
            "settings": {"files": {"types": ["image/png", "text/html"]}},
        },
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "settings.files.types"
    listed = await app_client.get("/api/v1/channels", headers=desk.as_("admin"))
    assert [c["name"] for c in listed.json()] == ["Website"]
    # and an existing chat cannot be switched to settings the widget cannot work with
    chat = await make_chat_channel(app_client, desk)
    patched = await app_client.patch(
        f"/api/v1/channels/{chat}", headers=desk.as_("admin"), json={"settings": {"rate": {"burst": 0}}}
    )
    assert (patched.status_code, patched.json()["field"]) == (422, "settings.rate.burst")


async def test_the_demo_page_embeds_the_first_web_chat_channel(app_client: httpx.AsyncClient, desk: Desk) -> None:
    missing = await app_client.get("/demo/chat")
    assert missing.status_code == 404
    chat = await make_chat_channel(app_client, desk)
    page = await app_client.get("/demo/chat")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'<script src="/webchat/widget.js" data-channel="{chat}" async></script>' in page.text
    assert '<html lang="ru">' in page.text
