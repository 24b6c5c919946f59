"""Who is asking, and the rules of what each role may do."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.application.errors import Forbidden
from switchboard.domain.conversation import Conversation
from switchboard.domain.operators import Role

SUPERVISING = frozenset({Role.ADMIN, Role.SUPERVISOR})


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    user_id: int | None = None
    token_id: int | None = None
    request_id: str | None = None

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISING


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise Forbidden(f"the {principal.role.value} role may not do this")


def require_handles(principal: Principal, conversation: Conversation) -> None:
    """An operator works only on conversations assigned to them; supervisors on any."""
    if principal.supervises:
        return
    if principal.role is Role.OPERATOR and conversation.assignee_id == principal.user_id:
        return
    raise Forbidden("this conversation is not assigned to you")
