"""The screen pop: what an operator's window shows the moment their phone rings.

The card is built when the desk asks for it (the websocket does so on ``CallRinging``), so no
personal data passes through the event outbox. A number nobody knew before this call is an
"unknown caller", offered to be filled in as a contact or made a lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import NotFound
from switchboard.application.ports.storage import ConversationQuery
from switchboard.domain.contacts import Contact
from switchboard.domain.conversation import Conversation
from switchboard.domain.leads import Lead, LeadStatus
from switchboard.domain.operators import Role
from switchboard.domain.voice.call import Call

OPEN_LEADS = (LeadStatus.NEW, LeadStatus.IN_PROGRESS)
HISTORY = 5


@dataclass(frozen=True, slots=True)
class ScreenPop:
    call: Call
    known: bool  # the caller was a contact before this call (created earlier, or with other history)
    number: str
    contact: Contact | None
    conversations: list[Conversation] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    actions: tuple[str, ...] = ()


async def screen_pop(services: Services, principal: Principal, call_id: int) -> ScreenPop:
    """The caller's card for the operator the call rings at (supervisors see any)."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    async with services.uow(read_only=True) as uow:
        call = await uow.calls.get(call_id)
        if call is None or (principal.role is Role.OPERATOR and call.operator_id != principal.user_id):
            raise NotFound(f"call {call_id} does not exist")
        contact = await uow.contacts.get(call.contact_id) if call.contact_id is not None else None
        if contact is None:
            return ScreenPop(call, False, _number(call), None, actions=("create_contact", "create_lead"))
        history = await uow.conversations.list(ConversationQuery(contact_id=contact.id), HISTORY + 1, None)
        leads = await uow.leads.list(contact.id, None, 50, 0)
    earlier = [c for c in history if c.id != call.conversation_id][:HISTORY]
    known = _known_before(call, contact, earlier, leads)
    return ScreenPop(
        call,
        known,
        _number(call),
        contact,
        earlier,
        [lead for lead in leads if lead.status in OPEN_LEADS],
        () if known else ("create_contact", "create_lead"),
    )


def _known_before(call: Call, contact: Contact, history: list[Conversation], leads: list[Lead]) -> bool:
    """Known *before this call*: what this call made (the contact, its lead) or what came meanwhile (a chat
    from the same number while the caller waits) does not count, however late the card is read."""
    before = call.started_at  # a contact this call made has exactly this time; others' records may share it
    return (
        contact.created_at < before
        or any(c.opened_at <= before for c in history)
        or any(lead.created_at <= before and lead.conversation_id != call.conversation_id for lead in leads)
    )


def _number(call: Call) -> str:
    return call.ani if call.direction.value == "in" else call.dnis
