"""Synthetic contacts with ground truth, for tests and benchmarks of the duplicate search.

``generate(n, random.Random(seed))`` makes about ``n`` records of Russian (70%) and English (30%)
people. Some people have several records (the true duplicates); each record is rendered from the
person independently and then damaged:

* name typos (insert, delete, substitute, transpose), first and last name swapped, the name given
  as one ``full_name`` ("Иванов Иван Иванович"), written in Latin by one of four romanizations
  (ICAO 2013, Russian passport 2010, BGN/PCGN-like, informal), diminutives ("Саша");
* missing fields (birth date, phone, email, city, address, company, patronymic);
* a phone with a one-digit typo, a second or a new phone; a new email at another provider;
* a birth date with one wrong component or day and month swapped;
* addresses with the abbreviations varied (``ул.``/``улица``, ``д.``/``дом``, ``кв.``/``квартира``)
  and cities in several spellings (``г. Москва``, ``Moscow``).

Hard negatives are generated on purpose: namesakes (same name, same city, another birth date and
contacts), family members (same surname, same address, often the same home phone, another given
name and birth date), and the frequent surnames of a Zipf-like distribution.

What the generator promises: two records of one person always share at least one of phone, email
or birth date (possibly damaged). Records that share nothing but a name cannot be told apart from
namesakes, by this engine or by a person, so they are not generated as duplicates.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from switchboard.domain.matching.person import Person
from switchboard.domain.matching.vocabulary import (
    EN_CITIES,
    EN_COMPANIES,
    EN_ENDINGS,
    EN_FEMALE,
    EN_LEGAL,
    EN_MAIL,
    EN_MALE,
    EN_PREFIXES,
    EN_STREET_KINDS,
    EN_STREETS,
    EN_SURNAMES,
    RU_CITIES,
    RU_COMPANIES,
    RU_FEMALE,
    RU_FEMININE,
    RU_LEGAL,
    RU_MAIL,
    RU_MALE,
    RU_STREET_KINDS,
    RU_STREETS,
    RU_SUFFIXES_MALE,
    RU_SURNAME_ROOTS,
    RU_SYLLABLES,
)

# --- romanizations (independent of names.py on purpose: the tests check one against the other) --

_BASE = dict(zip("абвгдезиклмнопрстуфэ", "abvgdeziklmnoprstufe", strict=True))
ROMANIZATIONS: dict[str, dict[str, str]] = {
    "icao": {**_BASE, "ё": "e", "ж": "zh", "й": "i", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
             "ъ": "ie", "ы": "y", "ь": "", "ю": "iu", "я": "ia"},
    "passport2010": {**_BASE, "ё": "e", "ж": "zh", "й": "i", "х": "kh", "ц": "tc", "ч": "ch", "ш": "sh",
                     "щ": "shch", "ъ": "", "ы": "y", "ь": "", "ю": "iu", "я": "ia"},
    "bgn": {**_BASE, "ё": "yo", "ж": "zh", "й": "y", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
            "ъ": "", "ы": "y", "ь": "'", "ю": "yu", "я": "ya"},
    "informal": {**_BASE, "ё": "yo", "ж": "zh", "й": "y", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sch",
                 "ъ": "", "ы": "y", "ь": "", "ю": "ju", "я": "ya"},
}  # fmt: skip
_VOWELS = set("аеёиоуыэюяьъ")


def romanize(text: str, scheme: str) -> str:
    """``Юлия Щукина`` → ``Iuliia Shchukina`` (icao), ``Yuliya Shchukina`` (bgn), ``Julya Schukina`` …"""
    table = ROMANIZATIONS[scheme]
    informal = scheme == "informal"
    words = []
    for word in text.split(" "):
        lower = word.lower()
        out = []
        i = 0
        while i < len(lower):
            ch = lower[i]
            latin = table.get(ch, ch)
            if scheme in ("bgn", "informal") and ch == "е" and (i == 0 or lower[i - 1] in _VOWELS):
                latin = "ye"
            elif informal and lower.startswith("кс", i):
                latin, i = "x", i + 1
            elif informal and ch == "и" and lower.endswith("ий") and i == len(lower) - 2:
                latin, i = "y", i + 1
            out.append(latin)
            i += 1
        latin_word = "".join(out)
        words.append(latin_word[:1].upper() + latin_word[1:] if word[:1].isupper() else latin_word)
    return " ".join(words)


# --- the people ---------------------------------------------------------------------------------


@dataclass
class Human:
    """One real person behind one or more records."""

    number: int
    russian: bool
    female: bool
    first: str
    last: str
    middle: str | None
    birth: date | None
    phones: list[str]
    emails: list[str]
    city: str
    address: str | None
    street: tuple[str, str, int, int | None] | None  # (kind forms index, street, house, flat)
    company: str | None
    family: set[str] = field(default_factory=set)  # given names in the family (shared by relatives)


@dataclass(frozen=True)
class Generated:
    """The records, and for each record (by position) the number of the person behind it."""

    people: list[Person]
    person_of: list[int]

    def true_pairs(self) -> set[tuple[str | int, str | int]]:
        """Every pair of records of one person, as (id, id) in input order."""
        by_person: dict[int, list[str | int]] = {}
        for record, number in zip(self.people, self.person_of, strict=True):
            by_person.setdefault(number, []).append(record.id)
        return {(a, b) for ids in by_person.values() for a, b in itertools.combinations(ids, 2)}


def _zipf_weights(count: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(count)))


class _Draw:
    """Weighted draws with precomputed cumulative weights (``random.choices`` recomputes them)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # about the real shares: the most frequent given name ~10%, family name ~2%
        self.ru_male = _zipf_weights(len(RU_MALE), 0.6)
        self.ru_female = _zipf_weights(len(RU_FEMALE), 0.6)
        self.en_male = _zipf_weights(len(EN_MALE), 0.6)
        self.en_female = _zipf_weights(len(EN_FEMALE), 0.6)
        self.ru_roots = _zipf_weights(len(RU_SURNAME_ROOTS), 0.7)
        self.en_surnames = _zipf_weights(len(EN_SURNAMES), 0.7)
        self.ru_cities = _zipf_weights(len(RU_CITIES), 1.1)
        self.en_cities = _zipf_weights(len(EN_CITIES), 1.0)
        self.emails: set[str] = set()  # a mailbox belongs to one person

    def pick(self, items: Sequence[str], cumulative: list[float]) -> str:
        return self.rng.choices(items, cum_weights=cumulative)[0]

    def index(self, count: int, cumulative: list[float]) -> int:
        return self.rng.choices(range(count), cum_weights=cumulative)[0]


