"""Names: folding, Cyrillic → Latin transliteration, spelling-insensitive keys, similarity.

One person's name reaches the desk as ``Юлия Щукина`` from a web form, ``Yuliya Shchukina`` from a
passport scan and ``Julia Schukina`` from an English-speaking operator. ``name_key`` maps all of
them to one Latin key (``iulia``, ``schukina``): Cyrillic goes through one fixed table, then the
Latin text goes through rewrite rules that merge the alternative spellings of the common
romanization systems (ICAO 9303, the 2010 Russian passport rules, BGN/PCGN, informal English):

* ``ye``/``je`` at the start of a word → ``e`` (Yelena, Elena); ``ie`` after a vowel → ``e``
  (Sergeyev, Sergeev);
* ``shch``/``shh``/``sch`` → ``sch``; ``tch`` → ``ch``; ``kh`` → ``h``; ``tc``/``tz`` → ``ts``;
* ``x`` → ``ks``; ``c`` not before ``h`` → ``k``; ``q`` → ``k``; ``ph`` → ``f``; ``w`` → ``v``;
* ``j``/``y`` → ``i``; doubled letters collapse (``iuliia`` → ``iulia``, ``Anna`` → ``ana``).

The key is for matching only, never for display. Typos are left to the similarity function.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

# --- folding ------------------------------------------------------------------------------------

_APOSTROPHES: Final = "'’ʼʹ`´\""
_DROP = str.maketrans("", "", _APOSTROPHES)
_NON_LETTERS = re.compile(r"[^\w]+|[\d_]+")


def fold(text: str) -> str:
    """Lower case, ``ё`` → ``е``, Latin diacritics dropped, apostrophes removed, every other
    non-letter run turned into one space."""
    lowered = text.casefold().replace("ё", "е").translate(_DROP)
    if not lowered.isascii():
        # NFKD splits "é" into "e" + accent; Cyrillic "й" would split too, so keep it whole.
        lowered = "".join(
            ch if ch in "йЙ" else "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            for ch in lowered
        )
    return " ".join(_NON_LETTERS.sub(" ", lowered).split())


# --- transliteration ----------------------------------------------------------------------------

CYRILLIC_TO_LATIN: Final[dict[str, str]] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Ukrainian and Belarusian letters that appear in Russian-language contact lists
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
}  # fmt: skip
_TO_LATIN = str.maketrans(CYRILLIC_TO_LATIN)


def transliterate(text: str) -> str:
    """Folded text with Cyrillic letters romanized by one fixed, BGN-like table
    (``Юлия Щукина`` → ``yuliya shchukina``). Latin text passes through unchanged (folded)."""
    return fold(text).translate(_TO_LATIN)


_REWRITES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\b[yj]e", "e"),
        (r"(?:\b|(?<=[bdfklmnprstvz]))yo", "e"),
        (r"sh[c]?h", "sch"),
        (r"tch", "ch"),
        (r"kh", "h"),
        (r"t[cz](?!h)", "ts"),
        (r"x", "ks"),
        (r"c(?!h)", "k"),
        (r"q", "k"),
        (r"ph", "f"),
        (r"w", "v"),
        (r"[jy]", "i"),
        (r"(?<=[aeiou])ie", "e"),
        (r"([a-z])\1+", r"\1"),
    )
)


def latin_key(folded_latin: str) -> str:
    """Merge the alternative romanizations of one Latin spelling (see the module doc)."""
    text = folded_latin
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return text


_KEY_CACHE: dict[str, str] = {}
_KEY_CACHE_LIMIT: Final = 200_000


def name_key(text: str | None) -> str:
    """The spelling-insensitive Latin key of a name (or of several words, space separated)."""
    if not text:
        return ""
    cached = _KEY_CACHE.get(text)
    if cached is not None:
        return cached
    key = latin_key(transliterate(text))
    if len(_KEY_CACHE) < _KEY_CACHE_LIMIT:  # names repeat a lot; a pure memo of a pure function
        _KEY_CACHE[text] = key
    return key


# --- diminutives --------------------------------------------------------------------------------

_DIMINUTIVES: Final[dict[str, tuple[str, ...]]] = {
    "Александр": ("Саша", "Шура", "Саня"), "Александра": ("Саша", "Шура"), "Алексей": ("Лёша", "Алёша"),
    "Анастасия": ("Настя",), "Анатолий": ("Толя",), "Борис": ("Боря",), "Владимир": ("Вова", "Володя"),
    "Галина": ("Галя",), "Григорий": ("Гриша",), "Дмитрий": ("Дима", "Митя"), "Евгений": ("Женя",),
    "Екатерина": ("Катя",), "Елена": ("Лена",), "Иван": ("Ваня",), "Ирина": ("Ира",),
    "Константин": ("Костя",), "Любовь": ("Люба",), "Мария": ("Маша",), "Михаил": ("Миша",),
    "Надежда": ("Надя",), "Наталья": ("Наташа",), "Николай": ("Коля",), "Ольга": ("Оля",),
    "Павел": ("Паша",), "Пётр": ("Петя",), "Светлана": ("Света",), "Сергей": ("Серёжа",),
    "Татьяна": ("Таня",), "Юлия": ("Юля",), "Юрий": ("Юра",), "Ксения": ("Ксюша",),
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"), "Michael": ("Mike",),
    "James": ("Jim", "Jimmy"), "Elizabeth": ("Liz", "Beth", "Betty"), "Katherine": ("Kate", "Kathy"),
    "Richard": ("Rick", "Dick"), "Thomas": ("Tom",), "Jennifer": ("Jen", "Jenny"), "Daniel": ("Dan", "Danny"),
    "Margaret": ("Maggie", "Peggy"), "Christopher": ("Chris",), "Anthony": ("Tony",), "Joseph": ("Joe",),
}  # fmt: skip

_FULL_FORMS: dict[str, set[str]] = {}
for _full, _shorts in _DIMINUTIVES.items():
    for _short in _shorts:
        _FULL_FORMS.setdefault(name_key(_short), set()).add(name_key(_full))


def full_forms(key: str) -> frozenset[str]:
    """The given name key and the full forms it is a diminutive of (``sasha`` → aleksandr, aleksandra)."""
    return frozenset({key, *_FULL_FORMS.get(key, ())})


# --- parts of a name ----------------------------------------------------------------------------

_GIVEN_NAMES_TEXT: Final = """
Александр Алексей Анатолий Андрей Антон Аркадий Арсений Артём Артур Богдан Борис Вадим Валентин Валерий
Василий Виктор Виталий Владимир Владислав Всеволод Вячеслав Геннадий Георгий Глеб Григорий Давид Даниил
Денис Дмитрий Евгений Егор Захар Иван Игорь Илья Иосиф Кирилл Константин Лев Леонид Макар Максим Марк
Матвей Михаил Никита Николай Олег Павел Пётр Платон Роман Руслан Семён Сергей Станислав Степан Тимофей
Тимур Фёдор Филипп Эдуард Юрий Яков Ярослав Алёна Алина Алиса Алла Анастасия Ангелина Анна Антонина
Валентина Валерия Варвара Василиса Вера Вероника Виктория Галина Дарья Диана Ева Евгения Екатерина Елена
Елизавета Жанна Зинаида Зоя Инна Ирина Карина Кира Кристина Ксения Лариса Лидия Любовь Людмила Маргарита
Марина Мария Милана Надежда Наталья Нина Оксана Ольга Полина Раиса Светлана София Софья Таисия Тамара
Татьяна Ульяна Фаина Эльвира Юлия Яна
James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony
Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason Jeffrey Ryan
Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander
Frank Patrick Raymond Jack Dennis Jerry Tyler Aaron Henry Peter Adam Nathan Walter Harold Kyle Carl Arthur
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret Sandra
Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca Sharon Laura
Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha Katherine Christine
Debra Rachel Carolyn Janet Catherine Maria Heather Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly
Lauren Christina Joan Evelyn Judith Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara
Madison Frances Kathryn Janice Jean Abigail Alice Julia Judy Sophia Grace Denise Amber Doris Marilyn
"""
GIVEN_NAMES: Final = frozenset(
    {name_key(w) for w in _GIVEN_NAMES_TEXT.split()} | set(_FULL_FORMS) | {f for fs in _FULL_FORMS.values() for f in fs}
)


def is_given_name(key: str) -> bool:
    return key in GIVEN_NAMES


_PATRONYMIC = re.compile(r"(?:ovich|evich|ovna|evna|ichna|ilich)$")


def is_patronymic(key: str) -> bool:
    return len(key) > 5 and _PATRONYMIC.search(key) is not None


def order_parts(first: str, last: str) -> tuple[str, str]:
    """(given, family) keys: swapped when only the family name is a known given name."""
    if first and last and not is_given_name(first) and is_given_name(last):
        return last, first
    return first, last


def split_full_name(full_name: str) -> tuple[str, str, str]:
    """Keys (first, last, middle) of a name whose parts are unknown.

    A Russian patronymic is recognised by its ending and set apart; the word before it is the
    given name (``Иванов Иван Иванович``, ``Иван Иванович Иванов``). Otherwise the first and the
    last word are ordered by the given-name list, else taken as given. A wrong guess costs
    little: comparison tolerates swapped first and last names.
    """
    words = name_key(full_name).split()
    patronymics = [i for i, w in enumerate(words) if is_patronymic(w)]
    middle = " ".join(words[i] for i in patronymics)
    if patronymics and patronymics[0] > 0:
        given_at = patronymics[0] - 1
        rest = [w for i, w in enumerate(words) if i != given_at and i not in patronymics]
        return words[given_at], " ".join(rest), middle
    rest = [w for i, w in enumerate(words) if i not in patronymics]
    if not rest:
        return "", "", middle
    if len(rest) == 1:
        return rest[0], "", middle
    first, last = order_parts(rest[0], rest[-1])
    return first, last, " ".join([*rest[1:-1], *([middle] if middle else [])])


# --- similarity ---------------------------------------------------------------------------------


def name_similarity(a: str, b: str) -> float:
    """Similarity of two name keys in [0, 1]: 1 when equal, about 0.8-0.9 for one typo.

    The mean of the Damerau-Levenshtein similarity (a transposition is one edit) and Jaro-Winkler
    (kind to shared prefixes); neither alone separates ``ivanov``/``ivaonv`` from ``ivan``/``ivanov``.
    """
    if a == b:
        return 1.0 if a else 0.0
    if not a or not b:
        return 0.0
    if is_other_gender(a, b):
        return GENDER_VARIANT_SIMILARITY
    return 0.5 * (DamerauLevenshtein.normalized_similarity(a, b) + JaroWinkler.normalized_similarity(a, b))


GENDER_VARIANT_SIMILARITY: Final = 0.5


def is_other_gender(a: str, b: str) -> bool:
    """The masculine and feminine form of one name: ``ivanov``/``ivanova``, ``aleksandr``/``aleksandra``,
    ``evgeni``/``evgenia``, ``vysotski``/``vysotskaia`` — a husband and wife, not a typo."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) < 3:
        return False
    return b == a + "a" or (a.endswith("ski") and b == a[:-1] + "aia")


def given_name_similarity(a: str, b: str) -> float:
    """Like ``name_similarity``, and a diminutive matches its full form (``sasha`` ~ ``aleksandr``)."""
    similarity = name_similarity(a, b)
    if similarity < 0.9 and a and b and (a in _FULL_FORMS or b in _FULL_FORMS) and full_forms(a) & full_forms(b):
        return 0.9
    return similarity
