"""Trimming quoted history from a reply, so the timeline shows what the customer wrote this time.

Two kinds of markers:

- an attribution line ("On … wrote:", "… написал(а):", Yandex/Mail.ru "04.03.2024, 10:00, Name <a@b>:")
  followed by "> " lines: cut there, unless unquoted text follows the quote (bottom-posting or
  interleaved answers), in which case only the attribution and the "> " lines are dropped;
- an Outlook separator ("-----Original Message-----", "-----Исходное сообщение-----", or a
  "From:/Sent:" header block, often under a line of underscores): the history has no "> " prefix, so
  everything from there on is cut.

Forwarded messages are kept: what a customer forwards is the request. When trimming would leave
nothing, the whole text is returned. The original is never changed; this returns a new string.
"""

from __future__ import annotations

import re

from switchboard.adapters.email.markup import collapse_blank_lines

_ATTRIBUTION = [
    re.compile(r"^\s*On\s.{0,300}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Am\s.{0,300}\bschrieb\s.{0,200}:\s*$", re.IGNORECASE),
    re.compile(r"^.{0,300}\b(?:написал|написала|написал\(а\)|пишет)\s*:\s*$", re.IGNORECASE),
    # Gmail in Russian: "пн, 4 мар. 2024 г. в 10:00, Иван Петров <ivan@example.com>:"
    re.compile(r"^.{0,80}\d{4}\s*г\.\s*в\s*\d{1,2}:\d{2}.{0,200}:\s*$"),
    # Yandex: "04.03.2024, 10:00, "Иван Петров" <ivan@yandex.ru>:"
    re.compile(r"^\s*\d{1,2}\.\d{1,2}\.\d{2,4},?\s+\d{1,2}:\d{2}.{0,200}<[^<>\s]+@[^<>\s]+>\s*:\s*$"),
    # Mail.ru: "Понедельник, 4 марта 2024, 10:00 +03:00 от Иван <ivan@mail.ru>:"
    re.compile(r"^.{0,120}\bот\s.{0,200}<[^<>\s]+@[^<>\s]+>\s*:\s*$", re.IGNORECASE),
]
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Исходное сообщение|Original-Nachricht|Message d'origine)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|От|Von|De)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\*?(?:Sent|Date|Отправлено|Дата|Gesendet|Envoyé)\s*:", re.IGNORECASE)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _attribution_at(lines: list[str], index: int) -> bool:
    line = lines[index]
    if any(pattern.match(line) for pattern in _ATTRIBUTION):
        return True
    # Gmail wraps long attributions: "On Mon, … Ivan Petrov <" / "ivan@example.com> wrote:".
    if index + 1 < len(lines) and line.strip() and not _is_quoted(line):
        joined = f"{line.rstrip()} {lines[index + 1].strip()}"
        return any(pattern.match(joined) for pattern in _ATTRIBUTION[:1] + _ATTRIBUTION[2:])
    return False


def _outlook_cut(lines: list[str], index: int) -> int | None:
    """Where an Outlook-style history starts at this line, or None."""
    line = lines[index]
    if _SEPARATOR.match(line):
        return index
    if _HEADER_FROM.match(line) and any(_HEADER_NEXT.match(nxt) for nxt in lines[index + 1 : index + 5]):
        before = index - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        return before if before >= 0 and _UNDERSCORES.match(lines[before]) else index
    return None


def trim_quoted(text: str) -> str:
    """The text with quoted history removed (see the module docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = _trim_lines(lines)
    trimmed = collapse_blank_lines("\n".join(kept))
    return trimmed if trimmed.strip() else collapse_blank_lines(text)


def _trim_lines(lines: list[str]) -> list[str]:
    for index in range(len(lines)):
        cut = _outlook_cut(lines, index)
        if cut is not None:
            return _drop_trailing_quote(lines[:cut])
        if _attribution_at(lines, index):
            tail = lines[index + 1 :]
            if _is_continuation(lines[index]):
                tail = tail[1:]
            if any(line.strip() and not _is_quoted(line) for line in tail) and any(map(_is_quoted, tail)):
                unquoted = [line for line in tail if not _is_quoted(line)]
                return _drop_trailing_quote(lines[:index]) + _trim_lines(unquoted)
            return _drop_trailing_quote(lines[:index])
    return _drop_trailing_quote(lines)


def _is_continuation(line: str) -> bool:
    """True when the attribution matched only together with the next line (wrapped by Gmail)."""
    return not any(pattern.match(line) for pattern in _ATTRIBUTION)


def _drop_trailing_quote(lines: list[str]) -> list[str]:
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or _is_quoted(lines[end - 1])):
        end -= 1
    return lines[:end]
