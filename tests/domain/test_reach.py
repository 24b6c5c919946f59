"""Which channels reach a contact: by an identity of the channel's kind, enabled and healthy, own channel first."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.domain.channels import Channel, ChannelHealth, ChannelKind
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.reach import reachable, reaches

NOON = datetime(2026, 1, 1, 12, tzinfo=UTC)
PHONE = Identity(IdentityKind.PHONE, "+79161234567")
EMAIL = Identity(IdentityKind.EMAIL, "ann@customer.example")


def test_a_phone_reaches_sms_and_whatsapp_an_email_the_mailbox_and_nothing_reaches_web_chat_or_calls() -> None:
    kinds = [k for k in ChannelKind if reaches(k, [PHONE])]
    assert kinds == [ChannelKind.SMS, ChannelKind.WHATSAPP]
    assert [k for k in ChannelKind if reaches(k, [EMAIL])] == [ChannelKind.EMAIL]
    visitor = Identity(IdentityKind.VISITOR, "v-1")
    assert [k for k in ChannelKind if reaches(k, [visitor, PHONE, EMAIL])] == [
        ChannelKind.EMAIL,
        ChannelKind.SMS,
        ChannelKind.WHATSAPP,
    ]


def test_the_conversations_channel_comes_first_then_the_enabled_healthy_ones_by_name() -> None:
    chat = Channel(1, ChannelKind.WEBCHAT, "Site chat", 1)
    channels = [
        chat,
        Channel(2, ChannelKind.WHATSAPP, "WhatsApp", 1),
        Channel(3, ChannelKind.EMAIL, "Billing mailbox", 1),
        Channel(4, ChannelKind.SMS, "Old SMS", 1, active=False),
        Channel(5, ChannelKind.SMS, "SMS", 1, health=ChannelHealth(last_error_at=NOON, last_error="401")),
        Channel(6, ChannelKind.TELEGRAM, "Bot", 1),  # no Telegram id known
        Channel(7, ChannelKind.WEBCHAT, "Other chat", 1),
    ]
    found = reachable(chat, channels, [PHONE, EMAIL])
    assert [c.id for c in found] == [1, 3, 2]
