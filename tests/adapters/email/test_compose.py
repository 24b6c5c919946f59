"""Composing replies and faxes; checked by parsing the result back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.adapters.email.compose import (
    AutoSubmitted,
    OutgoingAttachment,
    OutgoingEmail,
    chain_references,
    compose,
    compose_fax,
    compose_reply,
    fax_address,
    new_message_id,
    reply_subject,
)
from switchboard.adapters.email.errors import ComposeError
from switchboard.adapters.email.model import Address, AttachmentLimits
from switchboard.adapters.email.parse import parse_message
from switchboard.adapters.email.threads import ReplyTokens, thread_hint
from tests.adapters.email import mails

WHEN = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
SUPPORT = Address("Служба поддержки", "support@desk.example")
TOKENS = ReplyTokens("support@desk.example", "a-secret-of-at-least-16-bytes")


def test_reply_is_threaded_signed_and_has_plain_html_and_attachment() -> None:
    # Given a customer's message that itself answered an earlier one
    parent = parse_message(
        mails.plain("Where is it?", headers="References: <out-1@desk.example>\n"), limits=AttachmentLimits()
    )
    # When an operator answers with text, HTML and a PDF
    msg = compose_reply(
        parent,
        sender=SUPPORT,
        text="Your parcel ships today.",
        html="<p>Your parcel ships <b>today</b>.</p>",
        reply_to=TOKENS.address(12),
        attachments=[OutgoingAttachment("label.pdf", "application/pdf", b"%PDF-1.4 label")],
        message_id="out-2@desk.example",
        date=WHEN,
    )
    # Then the headers chain the thread and carry the token
    assert msg["Subject"] == "Re: Order 7"
    assert msg["To"] == "Ann <ann@example.com>"
    assert msg["Message-ID"] == "<out-2@desk.example>"
    assert msg["In-Reply-To"] == "<reply-1@example.com>"
    assert msg["References"] == "<out-1@desk.example> <reply-1@example.com>"
    assert msg["Reply-To"] == TOKENS.address(12)
    assert msg["Date"] == "Mon, 04 Mar 2024 12:00:00 +0000"
    assert msg["Auto-Submitted"] is None
    # And, parsed back, it is what the operator wrote
    back = parse_message(msg.as_bytes(), limits=AttachmentLimits())
    assert back.from_ == SUPPORT
    assert back.text == "Your parcel ships today."
    assert back.html == "<p>Your parcel ships <b>today</b>.</p>"
    assert [(a.name, a.content_type, a.data) for a in back.attachments] == [
        ("label.pdf", "application/pdf", b"%PDF-1.4 label")
    ]
    # And the customer's next reply to it threads back by the token even without threading headers
    hint = thread_hint(back, TOKENS, [str(msg["Reply-To"])])
    assert hint is not None and hint.conversation_id == 12


def test_automatic_messages_say_so() -> None:
    msg = compose(
        OutgoingEmail(
            sender=SUPPORT,
            to=(Address("", "ann@example.com"),),
            subject="We got your message",
            text="We will answer within a day.",
            automatic=AutoSubmitted.AUTO_REPLIED,
            message_id="ack-1@desk.example",
            date=WHEN,
        )
    )
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert parse_message(msg.as_bytes(), limits=AttachmentLimits()).automatic_reason == "Auto-Submitted: auto-replied"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("Order 7", "Re: Order 7"), ("RE: Re: Order 7", "Re: Order 7"), ("Ответ: На: Заказ", "Re: Заказ"), ("", "Re:")],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_message_id_is_under_our_domain_and_long_reference_chains_are_cut() -> None:
    assert new_message_id("Desk.Example", "abc") == "abc@desk.example"
    assert new_message_id("desk.example").endswith("@desk.example")
    chain = chain_references([f"m{i}@x" for i in range(30)], "last@x")
    assert len(chain) == 20
    assert chain[0] == "m0@x"
    assert chain[-2:] == ("m29@x", "last@x")


def test_generated_message_id_uses_the_sender_domain() -> None:
    msg = compose(OutgoingEmail(sender=SUPPORT, to=(Address("", "a@b.example"),), subject="s", text="t", date=WHEN))
    assert str(msg["Message-ID"]).endswith("@desk.example>")


def test_header_injection_and_bad_addresses_are_refused() -> None:
    msg = compose(OutgoingEmail(sender=SUPPORT, to=(Address("", "a@b.example"),), subject="a\r\nBcc: x@evil", text="t"))
    assert msg["Subject"] == "a Bcc: x@evil"
    assert msg["Bcc"] is None
    with pytest.raises(ComposeError, match="is not a valid email address"):
        compose(OutgoingEmail(sender=SUPPORT, to=(Address("", "no-at-sign"),), subject="s", text="t"))
    with pytest.raises(ComposeError, match="at least one recipient"):
        compose(OutgoingEmail(sender=SUPPORT, to=(), subject="s", text="t"))


# --- fax -------------------------------------------------------------------------------------------


def test_fax_address_forms() -> None:
    assert fax_address("+74951234567", "fax.example") == "FAX=+74951234567@fax.example"
    assert fax_address("+74951234567", "Fax.Example", "{digits}@{domain}") == "74951234567@fax.example"
    with pytest.raises(ComposeError, match=r"not a phone number in E\.164"):
        fax_address("84951234567", "fax.example")
    with pytest.raises(ComposeError, match="does not give an address"):
        fax_address("+74951234567", "fax.example", "FAX={number}")


def test_fax_goes_to_the_gateway_with_the_pdf() -> None:
    msg = compose_fax(
        sender=SUPPORT, number_e164="+74951234567", gateway_domain="fax.example", pdf=mails.PDF_BYTES, date=WHEN
    )
    assert msg["To"] == "FAX=+74951234567@fax.example"
    assert msg["Subject"] == "Fax to +74951234567"
    back = parse_message(msg.as_bytes(), limits=AttachmentLimits())
    assert [(a.name, a.content_type, a.data) for a in back.attachments] == [
        ("fax.pdf", "application/pdf", mails.PDF_BYTES)
    ]


def test_fax_needs_a_pdf() -> None:
    with pytest.raises(ComposeError, match="must be a PDF"):
        compose_fax(sender=SUPPORT, number_e164="+74951234567", gateway_domain="fax.example", pdf=b"GIF89a")
