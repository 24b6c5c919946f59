"""Blocking: which pairs are worth comparing at all.

Every profile gets a handful of cheap keys; two profiles are compared only when they share a key.
The keys are chosen so that a duplicate, however damaged, still shares at least one with its
original, while a key's block stays small:

========  ==============================================  ======================================
prefix    key                                             survives
========  ==============================================  ======================================
``p``     the phone                                       everything but a phone change
``q r s`` the phone with one of three segments masked     a one-digit phone typo
``e``     the email                                       a name typo, a missing birth date …
``l``     the email's local part (5+ characters)          another mail provider
``n``     both name words, sorted                         swapped names, transliteration
``f``     one name word + the other's initial + birth year  a typo in the other name word
``d``     one name word + the birth date                  a typo or a diminutive in the other
``b``     both initials, sorted + the birth date          typos in both names
========  ==============================================  ======================================

Oversized blocks (more than ``max_block`` members: the ``n`` key of Ivan Ivanov, the ``l`` key of
``info``) are not compared all-pairs: their members are sorted several times (by birth date, by
phone, by email, by address) and each is compared with its ``window`` nearest neighbours in each
order — a multi-pass sorted neighbourhood. Their cost is linear in their size.

A pair sharing several keys is compared once: in its smallest shared full (not oversized) block,
or, when it shares only oversized blocks, in the smallest of those if it falls within the window
there (the oversized blocks of one name hold about the same people, sorted the same ways).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from switchboard.domain.matching.profile import Profile

MAX_BLOCK: Final = 200
WINDOW: Final = 6


def name_words(p: Profile) -> list[str]:
    """The name words of the ``n`` key, sorted: swapped and transliterated names give one key."""
    words = [w for w in (p.first.replace(" ", ""), p.last.replace(" ", "")) if w]
    words.sort()
    return words


def blocking_keys(p: Profile) -> list[str]:
    keys = []
    for phone in p.phones:
        keys.append("p" + phone)
        if len(phone) >= 10:  # the number with one of three segments masked: one typo leaves a key intact
            head, middle, tail = phone[:-7], phone[-7:-4], phone[-4:]
            keys.append(f"q{middle}{tail}")
            keys.append(f"r{head}{middle}")
            keys.append(f"s{head}|{tail}")
    for email in p.emails:
        keys.append("e" + email)
    for local in p.email_locals:
        if len(local) >= 5:
            keys.append("l" + local)
    words = name_words(p)
    if words:
        keys.append("n" + "|".join(words))
    if p.birth is not None and words:
        born = p.birth.isoformat()
        if len(words) == 2:
            x, y = words
            year = born[:4]
            keys += (
                f"b{x[0]}{y[0]}|{born}",
                f"d{x}|{born}",
                f"d{y}|{born}",
                f"f{x}|{y[0]}|{year}",
                f"f{y}|{x[0]}|{year}",
            )
            if x == y:  # "Thomas Thomas" would make each key twice
                keys = list(dict.fromkeys(keys))
        else:
            keys += (f"b{words[0][0]}|{born}", f"d{words[0]}|{born}")
    return keys


@dataclass(frozen=True, slots=True)
class Block:
    key: str
    members: tuple[Profile, ...]
    oversized: bool


def build_blocks(
    profiles: Sequence[Profile], max_block: int = MAX_BLOCK, keys_of: Sequence[list[str]] | None = None
) -> tuple[list[Profile], list[Block]]:
    """The profiles with their keys set, and every block of two or more (in first-seen order).

    ``keys_of`` are the profiles' ``blocking_keys`` when already computed.
    """
    members: dict[str, list[int]] = {}
    if keys_of is None:
        keys_of = [blocking_keys(p) for p in profiles]
    for p, keys in zip(profiles, keys_of, strict=True):
        for key in keys:
            group = members.get(key)
            if group is None:
                members[key] = [p.position]
            else:
                group.append(p.position)
    oversized = {key for key, group in members.items() if len(group) > max_block}
    keyed = [
        p._replace(
            keys=frozenset(k for k in keys if k not in oversized and len(members[k]) > 1),
            oversized_keys=frozenset(k for k in keys if k in oversized) if oversized else frozenset(),
        )
        for p, keys in zip(profiles, keys_of, strict=True)
    ]
    blocks = [
        Block(key, tuple(keyed[i] for i in group), key in oversized) for key, group in members.items() if len(group) > 1
    ]
    return keyed, blocks


def block_pairs(block: Block, window: int = WINDOW) -> Iterator[tuple[Profile, Profile]]:
    """The pairs this block is responsible for comparing (see the module doc)."""
    members = block.members
    if not block.oversized:
        key = block.key
        for i, a in enumerate(members):
            a_keys = a.keys
            for b in members[i + 1 :]:
                shared = a_keys & b.keys
                if len(shared) == 1 or min(shared) == key:
                    yield a, b
        return
    key = block.key
    seen: set[tuple[int, int]] = set()
    for order in _ORDERS:
        ranked = sorted(members, key=order)
        for i, a in enumerate(ranked):
            for b in ranked[i + 1 : i + 1 + window]:
                pair = (a.position, b.position) if a.position < b.position else (b.position, a.position)
                if pair in seen or not a.keys.isdisjoint(b.keys):
                    continue
                shared = a.oversized_keys & b.oversized_keys
                if len(shared) == 1 or min(shared) == key:
                    seen.add(pair)
                    yield a, b


_NO_DATE: Final = date.max
_ORDERS: Final[tuple[Callable[[Profile], tuple[object, ...]], ...]] = (
    lambda p: (p.birth or _NO_DATE, p.first, p.position),
    lambda p: (p.phones[0] if p.phones else "~", p.position),
    lambda p: (p.emails[0] if p.emails else "~", p.position),
    lambda p: (p.address or "~", p.first, p.position),
)
