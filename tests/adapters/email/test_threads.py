"""Threading: signed reply tokens and the thread hint an inbound mail carries."""

from __future__ import annotations

import pytest

from switchboard.adapters.email.model import AttachmentLimits
from switchboard.adapters.email.parse import parse_message
from switchboard.adapters.email.threads import (
    ReplyTokens,
    channel_tokens,
    conversation_from_address,
    referenced_ids,
    reply_address,
    reply_secret,
    thread_hint,
)
from switchboard.application.inbound import ThreadHint
from tests.adapters.email import mails

SECRET = "a-secret-of-at-least-16-bytes"
TOKENS = ReplyTokens("support@desk.example", SECRET)


def test_reply_address_is_a_signed_plus_address_that_verifies() -> None:
    address = reply_address("support@desk.example", 123, SECRET)
    assert address.startswith("support+c123.")
    assert address.endswith("@desk.example")
    assert len(address.split("+", 1)[1].split("@")[0]) == len("c123.") + 10
    assert conversation_from_address(address, "support@desk.example", SECRET) == 123
    # mail systems may change the case of the address
    assert conversation_from_address(address.upper(), "Support@Desk.Example", SECRET) == 123


def test_reply_address_is_deterministic_per_conversation() -> None:
    assert reply_address("support@desk.example", 7, SECRET) == reply_address("support@desk.example", 7, SECRET)
    assert reply_address("support@desk.example", 7, SECRET) != reply_address("support@desk.example", 8, SECRET)


@pytest.mark.parametrize(
    "address",
    [
        "support@desk.example",  # no token
        "support+c124." + reply_address("support@desk.example", 123, SECRET).split(".", 1)[1],  # number swapped
        reply_address("support@desk.example", 123, "another-secret-1234567"),  # signed with another key
        reply_address("sales@desk.example", 123, SECRET),  # another mailbox
        reply_address("support@other.example", 123, SECRET),  # another domain
        "support+c123.zzzzzzzzzz@desk.example",
        "not an address",
    ],
)
def test_forged_or_foreign_tokens_are_refused(address: str) -> None:
    assert conversation_from_address(address, "support@desk.example", SECRET) is None


def test_short_secrets_and_bad_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        reply_address("support@desk.example", 1, "short")
    with pytest.raises(ValueError, match="positive"):
        reply_address("support@desk.example", 0, SECRET)


def test_the_hint_lists_in_reply_to_first_then_references_newest_first() -> None:
    parsed = parse_message(
        mails.plain("hi", headers="In-Reply-To: <c@d>\nReferences: <a@d> <b@d> <c@d>\n"), limits=AttachmentLimits()
    )
    assert referenced_ids(parsed) == ["c@d", "b@d", "a@d"]
    assert thread_hint(parsed, TOKENS) == ThreadHint(("c@d", "b@d", "a@d"), None)


def test_the_hint_carries_the_verified_reply_token_beside_the_ids() -> None:
    token_address = TOKENS.address(55)
    raw = mails.plain("hi", headers="In-Reply-To: <lost@elsewhere>\n").replace(
        b"To: support@desk.example", f"To: Support <{token_address}>".encode()
    )
    parsed = parse_message(raw, limits=AttachmentLimits())
    assert thread_hint(parsed, TOKENS) == ThreadHint(("lost@elsewhere",), 55)
    assert thread_hint(parsed) == ThreadHint(("lost@elsewhere",), None)  # the channel has tokens switched off


def test_the_hint_finds_the_token_in_the_envelope_recipients() -> None:
    parsed = parse_message(mails.plain("hi"), limits=AttachmentLimits())
    assert thread_hint(parsed, TOKENS, [TOKENS.address(77)]) == ThreadHint((), 77)
    assert thread_hint(parsed, TOKENS) is None


def test_a_forged_token_names_nothing_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    forged = "support+c77." + "0" * 10 + "@desk.example"
    parsed = parse_message(mails.plain("hi"), limits=AttachmentLimits())
    assert thread_hint(parsed, TOKENS, [forged, "support+sales@desk.example"]) is None
    assert [r.getMessage() for r in caplog.records] == [
        f"email.forged_reply_token {forged} in mail from ann@example.com"
    ]


def test_channel_tokens_are_on_by_default_and_can_be_switched_off() -> None:
    secret = reply_secret("x" * 32)
    assert secret != reply_secret("y" * 32)
    on = channel_tokens({"addresses": ["support@desk.example"], "from_address": "noreply@desk.example"}, secret)
    assert on == ReplyTokens("support@desk.example", secret)
    assert channel_tokens({"addresses": ["support@desk.example"], "reply_token": False}, secret) is None
    assert channel_tokens({"addresses": ["support@desk.example"]}, None) is None
