"""Long texts cut into the pieces a messenger accepts, at the most readable boundary that fits.

A messenger refuses a message over its limit (Telegram 4096, VK 4096, Yandex 6000), so an
operator's long reply goes out as several messages. Each piece is cut at the last paragraph
break in its window, else the last line break, else the last space; only a single word longer
than the limit is cut inside. A paragraph or line break counts only in the second half of the
window, so a short first line does not become a message of its own.
"""

from __future__ import annotations

from collections.abc import Callable

Measure = Callable[[str], int]

_BOUNDARIES = ("\n\n", "\n")


def utf16_length(text: str) -> int:
    """Telegram counts a message's length in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, measure: Measure = len) -> list[str]:
    """The text as pieces of at most ``limit`` (by ``measure``); a text that fits is returned whole."""
    if limit < 2:
        raise ValueError("a limit below 2 cannot hold a character of every kind")
    if not text.strip():
        return []
    if measure(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text.strip()
    while measure(rest) > limit:
        cut = _cut(rest, limit, measure)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            pieces.append(head)
    if rest:
        pieces.append(rest)
    return pieces


def _cut(text: str, limit: int, measure: Measure) -> int:
    fit = _fitting(text, limit, measure)
    window = text[:fit]
    for boundary in _BOUNDARIES:
        at = window.rfind(boundary)
        if at >= fit // 2:
            return at + len(boundary)
    if fit < len(text) and text[fit].isspace():
        return fit  # the window ends where a word does
    at = max(window.rfind(space) for space in (" ", "\t", "\n"))
    if at > 0:
        return at + 1
    return fit


def _fitting(text: str, limit: int, measure: Measure) -> int:
    """The length of the longest prefix that fits (at least one character)."""
    end = min(len(text), limit)
    while end > 1 and measure(text[:end]) > limit:
        excess = measure(text[:end]) - limit
        end -= max(1, excess // 2)
    return max(end, 1)