def _ru_surname(draw: _Draw, female: bool) -> str:
    rng = draw.rng
    if rng.random() < 0.75:
        root = draw.pick(RU_SURNAME_ROOTS, draw.ru_roots)
    else:  # the long tail: made-up roots from syllables
        root = "".join(rng.choice(RU_SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).capitalize()
    suffix = rng.choices(RU_SUFFIXES_MALE, weights=(50, 25, 15, 8, 2))[0]
    if root[-1] in "ьй" and suffix in ("ов", "ин"):
        suffix = "ев"
    if root[-1] in "аеиоуэюяё" and suffix == "ский":
        suffix = "вский"
    word = root.rstrip("ь") + (RU_FEMININE.get(suffix, suffix + "а") if female else suffix)
    return word


def _en_surname(draw: _Draw) -> str:
    rng = draw.rng
    if rng.random() < 0.7:
        return draw.pick(EN_SURNAMES, draw.en_surnames)
    return rng.choice(EN_PREFIXES) + rng.choice(EN_ENDINGS)


def _phone(rng: random.Random, russian: bool) -> str:
    if russian:
        return f"+79{rng.randrange(10**9):09d}"
    if rng.random() < 0.5:
        return f"+1{rng.randrange(201, 990)}{rng.randrange(200, 1000)}{rng.randrange(10**4):04d}"
    return f"+447{rng.randrange(10**9):09d}"


def _email(draw: _Draw, human: Human) -> str:
    rng = draw.rng
    email = _email_address(rng, human)
    while email in draw.emails:
        local, _, domain = email.partition("@")
        email = f"{local}{rng.randrange(10)}@{domain}"
    draw.emails.add(email)
    return email


def _email_address(rng: random.Random, human: Human) -> str:
    first = romanize(human.first, "bgn").lower().replace("'", "") if human.russian else human.first.lower()
    last = romanize(human.last, "bgn").lower().replace("'", "") if human.russian else human.last.lower()
    style = rng.randrange(5)
    if style == 0:
        local = f"{first}.{last}"
    elif style == 1:
        local = f"{first[0]}{last}{rng.randrange(100)}"
    elif style == 2:
        local = f"{last}{rng.randrange(1960, 2010)}"
    elif style == 3:
        local = f"{first}_{last[:3]}{rng.randrange(1000)}"
    else:
        local = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randrange(6, 12)))
    return f"{local}@{rng.choice(RU_MAIL if human.russian else EN_MAIL)}"


