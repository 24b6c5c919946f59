"""The heads of several conversations in one read: what the desk needs to show each one at once.

An operator holds up to dozens of conversations; fetching each one's messages, notes and card
separately costs three requests per conversation, so switching to one not yet fetched waited on the
network. One request warms them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.conversations import check_reads
from switchboard.application.errors import InvalidInput, NotFound
from switchboard.application.notes import NOTES_PER_CONVERSATION, STAFF
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.contacts import Contact
from switchboard.domain.conversation import Conversation, Message
from switchboard.domain.notes import Note

MAX_HEADS = 100
MAX_MESSAGES = 200
MAX_ID = 2**63 - 1  # the databases' 64-bit ids: a larger number is refused, not sent to a driver


@dataclass(frozen=True, slots=True)
class ConversationHead:
    conversation: Conversation
    contact: Contact | None  # None when the contact was merged away: the card follows the merge itself
    messages: list[Message]  # the newest ``limit``, newest first
    notes: list[Note]  # oldest first


def check_heads(conversation_ids: Sequence[int], limit: int) -> list[int]:
    """The ids once each, in the order asked; a bounded request."""
    if len(set(conversation_ids)) > MAX_HEADS:
        raise InvalidInput(f"at most {MAX_HEADS} conversations at once", field="ids")
    if any(not 1 <= i <= MAX_ID for i in conversation_ids):
        raise InvalidInput("conversation ids are positive 64-bit numbers", field="ids")
    if not 1 <= limit <= MAX_MESSAGES:
        raise InvalidInput(f"limit is between 1 and {MAX_MESSAGES}", field="limit")
    return list(dict.fromkeys(conversation_ids))


async def conversation_heads(
    services: Services, principal: Principal, conversation_ids: Sequence[int], limit: int
) -> list[ConversationHead]:
    """Each readable conversation's newest messages, notes and contact; the others are left out, not an error.

    A conversation closed or transferred a moment ago is simply missing: the desk asks for what it holds,
    and what it holds changes under it.
    """
    require_role(principal, *STAFF)
    wanted = check_heads(conversation_ids, limit)
    heads = []
    async with services.uow(read_only=True) as uow:
        for conversation_id in wanted:
            head = await _head(uow, principal, conversation_id, limit)
            if head is not None:
                heads.append(head)
    return heads


async def _head(uow: UnitOfWork, principal: Principal, conversation_id: int, limit: int) -> ConversationHead | None:
    conversation = await uow.conversations.get(conversation_id)
    if conversation is None:
        return None
    try:
        await check_reads(uow, principal, conversation)
    except NotFound:
        return None
    contact = await uow.contacts.get(conversation.contact_id)
    if contact is not None and contact.merged_into_id is not None:
        contact = None
    messages = await uow.messages.list(conversation_id, limit, None)
    notes = await uow.notes.list(conversation_id, NOTES_PER_CONVERSATION)
    return ConversationHead(conversation, contact, messages, notes)
