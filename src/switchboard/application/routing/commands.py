"""What operators and supervisors do to routing: presence, offers, picking and transfers.

Each command is settled in the database first, atomically and conditionally (the first accept
wins), and announced as an event; the router learns of it from that event.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.application.access import Principal, require_handles, require_role
from switchboard.application.context import Services
from switchboard.application.conversations import check_reads
from switchboard.application.errors import Forbidden, InvalidInput, NotFound, StateConflict
from switchboard.application.ports.routing import OpenOffer
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.conversation import ConversationStatus
from switchboard.domain.events import (
    ConversationAssigned,
    ConversationPicked,
    ConversationTransferred,
    OfferAccepted,
    OfferDeclined,
    OffersWithdrawn,
    OperatorStatusChanged,
)
from switchboard.domain.operators import Role
from switchboard.domain.routing.model import AVAILABLE, BUILTIN_STATUSES, OFFLINE

S = ConversationStatus


@dataclass(frozen=True, slots=True)
class Presence:
    operator_id: int
    status: str
    reason: str
    logged_in: bool


async def set_status(
    services: Services, principal: Principal, operator_id: int, status: str, reason: str = ""
) -> Presence:
    """An operator sets their own status; a supervisor may set anyone's. ``offline`` signs out of routing."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    if principal.role is Role.OPERATOR and principal.user_id != operator_id:
        raise Forbidden("operators set their own status")
    known = statuses(services)
    if status not in known:
        raise InvalidInput(f"status must be one of: {', '.join(sorted(known))}", field="status")
    if len(reason) > 200:
        raise InvalidInput("reason is longer than 200 characters", field="reason")
    now = services.clock.now()
    async with services.uow() as uow:
        user = await uow.users.get(operator_id)
        if user is None or user.role is not Role.OPERATOR or not user.active:
            raise NotFound(f"operator {operator_id} does not exist")
        routable = await uow.routing.operator(operator_id)
        was = routable is not None and routable.logged_in
        logged_in = status != OFFLINE
        await uow.routing.set_presence(operator_id, status, reason, now, logged_in)
        if status == AVAILABLE or (logged_in and not was):  # as the engine: a fresh start forgives the misses
            await uow.routing.set_missed_offers(operator_id, 0)
        if was and not logged_in:  # leaving routing: what she holds goes back to the queue with her
            await uow.routing.release_operator(operator_id, now)
        uow.emit(OperatorStatusChanged(operator_id, status, reason, logged_in, was, principal.user_id), now)
        await uow.commit()
    return Presence(operator_id, status, reason, logged_in)


async def sign_out_disconnected(services: Services, operator_id: int) -> bool:
    """The operator's desk lost its connection and did not come back: out of routing, their work requeued."""
    async with services.uow(read_only=True) as uow:
        routable = await uow.routing.operator(operator_id)
    if routable is None or not routable.logged_in:
        return False
    await set_status(services, Principal(Role.SUPERVISOR), operator_id, OFFLINE, "disconnected")
    return True


def statuses(services: Services) -> dict[str, str]:
    """Every status an operator can be in, with its effect on routing: routed, last (routed after others) or out."""
    found = {name: effect.value for name, effect in BUILTIN_STATUSES.items()}
    found.update(dict(services.custom_statuses))
    return found


async def my_offers(services: Services, principal: Principal) -> list[OpenOffer]:
    require_role(principal, Role.OPERATOR)
    async with services.uow(read_only=True) as uow:
        return await uow.routing.open_offers(operator_id=principal.user_id)


async def accept_offer(services: Services, principal: Principal, conversation_id: int) -> None:
    """Take an offered conversation; when offered to several, exactly one accept wins."""
    require_role(principal, Role.OPERATOR)
    assert principal.user_id is not None
    me, now = principal.user_id, services.clock.now()
    async with services.uow() as uow:
        if not await uow.routing.take_offer(conversation_id, me, now):
            raise StateConflict("the offer is no longer open: taken, withdrawn or expired", field="conversation_id")
        others = await uow.routing.settle_offers(conversation_id, None, "withdrawn", now)
        await uow.routing.set_missed_offers(me, 0)  # answering ends a run of misses (the engine does the same)
        uow.emit(OfferAccepted(conversation_id, me), now)
        uow.emit(ConversationAssigned(conversation_id, me, None, None), now)
        if others:
            uow.emit(OffersWithdrawn(conversation_id, tuple(others), "taken"), now)
        await uow.commit()


async def decline_offer(services: Services, principal: Principal, conversation_id: int) -> None:
    require_role(principal, Role.OPERATOR)
    assert principal.user_id is not None
    me, now = principal.user_id, services.clock.now()
    async with services.uow() as uow:
        if not await uow.routing.settle_offers(conversation_id, [me], "declined", now):
            raise StateConflict("there is no open offer of this conversation to you", field="conversation_id")
        if not await uow.routing.open_offers(conversation_id=conversation_id):
            await uow.routing.move(conversation_id, (S.OFFERED,), S.QUEUED, now)
        uow.emit(OfferDeclined(conversation_id, me), now)
        await uow.commit()


async def pick_conversation(services: Services, principal: Principal, conversation_id: int) -> None:
    """Manual mode: take a waiting conversation from the line's pool."""
    require_role(principal, Role.OPERATOR)
    assert principal.user_id is not None
    me, now = principal.user_id, services.clock.now()
    async with services.uow() as uow:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        await check_reads(uow, principal, conversation)
        line = await uow.lines.get(conversation.line_id)
        if line is None or line.routing.get("mode") != "manual":
            raise StateConflict("conversations of this line are offered, not picked", field="conversation_id")
        if not await uow.routing.move(conversation_id, (S.NEW, S.QUEUED), S.ASSIGNED, now, assignee_id=me):
            raise StateConflict("the conversation is no longer waiting", field="conversation_id")
        uow.emit(ConversationPicked(conversation_id, me), now)
        uow.emit(ConversationAssigned(conversation_id, me, None, None), now)
        await uow.commit()


async def transfer_conversation(
    services: Services,
    principal: Principal,
    conversation_id: int,
    *,
    to_operator_id: int | None,
    to_line_id: int | None,
    note: str,
) -> None:
    """Hand over to another operator (offered to them first) or another line, with a note for the next one."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    if (to_operator_id is None) == (to_line_id is None):
        raise InvalidInput("transfer to exactly one of an operator or a line", field="to_operator_id")
    if len(note) > 1000:
        raise InvalidInput("note is longer than 1000 characters", field="note")
    now = services.clock.now()
    async with services.uow() as uow:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        await check_reads(uow, principal, conversation)
        require_handles(principal, conversation)
        await _check_target(uow, to_operator_id, to_line_id)
        if not await uow.routing.move(conversation_id, (S.ASSIGNED, S.WAITING), S.QUEUED, now, line_id=to_line_id):
            raise StateConflict("only an assigned conversation can be transferred", field="conversation_id")
        uow.emit(
            ConversationTransferred(conversation_id, conversation.assignee_id, to_operator_id, to_line_id, note), now
        )
        await uow.commit()


async def _check_target(uow: UnitOfWork, to_operator_id: int | None, to_line_id: int | None) -> None:
    if to_operator_id is not None:
        user = await uow.users.get(to_operator_id)
        if user is None or user.role is not Role.OPERATOR or not user.active:
            raise InvalidInput(f"user {to_operator_id} is not an active operator", field="to_operator_id")
    if to_line_id is not None and await uow.lines.get(to_line_id) is None:
        raise InvalidInput(f"line {to_line_id} does not exist", field="to_line_id")
