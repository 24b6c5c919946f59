"""The contact card's fields, merging two contacts and undoing it, through the HTTP API (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from switchboard.adapters.storage import tables
from switchboard.bootstrap import Container
from tests.support.desk import Desk, inbound

PROBLEM = "application/problem+json"
API = "/api/v1"


async def make_contact(client: httpx.AsyncClient, desk: Desk, **body: Any) -> dict[str, Any]:
    made = await client.post(f"{API}/contacts", headers=desk.as_("operator"), json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def write_in(client: httpx.AsyncClient, desk: Desk, text: str, **sender: str) -> dict[str, Any]:
    posted = await client.post(
        f"{API}/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, text, **sender)
    )
    assert posted.status_code == 201, posted.text
    return dict(posted.json())


async def shown(client: httpx.AsyncClient, desk: Desk, contact_id: int) -> dict[str, Any]:
    """Everything the API shows about one contact."""
    who = desk.as_("supervisor")
    card = await client.get(f"{API}/contacts/{contact_id}", headers=who)
    timeline = await client.get(f"{API}/contacts/{contact_id}/timeline", params={"limit": 200}, headers=who)
    conversations = await client.get(f"{API}/conversations", params={"contact_id": contact_id}, headers=who)
    leads = await client.get(f"{API}/leads", params={"contact_id": contact_id}, headers=who)
    return {
        "card": (card.status_code, card.json()),
        "timeline": timeline.json(),
        "conversations": conversations.json(),
        "leads": leads.json(),
    }


# --- fields ---------------------------------------------------------------------------------------------------


async def test_profile_fields_are_edited_validated_and_shown_on_the_card(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    # given a contact
    made = await make_contact(app_client, desk, name="Иван Петров", custom_fields={"size": "M", "shop": "central"})
    # when an operator fills the profile
    patch = {
        "first_name": " Иван ",
        "last_name": "Петров",
        "birth_date": "1990-05-17",
        "company_name": "Ромашка",
        "city": "Москва",
        "address": "Тверская, 1",
        "postal_code": "125009",
        "time_zone": "Europe/Moscow",
        "preferred_channel": "whatsapp",
        "marketing_consent": {"granted": True},
        "processing_consent": {"granted": False, "at": "2026-10-01T12:00:00Z"},
        "tags": ["vip", "VIP", "b2b"],
        "external_id": "crm-42",
        "custom_fields": {"size": None, "loyalty": 3},
    }
    edited = await app_client.patch(f"{API}/contacts/{made['id']}", headers=desk.as_("operator"), json=patch)
    # then the card shows them normalized; an undated consent is dated now; custom fields are merged
    assert edited.status_code == 200, edited.text
    shown = (await app_client.get(f"{API}/contacts/{made['id']}", headers=desk.as_("operator"))).json()
    assert shown == edited.json()
    # the operator sees the address masked (the reveal shows it); a supervisor sees all
    assert (shown["address"], shown["birth_date"]) == ("•••", "1990-05-17")
    card = (await app_client.get(f"{API}/contacts/{made['id']}", headers=desk.as_("supervisor"))).json()
    assert {k: card[k] for k in patch} == {
        **patch,
        "first_name": "Иван",
        "marketing_consent": {"granted": True, "at": "2026-11-02T09:00:00Z"},
        "tags": ["vip", "b2b"],
        "custom_fields": {"shop": "central", "loyalty": 3},
    }
    assert card["name"] == "Иван Петров" and card["middle_name"] is None and card["region"] is None
    # and a blank clears a field
    cleared = await app_client.patch(f"{API}/contacts/{made['id']}", headers=desk.as_("operator"), json={"city": " "})
    assert cleared.json()["city"] is None


@pytest.mark.parametrize(
    ("patch", "status", "field", "detail"),
    [
        ({"birth_date": "2030-01-01"}, 422, "birth_date", "birth_date 2030-01-01 is in the future"),
        ({"birth_date": "17.05.1990"}, 422, "birth_date", None),
        ({"time_zone": "Europe/Atlantis"}, 422, "time_zone", "time zone 'Europe/Atlantis' is not an IANA zone"),
        ({"preferred_channel": "pigeon"}, 422, "preferred_channel", None),
        ({"tags": ["x" * 51]}, 422, "tags", "each tag must be 1 to 50 characters"),
        ({"custom_fields": {"9lives": 1}}, 422, "custom_fields", None),
        ({"marketing_consent": {"granted": True, "at": "2030-01-01T00:00:00Z"}}, 422, "marketing_consent.at", None),
        ({"external_id": "taken-1"}, 409, "external_id", None),
        ({"merged_into_id": 1}, 422, "merged_into_id", None),
    ],
)
async def test_bad_fields_are_refused_and_nothing_changes(
    app_client: httpx.AsyncClient, desk: Desk, patch: dict[str, Any], status: int, field: str, detail: str | None
) -> None:
    # given a contact and another that holds an external id
    made = await make_contact(app_client, desk, name="Anna", city="Тула")
    await make_contact(app_client, desk, name="Other", external_id="taken-1")
    # when a bad value is sent with a good one
    answer = await app_client.patch(
        f"{API}/contacts/{made['id']}", headers=desk.as_("operator"), json={"city": "Омск", **patch}
    )
    # then the problem names the field and the good value is not written either
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM and answer.json()["field"] == field
    if detail is not None:
        assert answer.json()["detail"] == detail
    card = (await app_client.get(f"{API}/contacts/{made['id']}", headers=desk.as_("operator"))).json()
    assert card["city"] == "Тула" and card["updated_at"] == made["updated_at"]


# --- merge and undo -------------------------------------------------------------------------------------------


async def two_histories(client: httpx.AsyncClient, desk: Desk, container: Container) -> tuple[int, int]:
    """A customer known twice: by phone (WhatsApp-like, with a lead) and by email, each with a profile."""
    by_phone = await write_in(client, desk, "Где заказ?", phone="+79161234567", name="Иван Петров")
    by_phone_2 = await write_in(client, desk, "Алло?", phone="+79161234567")
    assert by_phone_2["contact_id"] == by_phone["contact_id"]
    container.services.clock.advance(hours=1)  # type: ignore[attr-defined]
    by_mail = await write_in(client, desk, "Счёт не пришёл", email="ivan@example.com", name="Ivan Petrov")
    survivor, duplicate = by_phone["contact_id"], by_mail["contact_id"]
    operator = desk.as_("operator")
    survivor_fields = {
        "city": "Москва",
        "tags": ["vip"],
        "external_id": "crm-1",
        "custom_fields": {"size": "M"},
        "marketing_consent": {"granted": True, "at": "2026-10-01T00:00:00Z"},
    }
    assert (await client.patch(f"{API}/contacts/{survivor}", headers=operator, json=survivor_fields)).status_code == 200
    container.services.clock.advance(hours=1)  # type: ignore[attr-defined]
    duplicate_fields = {
        "city": "Санкт-Петербург",
        "birth_date": "1990-05-17",
        "tags": ["b2b"],
        "external_id": "shop-7",
        "custom_fields": {"size": "L", "loyalty": 2},
        "tier": "vip",
        "marketing_consent": {"granted": False, "at": "2026-10-05T00:00:00Z"},
    }
    assert (
        await client.patch(f"{API}/contacts/{duplicate}", headers=operator, json=duplicate_fields)
    ).status_code == 200
    container.services.clock.advance(hours=1)  # type: ignore[attr-defined]
    return survivor, duplicate


async def test_merge_moves_everything_to_the_survivor_and_leaves_a_tombstone(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given one customer known as two contacts, with conversations, a lead and timelines
    survivor, duplicate = await two_histories(app_client, desk, container)
    before = {c: await shown(app_client, desk, c) for c in (survivor, duplicate)}
    # when a supervisor merges them, choosing the survivor's external id
    merged = await app_client.post(
        f"{API}/contacts/{survivor}/merge",
        headers=desk.as_("supervisor"),
        json={"duplicate_id": duplicate, "fields": {"external_id": "survivor"}},
    )
    # then identities, conversations, leads and timeline are the survivor's, fields resolved by the rule
    assert merged.status_code == 200, merged.text
    answer = merged.json()
    assert answer["moved"] == {"identities": 1, "conversations": 1, "leads": 1, "timeline": 3}
    card = answer["survivor"]
    assert {(i["kind"], i["value"]) for i in card["identities"]} == {
        ("phone", "+79161234567"),
        ("email", "ivan@example.com"),
    }
    assert card["name"] == "Ivan Petrov"  # the duplicate was edited last
    assert card["city"] == "Санкт-Петербург" and card["birth_date"] == "1990-05-17"
    assert card["tags"] == ["vip", "b2b"] and card["tier"] == "vip" and card["external_id"] == "crm-1"
    assert card["custom_fields"] == {"size": "L", "loyalty": 2}
    assert card["marketing_consent"] == {"granted": False, "at": "2026-10-05T00:00:00Z"}
    assert answer["taken"]["city"] == "duplicate" and answer["taken"]["external_id"] == "survivor"
    after = await shown(app_client, desk, survivor)
    assert len(after["timeline"]["items"]) == 4 + 3
    assert [e["id"] for e in after["timeline"]["items"]] == sorted(
        [e["id"] for c in (survivor, duplicate) for e in before[c]["timeline"]["items"]], reverse=True
    )
    assert {c["id"] for c in after["conversations"]} == {
        c["id"] for x in (survivor, duplicate) for c in before[x]["conversations"]
    }
    assert {lead["id"] for lead in after["leads"]} == {
        lead["id"] for x in (survivor, duplicate) for lead in before[x]["leads"]
    }
    # and the duplicate answers reads with a redirect to the survivor, writes with a 409
    card_of_duplicate = await app_client.get(f"{API}/contacts/{duplicate}", headers=desk.as_("operator"))
    assert card_of_duplicate.status_code == 307
    assert card_of_duplicate.headers["location"] == f"{API}/contacts/{survivor}"
    assert card_of_duplicate.json() == {
        "type": "about:blank",
        "title": "Merged",
        "status": 307,
        "detail": f"contact {duplicate} was merged into contact {survivor}",
        "field": "contact_id",
        "merged_into_id": survivor,
    }
    timeline = await app_client.get(f"{API}/contacts/{duplicate}/timeline?limit=5", headers=desk.as_("operator"))
    assert timeline.status_code == 307 and timeline.headers["location"] == f"{API}/contacts/{survivor}/timeline?limit=5"
    followed = await app_client.get(f"{API}/contacts/{duplicate}", headers=desk.as_("operator"), follow_redirects=True)
    assert followed.status_code == 200 and followed.json()["id"] == survivor
    edit = await app_client.patch(f"{API}/contacts/{duplicate}", headers=desk.as_("operator"), json={"city": "Тула"})
    assert edit.status_code == 409 and edit.json()["merged_into_id"] == survivor
    # and the customer's next email joins the survivor
    again = await write_in(app_client, desk, "Ещё вопрос", email="ivan@example.com")
    assert again["contact_id"] == survivor
    # and search finds the survivor only
    found = await app_client.get(f"{API}/contacts", params={"name": "petrov"}, headers=desk.as_("operator"))
    assert [c["id"] for c in found.json()] == [survivor]  # the tombstone, also "Ivan Petrov", is not listed
    found = await app_client.get(f"{API}/contacts", params={"email": "IVAN@example.com"}, headers=desk.as_("operator"))
    assert [c["id"] for c in found.json()] == [survivor]


async def test_merge_is_audited_and_announced(app_client: httpx.AsyncClient, desk: Desk, container: Container) -> None:
    survivor, duplicate = await two_histories(app_client, desk, container)
    merged = await app_client.post(
        f"{API}/contacts/{survivor}/merge", headers=desk.as_("admin"), json={"duplicate_id": duplicate}
    )
    merge_id = merged.json()["merge_id"]
    undone = await app_client.post(f"{API}/merges/{merge_id}/undo", headers=desk.as_("supervisor"))
    assert undone.status_code == 200, undone.text
    async with container.database.engine.connect() as connection:
        audit = (
            await connection.execute(
                select(tables.audit_log.c.action, tables.audit_log.c.entity_id, tables.audit_log.c.actor_user_id)
                .where(tables.audit_log.c.action.like("contact.merge%"))
                .order_by(tables.audit_log.c.id)
            )
        ).all()
        events = (
            await connection.execute(
                select(tables.outbox.c.name, tables.outbox.c.payload)
                .where(tables.outbox.c.name.in_(["ContactsMerged", "MergeUndone"]))
                .order_by(tables.outbox.c.id)
            )
        ).all()
    assert [tuple(row) for row in audit] == [
        ("contact.merge", survivor, desk.admin_id),
        ("contact.merge_undo", survivor, desk.supervisor_id),
    ]
    payload = {"merge_id": merge_id, "survivor_id": survivor, "duplicate_id": duplicate}
    assert [tuple(row) for row in events] == [("ContactsMerged", payload), ("MergeUndone", payload)]


CHOICES = [
    {},
    {"city": "survivor", "external_id": "duplicate", "tags": "duplicate", "name": "duplicate"},
    {name: "duplicate" for name in ("name", "tier", "city", "birth_date", "marketing_consent", "custom_fields")},
    {name: "survivor" for name in ("name", "tier", "city", "birth_date", "marketing_consent", "custom_fields")},
]


@pytest.mark.parametrize("choices", CHOICES, ids=["rule", "mixed", "duplicate", "survivor"])
async def test_merge_then_undo_shows_exactly_what_was_shown_before(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, choices: dict[str, str]
) -> None:
    # given two contacts with history and fields, and what the API shows of each
    survivor, duplicate = await two_histories(app_client, desk, container)
    before = {c: await shown(app_client, desk, c) for c in (survivor, duplicate)}
    # when they are merged (with these choices) and, later, the merge is undone
    merged = await app_client.post(
        f"{API}/contacts/{survivor}/merge",
        headers=desk.as_("supervisor"),
        json={"duplicate_id": duplicate, "fields": choices},
    )
    assert merged.status_code == 200, merged.text
    container.services.clock.advance(minutes=5)  # type: ignore[attr-defined]
    undone = await app_client.post(f"{API}/merges/{merged.json()['merge_id']}/undo", headers=desk.as_("supervisor"))
    # then both contacts show exactly what they showed before, to the updated_at
    assert undone.status_code == 200, undone.text
    assert undone.json()["survivor"] == before[survivor]["card"][1]
    assert undone.json()["duplicate"] == before[duplicate]["card"][1]
    assert {c: await shown(app_client, desk, c) for c in (survivor, duplicate)} == before


async def test_undo_keeps_edits_made_after_the_merge_and_gives_back_new_history_of_moved_conversations(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    survivor, duplicate = await two_histories(app_client, desk, container)
    merged = await app_client.post(
        f"{API}/contacts/{survivor}/merge", headers=desk.as_("supervisor"), json={"duplicate_id": duplicate}
    )
    # given, after the merge, an edit of a merged field and a new message in the duplicate's old conversation
    container.services.clock.advance(minutes=1)  # type: ignore[attr-defined]
    await app_client.patch(f"{API}/contacts/{survivor}", headers=desk.as_("operator"), json={"city": "Омск"})
    await write_in(app_client, desk, "И ещё", email="ivan@example.com")
    # when the merge is undone
    undone = await app_client.post(f"{API}/merges/{merged.json()['merge_id']}/undo", headers=desk.as_("supervisor"))
    # then the later edit stays, other merged fields go back, and the new message follows its conversation
    assert undone.status_code == 200, undone.text
    assert undone.json()["survivor"]["city"] == "Омск"
    assert undone.json()["survivor"]["birth_date"] is None and undone.json()["survivor"]["tags"] == ["vip"]
    assert undone.json()["survivor"]["updated_at"] == "2026-11-02T12:01:00Z"
    timeline = (await shown(app_client, desk, duplicate))["timeline"]["items"]
    assert [e["summary"] for e in timeline if e["kind"] == "message"] == ["И ещё", "Счёт не пришёл"]


async def test_merge_and_undo_refuse_what_makes_no_sense(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    survivor, duplicate = await two_histories(app_client, desk, container)
    third = (await make_contact(app_client, desk, name="Третий"))["id"]
    boss = desk.as_("supervisor")

    async def merge(into: int, body: dict[str, Any]) -> httpx.Response:
        return await app_client.post(f"{API}/contacts/{into}/merge", headers=boss, json=body)

    itself = await merge(survivor, {"duplicate_id": survivor})
    assert (itself.status_code, itself.json()["field"]) == (422, "duplicate_id")
    assert itself.json()["detail"] == "a contact cannot be merged into itself"
    missing = await merge(survivor, {"duplicate_id": duplicate + 1000})
    assert (missing.status_code, missing.json()["field"]) == (404, "duplicate_id")
    bad_choice = await merge(survivor, {"duplicate_id": duplicate, "fields": {"id": "survivor"}})
    assert (bad_choice.status_code, bad_choice.json()["field"]) == (422, "fields.id")
    wrong_side = await merge(survivor, {"duplicate_id": duplicate, "fields": {"city": "both"}})
    assert (wrong_side.status_code, wrong_side.json()["field"]) == (422, "fields.city")
    done = await merge(survivor, {"duplicate_id": duplicate})
    assert done.status_code == 200
    merge_id = done.json()["merge_id"]
    # an already merged contact can be neither merged again nor merged into
    again = await merge(third, {"duplicate_id": duplicate})
    assert again.status_code == 409 and again.json() == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": f"contact {duplicate} is already merged into contact {survivor}",
        "field": "duplicate_id",
    }
    into_tombstone = await merge(duplicate, {"duplicate_id": third})
    assert (into_tombstone.status_code, into_tombstone.json()["merged_into_id"]) == (409, survivor)
    # the survivor merged on into another contact: the first merge waits for the later one's undo
    later = await merge(third, {"duplicate_id": survivor})
    assert later.status_code == 200
    blocked = await app_client.post(f"{API}/merges/{merge_id}/undo", headers=boss)
    assert blocked.status_code == 409
    assert blocked.json()["detail"] == (
        f"contact {survivor} was merged into contact {third} since; undo merge {later.json()['merge_id']} first"
    )
    assert (await app_client.post(f"{API}/merges/{later.json()['merge_id']}/undo", headers=boss)).status_code == 200
    assert (await app_client.post(f"{API}/merges/{merge_id}/undo", headers=boss)).status_code == 200
    twice = await app_client.post(f"{API}/merges/{merge_id}/undo", headers=boss)
    assert twice.status_code == 409 and twice.json()["detail"] == f"merge {merge_id} was already undone"
    unknown = await app_client.post(f"{API}/merges/{merge_id + 100}/undo", headers=boss)
    assert unknown.status_code == 404
    # and operators may not merge
    operator = await app_client.post(
        f"{API}/contacts/{survivor}/merge", headers=desk.as_("operator"), json={"duplicate_id": third}
    )
    assert operator.status_code == 403
