"""A reply that names its conversation (email threading) continues that conversation, whoever sends it.

The customer's colleague answering the thread, or the customer writing from another address, lands
in the conversation the mail answers (authored by the sender's own contact), and a reply to a
closed conversation reopens it within the line's reopen window. Only when the hint names nothing
usable does intake fall back to the sender's own conversation on the channel. Shared by the
one-message path (``intake``) and the group commit (``intake_batch``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from switchboard.application.inbound import ThreadHint
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.channels import Channel
from switchboard.domain.conversation import Conversation, ConversationStatus

MAX_REFERENCES = 20  # a References chain is capped like the ones we write; older ids add nothing


class Continuation(StrEnum):
    CONTINUE = "continue"
    REOPEN = "reopen"


def continuation(conversation: Conversation, now: datetime, reopen_window_seconds: int) -> Continuation | None:
    """How a new message joins ``conversation``: as is when open, reopening it within the window, else not."""
    if conversation.status is not ConversationStatus.CLOSED:
        return Continuation.CONTINUE
    window = timedelta(seconds=reopen_window_seconds)
    if conversation.closed_at is not None and now - conversation.closed_at < window:
        return Continuation.REOPEN
    return None


def hinted_ids(hint: ThreadHint | None) -> tuple[str, ...]:
    return hint.external_ids[:MAX_REFERENCES] if hint else ()


async def threaded_conversation(uow: UnitOfWork, channel: Channel, hint: ThreadHint | None) -> Conversation | None:
    """The conversation of this channel the hint names: by the ids it answers in order, then by its token."""
    if hint is None:
        return None
    for external_id in hinted_ids(hint):
        answered = await uow.messages.find_by_external_id(channel.id, external_id)
        if answered is not None:
            return await uow.conversations.get(answered.conversation_id, for_update=True)
    if hint.conversation_id is not None:
        named = await uow.conversations.get(hint.conversation_id, for_update=True)
        if named is not None and named.channel_id == channel.id:
            return named
    return None
