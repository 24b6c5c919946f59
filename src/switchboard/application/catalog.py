"""What admins configure: lines and the operators who staff them (channels: ``channels.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import Forbidden, InvalidInput, NotFound
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.calendar import valid_time_zone
from switchboard.domain.events import LineChanged, OperatorChanged
from switchboard.domain.line_settings import line_config
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role, User, validate_capacity
from switchboard.domain.routing.config import InvalidConfig

STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
MANAGERS = (Role.ADMIN, Role.SUPERVISOR)


def audit_args(principal: Principal) -> tuple[int | None, int | None, str | None]:
    return principal.user_id, principal.token_id, principal.request_id


# --- lines ----------------------------------------------------------------------------------


async def existing_line(uow: UnitOfWork, line_id: int, field: str = "line_id") -> Line:
    line = await uow.lines.get(line_id)
    if line is None:
        raise InvalidInput(f"line {line_id} does not exist", field=field)
    return line


async def _check_operators(uow: UnitOfWork, operator_ids: Sequence[int]) -> None:
    if len(set(operator_ids)) != len(operator_ids):
        raise InvalidInput("an operator is listed twice", field="operator_ids")
    for operator_id in operator_ids:
        user = await uow.users.get(operator_id)
        if user is None or user.role is not Role.OPERATOR:
            raise InvalidInput(f"user {operator_id} is not an operator", field="operator_ids")


def check_line(line: Line) -> None:
    if not 1 <= len(line.name.strip()) <= 200:
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    if not valid_time_zone(line.time_zone):
        raise InvalidInput(f"time zone {line.time_zone!r} is not an IANA zone", field="time_zone")
    if not 0 <= line.reopen_window_seconds <= 30 * 86_400:
        raise InvalidInput("reopen_window_seconds must be between 0 and 30 days", field="reopen_window_seconds")
    try:
        line_config(line.id, line.name, line.time_zone, line.operator_ids, line.routing)
    except InvalidConfig as error:
        field, message = error.errors[0]
        raise InvalidInput(f"{field}: {message}", field=field) from error


async def create_line(services: Services, principal: Principal, line: Line) -> Line:
    require_role(principal, Role.ADMIN)
    check_line(line)
    now = services.clock.now()
    async with services.uow() as uow:
        await _check_operators(uow, line.operator_ids)
        created = await uow.lines.add(line, now)
        await uow.lines.set_operators(created.id, line.operator_ids)
        created.operator_ids = list(line.operator_ids)
        await uow.audit.add(now, "line.create", "line", created.id, {}, *audit_args(principal))
        uow.emit(LineChanged(created.id), now)
        await uow.commit()
        return created


async def list_lines(services: Services, principal: Principal) -> list[Line]:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        return await uow.lines.list()


async def get_line(services: Services, principal: Principal, line_id: int) -> Line:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        line = await uow.lines.get(line_id)
    if line is None:
        raise NotFound(f"line {line_id} does not exist")
    return line


async def update_line(services: Services, principal: Principal, line_id: int, fields: Mapping[str, Any]) -> Line:
    """Edit a line live: the new rules apply to the next decision."""
    require_role(principal, *MANAGERS)
    now = services.clock.now()
    async with services.uow() as uow:
        line = await uow.lines.get(line_id)
        if line is None:
            raise NotFound(f"line {line_id} does not exist")
        for key, value in fields.items():
            setattr(line, key, value)
        check_line(line)
        operator_ids = fields.get("operator_ids")
        if operator_ids is not None:
            await _check_operators(uow, operator_ids)
            await uow.lines.set_operators(line_id, operator_ids)
        await uow.lines.update(line_id, {k: v for k, v in fields.items() if k != "operator_ids"})
        await uow.audit.add(now, "line.update", "line", line_id, {"fields": sorted(fields)}, *audit_args(principal))
        uow.emit(LineChanged(line_id), now)
        await uow.commit()
    services.catalog.forget()
    return line


# --- operators and other users ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewUser:
    login: str
    name: str
    role: Role
    password: str | None
    email: str | None = None
    skills: dict[str, int] = field(default_factory=dict)
    capacity: dict[str, int] | None = None
    max_total: int = 10


def check_new_user(new: NewUser) -> None:
    if not 3 <= len(new.login) <= 100 or not new.login.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("login must be 3 to 100 letters, digits, dots, dashes or underscores", field="login")
    if not 1 <= len(new.name.strip()) <= 200:
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    if new.role is Role.INTEGRATION:
        raise InvalidInput("integration is a role for API tokens, not for people", field="role")
    if new.password is not None and len(new.password) < 8:
        raise InvalidInput("password must be at least 8 characters", field="password")
    problems = validate_capacity(new.capacity or {}, new.max_total)
    if problems:
        raise InvalidInput(problems[0], field="capacity")
    if any(not 1 <= level <= 10 for level in new.skills.values()):
        raise InvalidInput("skill proficiency must be between 1 and 10", field="skills")


async def create_user(services: Services, principal: Principal | None, new: NewUser) -> User:
    """``principal`` None is the command line on the server itself, which is trusted."""
    if principal is not None:
        require_role(principal, Role.ADMIN)
    check_new_user(new)
    now = services.clock.now()
    user = User(
        0, new.login, new.name.strip(), new.role, email=new.email, skills=dict(new.skills), max_total=new.max_total
    )
    if new.capacity is not None:
        user.capacity = dict(new.capacity)
    password_hash = services.hasher.hash(new.password) if new.password else None
    async with services.uow() as uow:
        if await uow.users.get_by_login(new.login) is not None:
            raise InvalidInput(f"login {new.login!r} is taken", field="login")
        created = await uow.users.add(user, password_hash, now)
        await uow.audit.add(
            now,
            "user.create",
            "user",
            created.id,
            {"role": new.role.value},
            *(audit_args(principal) if principal else (None, None, None)),
        )
        uow.emit(OperatorChanged(created.id), now)
        await uow.commit()
        return created


async def list_users(services: Services, principal: Principal, role: Role | None) -> list[User]:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        return await uow.users.list(role)


async def get_user(services: Services, principal: Principal, user_id: int) -> User:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        user = await uow.users.get(user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


async def update_user(services: Services, principal: Principal, user_id: int, fields: Mapping[str, Any]) -> User:
    require_role(principal, *MANAGERS)
    if "role" in fields and principal.role is not Role.ADMIN:
        raise InvalidInput("only an admin changes roles", field="role")
    now = services.clock.now()
    async with services.uow() as uow:
        user = await uow.users.get(user_id)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        if principal.role is not Role.ADMIN and user.role is not Role.OPERATOR:
            raise Forbidden("a supervisor edits operators only")
        for key, value in fields.items():
            setattr(user, key, value)
        problems = validate_capacity(user.capacity, user.max_total)
        if problems:
            raise InvalidInput(problems[0], field="capacity")
        await uow.users.update(user_id, fields)
        await uow.audit.add(now, "user.update", "user", user_id, {"fields": sorted(fields)}, *audit_args(principal))
        uow.emit(OperatorChanged(user_id), now)
        await uow.commit()
        return user
