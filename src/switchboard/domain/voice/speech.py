"""What the caller hears that Switchboard writes itself: queue announcements and self-service status."""

from __future__ import annotations

from dataclasses import dataclass

_TEXTS = {
    "ru": {
        "position": "Ваш номер в очереди: {position}.",
        "wait": " Примерное время ожидания: {minutes} мин.",
        "none": "У вас нет открытых обращений.",
        "open": "Ваше обращение номер {id}: {state}.",
        "queued": "ожидает оператора",
        "assigned": "в работе у оператора",
        "waiting": "ожидает вашего ответа",
        "callback": "Мы перезвоним вам в ближайшее время.",
        "busy": "Все операторы заняты. Мы перезвоним вам.",
        "closed": "Сейчас мы не можем ответить. Позвоните позже.",
    },
    "en": {
        "position": "You are number {position} in the queue.",
        "wait": " The estimated wait is {minutes} minutes.",
        "none": "You have no open requests.",
        "open": "Your request number {id} is {state}.",
        "queued": "waiting for an operator",
        "assigned": "being handled by an operator",
        "waiting": "waiting for your answer",
        "callback": "We will call you back shortly.",
        "busy": "All our operators are busy. We will call you back.",
        "closed": "We cannot answer now. Please call again later.",
    },
}


def _texts(language: str) -> dict[str, str]:
    return _TEXTS.get(language) or _TEXTS.get(language.split("-")[0]) or _TEXTS["en"]


def announcement(position: int, estimated_wait_s: float | None, language: str) -> str:
    """ "You are number 3 in the queue. The estimated wait is 5 minutes." (the wait only when known)."""
    texts = _texts(language)
    text = texts["position"].format(position=position)
    if estimated_wait_s is not None:
        text += texts["wait"].format(minutes=max(1, round(estimated_wait_s / 60)))
    return text


@dataclass(frozen=True, slots=True)
class OpenItem:
    id: int
    status: str  # a conversation status


def status_text(items: list[OpenItem], language: str) -> str:
    """The caller's open conversations, newest first, in a sentence each (at most three)."""
    texts = _texts(language)
    if not items:
        return texts["none"]
    states = {"new": "queued", "queued": "queued", "offered": "queued", "assigned": "assigned", "waiting": "waiting"}
    return " ".join(texts["open"].format(id=i.id, state=texts[states.get(i.status, "queued")]) for i in items[:3])


def phrase(key: str, language: str) -> str:
    """A fixed phrase: callback, busy, closed."""
    return _texts(language)[key]