def _birth(rng: random.Random) -> date:
    return date(1945, 1, 1) + timedelta(days=rng.randrange(365 * 62))


def _new_human(draw: _Draw, number: int) -> Human:
    rng = draw.rng
    russian = rng.random() < 0.7
    female = rng.random() < 0.5
    if russian:
        first = draw.pick(RU_FEMALE, draw.ru_female) if female else draw.pick(RU_MALE, draw.ru_male)
        last = _ru_surname(draw, female)
        father = draw.pick(RU_MALE, draw.ru_male)
        middle = _patronymic(father, female)
        city_index = draw.index(len(RU_CITIES), draw.ru_cities)
    else:
        first = draw.pick(EN_FEMALE, draw.en_female) if female else draw.pick(EN_MALE, draw.en_male)
        last = _en_surname(draw)
        middle = None
        city_index = draw.index(len(EN_CITIES), draw.en_cities)
    human = Human(
        number=number,
        russian=russian,
        female=female,
        first=first,
        last=last,
        middle=middle,
        birth=_birth(rng) if rng.random() < 0.8 else None,
        phones=[_phone(rng, russian)],
        emails=[],
        city=(RU_CITIES if russian else EN_CITIES)[city_index][0],
        address=None,
        street=None,
        company=None,
    )
    if rng.random() < 0.15:
        human.phones.append(_phone(rng, russian))
    human.emails.append(_email(draw, human))
    human.family.add(first)
    if rng.random() < 0.6:
        streets = RU_STREETS if russian else EN_STREETS
        flat = rng.randrange(1, 300) if rng.random() < 0.7 else None
        human.street = (str(rng.randrange(3)), rng.choice(streets), rng.randrange(1, 150), flat)
    if rng.random() < 0.3:
        human.company = rng.choice(RU_COMPANIES if russian else EN_COMPANIES)
    return human


def _patronymic(father: str, female: bool) -> str:
    base = father.replace("ё", "е")
    if base.endswith(("й", "ь")):
        stem, male, fem = base[:-1], "евич", "евна"
    elif base.endswith("а"):
        stem, male, fem = base[:-1], "ич", "ична"
    else:
        stem, male, fem = base, "ович", "овна"
    return stem + (fem if female else male)


_DIMINUTIVE_OF = {
    "Александр": "Саша", "Алексей": "Лёша", "Дмитрий": "Дима", "Михаил": "Миша", "Николай": "Коля",
    "Иван": "Ваня", "Елена": "Лена", "Наталья": "Наташа", "Мария": "Маша", "Екатерина": "Катя",
    "Татьяна": "Таня", "Ольга": "Оля", "Robert": "Bob", "William": "Bill", "Michael": "Mike", "James": "Jim",
}  # fmt: skip


def _namesake(draw: _Draw, number: int, of: Human) -> Human:
    """Another person with the same name in the same city: other birth date, other contacts."""
    human = _new_human(draw, number)
    human.russian, human.female, human.first, human.last = of.russian, of.female, of.first, of.last
    human.middle = of.middle if draw.rng.random() < 0.3 else human.middle
    human.city = of.city
    human.birth = _birth(draw.rng)
    while of.birth is not None and abs((human.birth - of.birth).days) < 40:
        human.birth = _birth(draw.rng)
    human.phones = [_phone(draw.rng, of.russian)]
    human.emails = [_email(draw, human)]
    human.family = {human.first}
    return human


