"""Bad input, one test per kind: the exact problem+json answer, and nothing half-written.

Every writing case counts the rows of the tables a write touches before and after (directly with
SQLAlchemy on the test's database), so a failure that leaves a contact, a message or an event
behind fails the test.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from switchboard.adapters.storage import tables
from switchboard.bootstrap import Container
from switchboard.web import problems as web_problems
from switchboard.web.app import create_app
from tests.support.desk import Desk, inbound

PROBLEM = "application/problem+json"
WRITTEN = ("contacts", "identities", "conversations", "messages", "leads", "timeline", "outbox", "audit_log")


async def row_counts(container: Container) -> dict[str, int]:
    counts = {}
    async with container.database.engine.connect() as connection:
        for name in WRITTEN:
            statement = select(func.count()).select_from(tables.metadata.tables[name])
            counts[name] = (await connection.execute(statement)).scalar_one()
    return counts


def invalid(field: str, message: str, *others: tuple[str, str]) -> dict[str, Any]:
    """The 422 problem of a request that fails schema validation."""
    errors = [{"field": field, "message": message}] + [{"field": f, "message": m} for f, m in others]
    return {
        "type": "about:blank",
        "title": "Invalid input",
        "status": 422,
        "detail": f"{field}: {message}",
        "field": field,
        "errors": errors,
    }


def problem(status: int, title: str, detail: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if field is not None:
        body["field"] = field
    return body


def assert_problem(response: httpx.Response, expected: dict[str, Any]) -> None:
    assert response.status_code == expected["status"], response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == expected


@pytest.fixture
async def before(container: Container, desk: Desk) -> dict[str, int]:
    """Row counts once the desk exists: every bad request must leave them as they are."""
    return await row_counts(container)


async def post_inbound(client: httpx.AsyncClient, desk: Desk, body: Any) -> httpx.Response:
    return await client.post("/api/v1/inbound", headers=desk.as_("integration"), json=body)


# --- the API channel: the shape of the request --------------------------------------------------------------


async def test_malformed_json_is_a_400_naming_the_body(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    # when the body is cut off in the middle
    answer = await app_client.post(
        "/api/v1/inbound",
        headers={**desk.as_("integration"), "content-type": "application/json"},
        content=b'{"channel_id": 1, "sender": {"phone": "+79161234567"',
    )
    # then it is a 400 naming the body, and nothing is stored
    assert_problem(answer, problem(400, "Malformed JSON", "the body is not valid JSON: JSON decode error", "body"))
    assert await row_counts(container) == before


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        (("channel_id",), invalid("channel_id", "Field required")),
        (("sender",), invalid("sender", "Field required")),
        (("channel_id", "sender", "text"), invalid("channel_id", "Field required", ("sender", "Field required"))),
    ],
    ids=["channel_id", "sender", "both"],
)
async def test_missing_fields_are_named(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    before: dict[str, int],
    drop: tuple[str, ...],
    expected: dict[str, Any],
) -> None:
    body = {k: v for k, v in inbound(desk.channel_id, "hi", phone="+79161234567").items() if k not in drop}
    assert_problem(await post_inbound(app_client, desk, body), expected)
    assert await row_counts(container) == before


async def test_a_sender_without_any_identity_is_refused(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    answer = await post_inbound(
        app_client, desk, {"channel_id": desk.channel_id, "text": "hi", "sender": {"name": "Nobody"}}
    )
    assert_problem(
        answer, problem(422, "Invalid input", "the sender needs a phone, an email or an external id", "sender")
    )
    assert await row_counts(container) == before


async def test_a_message_with_neither_text_nor_attachments_is_refused(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    answer = await post_inbound(app_client, desk, inbound(desk.channel_id, "   ", phone="+79161234567"))
    assert_problem(answer, problem(422, "Invalid input", "the message has neither text nor attachments", "body"))
    assert await row_counts(container) == before


@pytest.mark.parametrize(
    ("body_patch", "expected"),
    [
        ({"colour": "red"}, invalid("colour", "Extra inputs are not permitted")),
        (
            {"sender": {"phone": "+79161234567", "nickname": "pete"}},
            invalid("sender.nickname", "Extra inputs are not permitted"),
        ),
        ({"source": {"utm_source": "ya", "gclid": "x"}}, invalid("source.gclid", "Extra inputs are not permitted")),
    ],
    ids=["top-level", "in-sender", "in-source"],
)
async def test_unknown_fields_are_rejected(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    before: dict[str, int],
    body_patch: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    body = {**inbound(desk.channel_id, "hi", phone="+79161234567"), **body_patch}
    assert_problem(await post_inbound(app_client, desk, body), expected)
    assert await row_counts(container) == before


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ({"phone": "12345"}, problem(422, "Invalid input", "phone '12345' is not a valid number", "sender.phone")),
        (
            {"phone": "+7 916 000"},
            problem(422, "Invalid input", "phone '+7 916 000' is not a valid number", "sender.phone"),
        ),
        (
            {"email": "not-an-email"},
            problem(422, "Invalid input", "email 'not-an-email' is not an address", "sender.email"),
        ),
        (
            {"email": "a..b@example.com"},
            problem(422, "Invalid input", "email 'a..b@example.com' has an invalid local part", "sender.email"),
        ),
        (
            {"phone": "+79161234567", "email": "pete@"},
            problem(422, "Invalid input", "email 'pete@' is not an address", "sender.email"),
        ),
    ],
    ids=["short-phone", "incomplete-phone", "email-no-at", "email-double-dot", "good-phone-bad-email"],
)
async def test_invalid_phone_or_email_is_named_and_nothing_is_stored(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    before: dict[str, int],
    sender: dict[str, str],
    expected: dict[str, Any],
) -> None:
    answer = await post_inbound(app_client, desk, {"channel_id": desk.channel_id, "text": "hi", "sender": sender})
    assert_problem(answer, expected)
    assert await row_counts(container) == before


async def test_a_blank_external_id_names_the_request_field(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    answer = await post_inbound(
        app_client, desk, {"channel_id": desk.channel_id, "text": "hi", "sender": {"external_id": "   "}}
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "sender.external_id"
    assert await row_counts(container) == before


# --- the API channel: which channel -------------------------------------------------------------------------


async def test_unknown_channel_is_named(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    missing = desk.channel_id + 1000
    answer = await post_inbound(app_client, desk, inbound(missing, "hi", phone="+79161234567"))
    assert_problem(
        answer, problem(422, "Invalid input", f"channel {missing} does not exist or is switched off", "channel_id")
    )
    assert await row_counts(container) == before


async def test_a_channel_of_another_kind_is_refused(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a Telegram channel on the desk's line
    made = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": "telegram", "name": "Bot", "line_id": desk.line_id, "secrets": {"bot_token": "1:test-token"}},
    )
    assert made.status_code == 201, made.text
    telegram = made.json()["id"]
    rows = await row_counts(container)
    # when an integration posts into it through the API channel
    answer = await post_inbound(app_client, desk, inbound(telegram, "hi", phone="+79161234567"))
    # then it is refused, naming the channel, and nothing is stored
    assert_problem(
        answer, problem(422, "Invalid input", f"channel {telegram} is a telegram channel, not api", "channel_id")
    )
    assert await row_counts(container) == rows


async def test_a_switched_off_channel_is_refused(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    off = await app_client.patch(
        f"/api/v1/channels/{desk.channel_id}", headers=desk.as_("admin"), json={"active": False}
    )
    assert off.status_code == 200 and off.json()["active"] is False
    rows = await row_counts(container)
    answer = await post_inbound(app_client, desk, inbound(desk.channel_id, "hi", phone="+79161234567"))
    assert_problem(
        answer,
        problem(422, "Invalid input", f"channel {desk.channel_id} does not exist or is switched off", "channel_id"),
    )
    assert await row_counts(container) == rows


# --- the size of the body -----------------------------------------------------------------------------------


def too_large(limit: int) -> dict[str, Any]:
    return problem(413, "Payload too large", f"the body is larger than {limit} bytes", "body")


async def test_a_declared_body_over_the_limit_is_a_413(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    limit = container.settings.body_limit_bytes
    assert limit == 1_048_576  # the default
    body = inbound(desk.channel_id, "x" * limit, phone="+79161234567")
    answer = await post_inbound(app_client, desk, body)
    assert int(answer.request.headers["content-length"]) > limit
    assert_problem(answer, too_large(limit))
    assert await row_counts(container) == before


async def test_the_limit_is_the_configured_one(desk: Desk, container: Container, before: dict[str, int]) -> None:
    # given an app whose SWITCHBOARD_BODY_LIMIT_BYTES is 2048
    small = dataclasses.replace(container, settings=container.settings.model_copy(update={"body_limit_bytes": 2048}))
    transport = httpx.ASGITransport(app=create_app(small, manage_lifecycle=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
        # when a 3000-byte body comes, and a 1500-byte one
        over = await post_inbound(client, desk, inbound(desk.channel_id, "x" * 3000, phone="+79161234567"))
        assert_problem(over, too_large(2048))
        assert await row_counts(container) == before
        under = await post_inbound(client, desk, inbound(desk.channel_id, "x" * 1500, phone="+79161234567"))
    # then the first is refused and the second stored
    assert under.status_code == 201, under.text


async def test_the_longest_message_is_well_under_the_limit(app_client: httpx.AsyncClient, desk: Desk) -> None:
    # 64 000 characters of text is the longest message; well under the byte limit, so it is stored
    answer = await post_inbound(app_client, desk, inbound(desk.channel_id, "я" * 64_000, phone="+79161234567"))
    assert answer.status_code == 201, answer.text


async def _chunks(total: int, size: int = 65_536) -> AsyncIterator[bytes]:
    head = b'{"channel_id": 1, "sender": {"phone": "+79161234567"}, "text": "'
    yield head
    sent = len(head)
    while sent < total:
        chunk = b"x" * min(size, total - sent)
        sent += len(chunk)
        yield chunk
    yield b'"}'


async def test_a_chunked_body_growing_past_the_limit_is_a_413(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    limit = container.settings.body_limit_bytes
    # when the body comes without Content-Length and grows past the limit
    answer = await app_client.post(
        "/api/v1/inbound",
        content=_chunks(limit + 65_536),
        headers={**desk.as_("integration"), "content-type": "application/json"},
    )
    assert "content-length" not in answer.request.headers
    assert answer.request.headers["transfer-encoding"] == "chunked"
    # then it is a 413 and nothing is stored
    assert await row_counts(container) == before
    assert_problem(answer, too_large(limit))


async def test_a_chunked_body_growing_past_the_limit_is_refused_and_writes_nothing(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    answer = await app_client.post(
        "/api/v1/inbound",
        content=_chunks(container.settings.body_limit_bytes + 65_536),
        headers={**desk.as_("integration"), "content-type": "application/json"},
    )
    assert answer.status_code in (400, 413)
    assert answer.headers["content-type"] == PROBLEM
    assert await row_counts(container) == before


async def test_a_small_chunked_body_is_accepted(app_client: httpx.AsyncClient, desk: Desk) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield f'{{"channel_id": {desk.channel_id}, "sender": {{"phone": "+79161234567"}}, '.encode()
        yield b'"text": "in two pieces"}'

    answer = await app_client.post(
        "/api/v1/inbound", content=body(), headers={**desk.as_("integration"), "content-type": "application/json"}
    )
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 201, answer.text


# --- idempotency --------------------------------------------------------------------------------------------


async def test_the_same_external_id_twice_stores_one_message_and_answers_the_same(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    body = inbound(desk.channel_id, "Привет", external_id="ext-1", phone="+79160000011")
    first = await post_inbound(app_client, desk, body)
    after_first = await row_counts(container)
    again = await post_inbound(app_client, desk, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert await row_counts(container) == after_first
    assert after_first["messages"] == before["messages"] + 1


async def test_ten_concurrent_deliveries_of_one_message_store_it_once(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    # when the same delivery arrives ten times at once
    body = inbound(desk.channel_id, "Одновременно", external_id="ext-burst", phone="+79160000012", name="Burst")
    answers = await asyncio.gather(*(post_inbound(app_client, desk, body) for _ in range(10)))
    # then exactly one is stored (201) and the nine repeats answer the same (200)
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201], [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    first = answers[0].json()
    assert (first["contact_created"], first["conversation_opened"], first["lead_created"]) == (True, True, True)
    rows = await row_counts(container)
    for table in ("contacts", "conversations", "messages", "leads"):
        assert rows[table] == before[table] + 1, table
    async with container.database.engine.connect() as connection:
        stored = (
            await connection.execute(
                select(func.count()).select_from(tables.messages).where(tables.messages.c.external_id == "ext-burst")
            )
        ).scalar_one()
    assert stored == 1


# --- who is asking ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("Bearer not-a-session", "the session is invalid or has expired"),
        ("Bearer sbt_unknown-token", "the API token is unknown or revoked"),
        ("Basic YWRtaW46YWRtaW4=", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer ", "the Authorization header must be 'Bearer <token>'"),
    ],
    ids=["bad-session", "unknown-api-token", "basic", "empty-bearer"],
)
async def test_a_wrong_token_is_a_401_asking_for_bearer(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    before: dict[str, int],
    authorization: str,
    detail: str,
) -> None:
    app_client.cookies.clear()  # the desk's logins leave a session cookie in the client
    answer = await app_client.post(
        "/api/v1/inbound",
        headers={"authorization": authorization},
        json=inbound(desk.channel_id, "hi", phone="+79161234567"),
    )
    assert_problem(answer, problem(401, "Unauthenticated", detail))
    assert answer.headers["www-authenticate"] == "Bearer"
    assert await row_counts(container) == before


async def test_a_wrong_role_is_a_403(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, before: dict[str, int]
) -> None:
    answer = await app_client.post(
        "/api/v1/inbound", headers=desk.as_("operator"), json=inbound(desk.channel_id, "hi", phone="+79161234567")
    )
    assert_problem(answer, problem(403, "Forbidden", "the operator role may not do this"))
    assert await row_counts(container) == before


# --- conversations ------------------------------------------------------------------------------------------


@pytest.fixture
async def conversation(app_client: httpx.AsyncClient, desk: Desk) -> int:
    """An open conversation assigned to the operator ``olga``."""
    posted = await post_inbound(app_client, desk, inbound(desk.channel_id, "help", phone="+79160000021"))
    assert posted.status_code == 201, posted.text
    conversation_id: int = posted.json()["conversation_id"]
    assigned = await app_client.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert assigned.status_code == 200, assigned.text
    return conversation_id


async def test_a_reply_to_a_closed_conversation_is_a_409(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, conversation: int
) -> None:
    closed = await app_client.post(f"/api/v1/conversations/{conversation}/close", headers=desk.as_("operator"))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    rows = await row_counts(container)
    answer = await app_client.post(
        f"/api/v1/conversations/{conversation}/replies", headers=desk.as_("operator"), json={"text": "too late"}
    )
    assert_problem(answer, problem(409, "Conflict", "the conversation is closed", "status"))
    again = await app_client.post(f"/api/v1/conversations/{conversation}/close", headers=desk.as_("operator"))
    assert_problem(again, problem(409, "Conflict", "a closed conversation cannot close", "status"))
    assert await row_counts(container) == rows


async def test_an_operator_replying_to_someone_elses_conversation_is_a_403(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, conversation: int
) -> None:
    # given the conversation is olga's; ivan works the same line, so he may read it
    seen = await app_client.get(f"/api/v1/conversations/{conversation}", headers=desk.as_("operator2"))
    assert seen.status_code == 200
    rows = await row_counts(container)
    # when ivan replies to it, or closes it
    reply = await app_client.post(
        f"/api/v1/conversations/{conversation}/replies", headers=desk.as_("operator2"), json={"text": "not mine"}
    )
    close = await app_client.post(f"/api/v1/conversations/{conversation}/close", headers=desk.as_("operator2"))
    # then both are refused and nothing changed
    for answer in (reply, close):
        assert_problem(answer, problem(403, "Forbidden", "this conversation is not assigned to you"))
    assert await row_counts(container) == rows
    state = (await app_client.get(f"/api/v1/conversations/{conversation}", headers=desk.as_("supervisor"))).json()
    assert (state["status"], state["assignee_id"]) == ("assigned", desk.operator_id)


async def test_an_empty_reply_is_refused(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, conversation: int
) -> None:
    rows = await row_counts(container)
    answer = await app_client.post(
        f"/api/v1/conversations/{conversation}/replies", headers=desk.as_("operator"), json={"text": "  "}
    )
    assert_problem(answer, problem(422, "Invalid input", "the reply has neither text nor attachments", "body"))
    assert await row_counts(container) == rows


@pytest.mark.parametrize("who", ["supervisor", "admin", "id-zero", "missing", "inactive"])
async def test_assigning_to_someone_who_is_not_an_active_operator_is_a_422(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, conversation: int, who: str
) -> None:
    # given a target who is not an active operator
    if who == "inactive":
        off = await app_client.patch(
            f"/api/v1/operators/{desk.other_operator_id}", headers=desk.as_("admin"), json={"active": False}
        )
        assert off.status_code == 200 and off.json()["active"] is False
    target = {
        "supervisor": desk.supervisor_id,
        "admin": desk.admin_id,
        "id-zero": 0,
        "missing": desk.other_operator_id + 1000,
        "inactive": desk.other_operator_id,
    }[who]
    rows = await row_counts(container)
    # when a supervisor assigns the conversation to them
    answer = await app_client.post(
        f"/api/v1/conversations/{conversation}/assign", headers=desk.as_("supervisor"), json={"operator_id": target}
    )
    # then it is refused naming operator_id, and the conversation is still olga's
    if who == "id-zero":  # refused by the input's own bounds, before any lookup
        assert answer.status_code == 422
        assert answer.json()["field"] == "operator_id"
        assert answer.json()["detail"] == "operator_id: Input should be greater than or equal to 1"
    else:
        assert_problem(answer, problem(422, "Invalid input", f"user {target} is not an active operator", "operator_id"))
    assert await row_counts(container) == rows
    state = (await app_client.get(f"/api/v1/conversations/{conversation}", headers=desk.as_("supervisor"))).json()
    assert (state["status"], state["assignee_id"]) == ("assigned", desk.operator_id)


async def test_assign_without_operator_id_names_it(
    app_client: httpx.AsyncClient, desk: Desk, conversation: int
) -> None:
    answer = await app_client.post(
        f"/api/v1/conversations/{conversation}/assign", headers=desk.as_("supervisor"), json={"operator_id": "olga"}
    )
    assert_problem(
        answer, invalid("operator_id", "Input should be a valid integer, unable to parse string as an integer")
    )


# --- pagination ---------------------------------------------------------------------------------------------

GE1 = "Input should be greater than or equal to 1"
GE0 = "Input should be greater than or equal to 0"
LE200 = "Input should be less than or equal to 200"
NOT_INT = "Input should be a valid integer, unable to parse string as an integer"
PAGES = [
    ("/api/v1/contacts", {"limit": "0"}, "limit", GE1),
    ("/api/v1/contacts", {"limit": "201"}, "limit", LE200),
    ("/api/v1/contacts", {"offset": "-1"}, "offset", GE0),
    ("/api/v1/contacts", {"offset": "100001"}, "offset", "Input should be less than or equal to 100000"),
    ("/api/v1/contacts", {"limit": "ten"}, "limit", NOT_INT),
    ("/api/v1/leads", {"limit": "0"}, "limit", GE1),
    ("/api/v1/leads", {"limit": "201"}, "limit", LE200),
    ("/api/v1/leads", {"offset": "-1"}, "offset", GE0),
    ("/api/v1/conversations", {"limit": "0"}, "limit", GE1),
    ("/api/v1/conversations", {"before_id": "0"}, "before_id", GE1),
    ("/api/v1/conversations/{conversation}/messages", {"limit": "201"}, "limit", LE200),
    ("/api/v1/conversations/{conversation}/messages", {"before_id": "-5"}, "before_id", GE1),
    ("/api/v1/contacts/{contact}/timeline", {"limit": "0"}, "limit", GE1),
    ("/api/v1/contacts/{contact}/timeline", {"before_id": "0"}, "before_id", GE1),
]


async def test_pagination_out_of_range_is_a_422_naming_the_parameter(
    app_client: httpx.AsyncClient, desk: Desk, conversation: int
) -> None:
    state = (await app_client.get(f"/api/v1/conversations/{conversation}", headers=desk.as_("supervisor"))).json()
    answers, expected = {}, {}
    for template, params, field, message in PAGES:
        # when a list is asked for with a page parameter out of its range
        path = template.format(conversation=conversation, contact=state["contact_id"])
        answer = await app_client.get(path, params=params, headers=desk.as_("supervisor"))
        case = f"{template}?{params}"
        answers[case] = (answer.status_code, answer.headers["content-type"], answer.json())
        # then it is a 422 problem naming the parameter
        expected[case] = (422, PROBLEM, invalid(field, message))
    assert answers == expected


class _QuietLog:
    """Stands in for the web layer's logger: rendering a 500's traceback takes seconds."""

    def exception(self, *args: object, **kwargs: object) -> None:
        pass

    def warning(self, *args: object, **kwargs: object) -> None:
        pass


TOO_BIG = str(2**63)
OUT_OF_RANGE = [
    ("get", "/api/v1/leads", {"offset": TOO_BIG}, None, "offset"),
    ("get", "/api/v1/conversations", {"before_id": TOO_BIG}, None, "before_id"),
    ("get", f"/api/v1/contacts/{TOO_BIG}", {}, None, "contact_id"),
    ("get", f"/api/v1/conversations/{TOO_BIG}", {}, None, "conversation_id"),
    (
        "post",
        "/api/v1/inbound",
        {},
        {"channel_id": 2**63, "text": "hi", "sender": {"phone": "+79161234567"}},
        "channel_id",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "field"),
    OUT_OF_RANGE,
    ids=["leads-offset", "conversations-before_id", "contact-id", "conversation-id", "inbound-channel_id"],
)
async def test_a_number_past_the_databases_range_is_a_422_not_a_500(
    app_client: httpx.AsyncClient,
    desk: Desk,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    params: dict[str, str],
    body: dict[str, Any] | None,
    field: str,
) -> None:
    monkeypatch.setattr(web_problems, "log", _QuietLog())
    transport = httpx.ASGITransport(app=app_client._transport.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
        who = "admin" if method == "post" else "supervisor"
        answer = await client.request(method.upper(), path, params=params, json=body, headers=desk.as_(who))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


async def test_the_timeline_of_a_contact_that_does_not_exist_is_a_404_and_of_one_without_history_empty(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    # given a contact made by hand, who has written nothing yet
    made = await app_client.post("/api/v1/contacts", json={"name": "Тихий"}, headers=desk.as_("operator"))
    assert made.status_code == 201, made.text
    quiet = made.json()["id"]
    # when their timeline and that of a contact who does not exist are asked for
    empty = await app_client.get(f"/api/v1/contacts/{quiet}/timeline", headers=desk.as_("operator"))
    missing = await app_client.get(f"/api/v1/contacts/{quiet + 1000}/timeline", headers=desk.as_("operator"))
    # then the first is an empty page and the second a 404 naming the contact
    assert (empty.status_code, empty.json()) == (200, {"items": [], "next_before_id": None})
    assert_problem(missing, problem(404, "Not found", f"contact {quiet + 1000} does not exist"))
