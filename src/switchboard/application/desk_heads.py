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
    async with services.uow(read_only=True) as uow:
        found = {c.id: c for c in await uow.conversations.get_many(wanted)}
        readable = [found[i] for i in wanted if i in found and await _reads(uow, principal, found[i])]
        ids = [c.id for c in readable]
        contacts = {c.id: c for c in await uow.contacts.get_many(sorted({c.contact_id for c in readable}))}
        messages = await uow.messages.newest(ids, limit)
        notes = await uow.notes.list_many(ids, NOTES_PER_CONVERSATION)
    return [ConversationHead(c, _live(contacts.get(c.contact_id)), messages[c.id], notes[c.id]) for c in readable]


async def _reads(uow: UnitOfWork, principal: Principal, conversation: Conversation) -> bool:
    try:
        await check_reads(uow, principal, conversation)
    except NotFound:
        return False
    return True


def _live(contact: Contact | None) -> Contact | None:
    return contact if contact is not None and contact.merged_into_id is None else None