def _relative(draw: _Draw, number: int, of: Human) -> Human:
    """A family member: same surname (in their gender), address, city, often the home phone."""
    rng = draw.rng
    human = _new_human(draw, number)
    human.russian = of.russian
    if of.russian:
        human.first = draw.pick(RU_FEMALE, draw.ru_female) if human.female else draw.pick(RU_MALE, draw.ru_male)
        human.last = _regender(of.last, of.female, human.female)
    else:
        human.first = draw.pick(EN_FEMALE, draw.en_female) if human.female else draw.pick(EN_MALE, draw.en_male)
        human.last = of.last
    names = (RU_FEMALE if human.female else RU_MALE) if of.russian else (EN_FEMALE if human.female else EN_MALE)
    while human.first in of.family:  # Sr. and Jr. of one name at one address: not generated
        human.first = rng.choice(names)
    human.family = of.family
    human.family.add(human.first)
    human.city, human.street = of.city, of.street
    if of.birth is not None:
        human.birth = of.birth + timedelta(days=rng.choice((-1, 1)) * rng.randrange(700, 12000))
    human.phones = [of.phones[0]] if rng.random() < 0.7 else [_phone(rng, of.russian)]
    if rng.random() < 0.5:
        human.phones.append(_phone(rng, of.russian))
    human.emails = [_email(draw, human)]
    human.middle = None if not of.russian else human.middle
    return human


def _regender(surname: str, from_female: bool, to_female: bool) -> str:
    if from_female == to_female:
        return surname
    for male, female in RU_FEMININE.items():
        if from_female and surname.endswith(female) and male != female:
            return surname[: -len(female)] + male
        if not from_female and surname.endswith(male) and male != female:
            return surname[: -len(male)] + female
    return surname


# --- rendering a record -------------------------------------------------------------------------


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    cyrillic = any("а" <= c.lower() <= "я" for c in word)
    letters = "абвгдежзиклмнопрстуфхцчшщыэюя" if cyrillic else "abcdefghijklmnopqrstuvwxyz"
    i = rng.randrange(1, len(word))  # the first letter is rarely mistyped
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + rng.choice(letters) + word[i:]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + rng.choice(letters) + word[i + 1 :]
    j = min(i, len(word) - 2)
    return word[:j] + word[j + 1] + word[j] + word[j + 2 :]


def _address(rng: random.Random, human: Human) -> str | None:
    if human.street is None:
        return None
    kind_index, street, house, flat = human.street
    kinds = RU_STREET_KINDS if human.russian else EN_STREET_KINDS
    forms = kinds[int(kind_index)][0]
    kind = rng.choice(forms)
    if human.russian:
        house_word = rng.choice(("д.", "дом", "д", ""))
        flat_word = rng.choice(("кв.", "квартира", "кв"))
        text = f"{kind} {street}, {house_word} {house}".replace("  ", " ")
        if kind in ("проспект", "переулок") and rng.random() < 0.5:
            text = f"{street} {kind}, {house_word} {house}".replace("  ", " ")
        return text + (f", {flat_word} {flat}" if flat else "")
    flat_word = rng.choice(("Apt", "Apt.", "apartment", "#"))
    return f"{house} {street} {kind}" + (f", {flat_word} {flat}" if flat else "")


def _city(rng: random.Random, human: Human) -> str:
    for name, spellings in RU_CITIES if human.russian else EN_CITIES:
        if name == human.city:
            return rng.choice(spellings) if rng.random() < 0.4 else name
    return human.city


def _render(draw: _Draw, human: Human, damaged: bool, record_id: int) -> Person:
    rng = draw.rng
    first, last, middle = human.first, human.last, human.middle
    if damaged and human.russian and first in _DIMINUTIVE_OF and rng.random() < 0.1:
        first = _DIMINUTIVE_OF[first]
    if damaged and rng.random() < 0.3:
        if rng.random() < 0.5:
            first = _typo(rng, first)
        else:
            last = _typo(rng, last)
        if rng.random() < 0.15:
            first, last = _typo(rng, first), _typo(rng, last)
    if human.russian and rng.random() < 0.2:
        scheme = rng.choice(tuple(ROMANIZATIONS))
        first, last = romanize(first, scheme), romanize(last, scheme)
        middle = romanize(middle, scheme) if middle else None
    if middle is not None and rng.random() < 0.5:
        middle = None
    if damaged and rng.random() < 0.1:
        first, last = last, first
    full_name = None
    if rng.random() < 0.15:
        parts = [last, first, middle] if rng.random() < 0.6 else [first, middle, last]
        full_name = " ".join(p for p in parts if p)
    birth = human.birth if rng.random() < 0.8 else None
    if damaged and birth is not None and rng.random() < 0.12:
        birth = _damaged_birth(rng, birth)
    phones = list(human.phones) if rng.random() < 0.9 else []
    if phones and rng.random() < 0.5:
        phones = [rng.choice(phones)]
    if damaged and phones and rng.random() < 0.08:
        i = rng.randrange(len(phones))
        phones[i] = _phone_typo(rng, phones[i])
    if damaged and rng.random() < 0.1:
        phones.append(_phone(rng, human.russian))  # a number this person has not used before
    emails = [rng.choice(human.emails)] if rng.random() < 0.75 else []
    if damaged and rng.random() < 0.15:
        emails = [_email(draw, human)]  # a new mailbox
    if not phones and not emails:
        phones = [human.phones[0]]
    return Person(
        id=record_id,
        first_name=None if full_name else first,
        last_name=None if full_name else last,
        middle_name=None if full_name else middle,
        full_name=full_name,
        birth_date=birth,
        phones=tuple(phones),
        emails=tuple(emails),
        city=_city(rng, human) if rng.random() < 0.85 else None,
        address=_address(rng, human) if rng.random() < 0.85 else None,
        company=(rng.choice(RU_LEGAL if human.russian else EN_LEGAL) + " " + human.company)
        if human.company and rng.random() < 0.7
        else None,
        external_id=f"crm-{record_id:07d}" if rng.random() < 0.3 else None,
    )


