"""Cities, addresses and companies: keys that ignore the usual ways of writing the same thing.

``г. Москва``, ``Moscow`` and ``Moskva`` are one city; ``ул. Ленина, д. 5, кв. 12`` and
``улица Ленина дом 5 квартира 12`` one address; ``ООО «Ромашка»`` and ``Romashka LLC`` one company.
"""

from __future__ import annotations

import re
from typing import Final

from rapidfuzz import fuzz

from switchboard.domain.matching.names import latin_key, name_key

_WORDS = re.compile(r"[^\w]+|_+")

# --- cities -------------------------------------------------------------------------------------

_CITY_PREFIXES: Final = frozenset({"g", "gorod", "city", "pgt", "s", "selo", "pos", "poselok", "d", "derevnia"})
_CITY_ALIASES: Final[dict[str, str]] = {
    alias: canonical
    for canonical, aliases in {
        "moskva": ("moskov", "msk", "moscow"),
        "sankt peterburg": ("saint petersburg", "st petersburg", "sankt peterburg", "spb", "piter", "petersburg"),
        "nizhni novgorod": ("nizhnii novgorod", "nizhny novgorod", "n novgorod"),
        "ekaterinburg": ("iekaterinburg", "ekb"),
        "new york": ("nyc", "new york city"),
        "los angeles": ("la",),
        "san francisco": ("sf",),
    }.items()
    for alias in (latin_key(a) for a in aliases)
}


def city_key(city: str | None) -> str:
    """``г. Москва`` / ``Moscow`` / ``Moskva`` → ``moskva``."""
    words = name_key(city).split()
    while len(words) > 1 and words[0] in _CITY_PREFIXES:
        words = words[1:]
    key = " ".join(words)
    return _CITY_ALIASES.get(key, key)


def city_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return fuzz.ratio(a, b) / 100.0


# --- addresses ----------------------------------------------------------------------------------

_ADDRESS_WORDS: Final[dict[str, str]] = {
    word: canonical
    for canonical, words in {
        "ul": ("ул", "улица", "ul", "ulitsa", "ulica", "street", "st"),
        "pr": ("пр", "пр-т", "просп", "проспект", "prospekt", "pr-t", "prosp", "avenue", "ave", "av"),
        "per": ("пер", "переулок", "pereulok", "lane", "ln"),
        "sh": ("ш", "шоссе", "shosse", "highway", "hwy"),
        "bul": ("б-р", "бул", "бульвар", "bulvar", "boulevard", "blvd"),
        "pl": ("пл", "площадь", "ploshchad", "square", "sq"),
        "nab": ("наб", "набережная", "naberezhnaya", "embankment"),
        "rd": ("road", "rd"),
        "dr": ("drive", "dr"),
        "kv": ("кв", "квартира", "kv", "apt", "apartment", "flat", "unit"),
        "k": ("к", "корп", "корпус", "korp", "korpus", "bldg", "building"),
        "s": ("стр", "строение", "str", "stroenie"),
        "": ("д", "дом", "dom", "house", "no", "г", "город", "g"),
    }.items()
    for word in words
}


def address_key(address: str | None) -> str:
    """Words folded, transliterated and abbreviated one way; numbers kept (``ul lenina 5 kv 12``).

    The city is not part of the address key (it is its own field); a leading ``г. Москва`` stays
    as a word and costs a little similarity, nothing more.
    """
    if not address:
        return ""
    words = _WORDS.sub(" ", address.casefold().replace("ё", "е")).split()
    out = []
    for word in words:
        canonical = _ADDRESS_WORDS.get(word)
        if canonical is None:
            out.append(word if word.isdigit() else name_key(word))
        elif canonical:
            out.append(canonical)
    return " ".join(w for w in out if w)


def address_similarity(a: str, b: str) -> float:
    """Token-set similarity that insists on the house numbers: different numbers cap it at 0.5."""
    if a == b:
        return 1.0
    numbers_a = [w for w in a.split() if w.isdigit()]
    numbers_b = [w for w in b.split() if w.isdigit()]
    similarity = fuzz.token_sort_ratio(a, b) / 100.0
    if numbers_a and numbers_b and numbers_a != numbers_b:
        return min(similarity, 0.5)
    return similarity


# --- companies ----------------------------------------------------------------------------------

_LEGAL_FORMS: Final = frozenset(
    latin_key(name_key(w))
    for w in (
        "ооо", "оао", "зао", "пао", "ао", "ип", "нко", "гк", "llc", "inc", "ltd", "limited", "corp",
        "corporation", "co", "company", "gmbh", "plc", "group", "ooo", "oao", "zao", "pao",
    )
)  # fmt: skip


def company_key(company: str | None) -> str:
    """``ООО «Ромашка»`` / ``Romashka LLC`` → ``romashka``."""
    words = [w for w in name_key(company).split() if w not in _LEGAL_FORMS]
    return " ".join(words)


def company_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return fuzz.token_set_ratio(a, b) / 100.0
