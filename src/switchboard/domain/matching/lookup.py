"""What to look up in the stored contacts to find one contact's candidates without a whole-base search.

The blocking of ``find_duplicates`` needs every record in memory. A contact card needs the few
records that may be the same person, found through indexes: the ``n`` name key (stored with each
contact), the birth date, and the phones one digit away from the contact's own (looked up among the
identities). The candidates found are then scored by ``compare`` like any pair.
"""

from __future__ import annotations

from switchboard.domain.matching.blocking import name_words
from switchboard.domain.matching.person import Person
from switchboard.domain.matching.profile import profile_of

DIGITS = "0123456789"


def name_block(person: Person) -> str:
    """The ``n`` blocking key of a person without its prefix ("" when the name has no letters)."""
    return "|".join(name_words(profile_of(person, 0)))


def phone_neighbours(phone: str) -> list[str]:
    """E.164 numbers one digit away from ``phone`` (the country code kept): a mistyped digit's other spellings."""
    if not phone.startswith("+") or not phone[1:].isdigit():
        return []
    digits = phone[1:]
    start = 1 if len(digits) > 1 else 0  # a changed first digit is another country, not a typo
    neighbours = []
    for index in range(start, len(digits)):
        for digit in DIGITS:
            if digit != digits[index]:
                neighbours.append("+" + digits[:index] + digit + digits[index + 1 :])
    return neighbours
