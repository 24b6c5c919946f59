"""What the desk keeps beside a conversation: internal notes colleagues read, canned responses they send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MAX_NOTE = 10_000
MAX_CANNED = 10_000


@dataclass(frozen=True, slots=True)
class Note:
    """Written by one operator for the others; never sent to the customer."""

    id: int
    conversation_id: int
    author_id: int | None
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CannedResponse:
    """A ready answer; operators insert it by its shortcut (``/delivery``) and edit before sending."""

    id: int
    shortcut: str
    title: str
    body: str
    created_at: datetime


def note_problem(body: str) -> str | None:
    if not body.strip():
        return "the note is empty"
    if len(body) > MAX_NOTE:
        return f"the note is longer than {MAX_NOTE} characters"
    return None


def canned_problems(shortcut: str, title: str, body: str) -> list[tuple[str, str]]:
    """Every (field, message) wrong with a canned response; empty when it is sound."""
    problems = []
    if not (1 <= len(shortcut) <= 40 and shortcut.replace("-", "").replace("_", "").isalnum()):
        problems.append(("shortcut", "1 to 40 letters, digits, '-' or '_'"))
    if not 1 <= len(title.strip()) <= 200:
        problems.append(("title", "must be 1 to 200 characters"))
    if not body.strip() or len(body) > MAX_CANNED:
        problems.append(("body", f"must be 1 to {MAX_CANNED} characters"))
    return problems