def _damaged_birth(rng: random.Random, birth: date) -> date:
    if birth.day <= 12 and birth.day != birth.month and rng.random() < 0.35:
        return birth.replace(day=birth.month, month=birth.day)
    for _ in range(10):
        part = rng.randrange(3)
        try:
            if part == 0:
                return birth.replace(day=birth.day + rng.choice((-1, 1)))
            if part == 1:
                return birth.replace(month=birth.month + rng.choice((-1, 1)))
            decade = birth.year // 10 % 10
            other = rng.choice([d for d in range(10) if d != decade and 1900 + 10 * d + birth.year % 10 < 2010])
            return birth.replace(
                year=rng.choice((birth.year + rng.choice((-1, 1)), 1900 + 10 * other + birth.year % 10))
            )
        except ValueError:
            continue
    return birth


def _phone_typo(rng: random.Random, phone: str) -> str:
    i = rng.randrange(3, len(phone))
    digit = rng.choice([d for d in "0123456789" if d != phone[i]])
    return phone[:i] + digit + phone[i + 1 :]


def _share_anchor(a: Person, b: Person) -> bool:
    if a.birth_date is not None and b.birth_date is not None:
        return True
    if set(a.emails) & set(b.emails):
        return True
    return any(x == y or (len(x) == len(y) and sum(c != d for c, d in zip(x, y, strict=True)) == 1)
               for x in a.phones for y in b.phones)  # fmt: skip


def _records(draw: _Draw, human: Human, count: int, next_id: Iterator[int]) -> list[Person]:
    records: list[Person] = []
    for copy in range(count):
        record = _render(draw, human, damaged=copy > 0, record_id=next(next_id))
        for other in records:
            if not _share_anchor(record, other):
                shared = next((p for p in other.phones if p in human.phones), None)
                if shared is not None:
                    record = replace(record, phones=(*record.phones, shared))
                elif other.emails:
                    record = replace(record, emails=(*record.emails, other.emails[0]))
                else:
                    record = replace(record, phones=(*record.phones, *other.phones[:1]))
        records.append(record)
    return records


def generate(n: int, rng: random.Random) -> Generated:
    """About ``n`` records (exactly ``n``) with the person behind each one, shuffled."""
    draw = _Draw(rng)
    humans: list[Human] = []
    people: list[Person] = []
    person_of: list[int] = []
    ids = itertools.count(1)
    while len(people) < n:
        number = len(humans)
        roll = rng.random()
        if humans and roll < 0.05:
            human = _namesake(draw, number, rng.choice(humans[-1000:]))
        elif humans and roll < 0.10:
            human = _relative(draw, number, rng.choice(humans[-1000:]))
        else:
            human = _new_human(draw, number)
        humans.append(human)
        count = rng.choices((1, 2, 3, 4), weights=(72, 20, 6, 2))[0]
        for record in _records(draw, human, min(count, n - len(people)), ids):
            people.append(record)
            person_of.append(number)
    order = list(range(len(people)))
    rng.shuffle(order)
    return Generated([people[i] for i in order], [person_of[i] for i in order])
