"""Identity normalization: one person's phone or email is one identity, however it was typed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.domain.errors import InvalidIdentity
from switchboard.domain.identity import IdentityKind, normalize_email, normalize_identity, normalize_phone


@pytest.mark.parametrize(
    "typed",
    ["+7 916 123-45-67", "8 (916) 123 45 67", "89161234567", "9161234567", "+7(916)1234567", "  +79161234567  "],
)
def test_russian_mobile_in_any_spelling_is_one_e164(typed: str) -> None:
    assert normalize_phone(typed, "RU") == "+79161234567"


def test_default_region_decides_numbers_without_country_code() -> None:
    assert normalize_phone("(202) 555-0143", "US") == "+12025550143"
    assert normalize_phone("+1 202 555 0143", "RU") == "+12025550143"


@pytest.mark.parametrize("bad", ["", "   ", "abc", "123", "+7 916 123", "8 800 000 00 00 00 00"])
def test_invalid_phones_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidIdentity) as error:
        normalize_phone(bad, "RU")
    assert error.value.field == "phone"


def test_email_is_lowercased_and_idna_encoded() -> None:
    assert normalize_email(" Ivan.Petrov@Example.COM ") == "ivan.petrov@example.com"
    assert normalize_email("info@Пример.РФ") == "info@xn--e1afmkfd.xn--p1ai"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "no-at",
        "@example.com",
        "a@",
        "a@b",
        "a..b@example.com",
        ".a@example.com",
        "a b@example.com",
        "a@-.com",
        "a@example..com",
    ],
)
def test_invalid_emails_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIdentity) as error:
        normalize_email(bad)
    assert error.value.field == "email"


def test_messenger_ids_are_kept_as_given_but_trimmed() -> None:
    identity = normalize_identity(IdentityKind.TELEGRAM, " 123456789 ", "RU")
    assert (identity.kind, identity.value) == (IdentityKind.TELEGRAM, "123456789")
    with pytest.raises(InvalidIdentity):
        normalize_identity(IdentityKind.VK, "x" * 256, "RU")


@given(st.integers(min_value=9_000_000_000, max_value=9_999_999_999))
def test_normalizing_a_phone_twice_changes_nothing(number: int) -> None:
    try:
        once = normalize_phone(f"8{number}", "RU")
    except InvalidIdentity:
        return
    assert normalize_phone(once, "RU") == once
    assert normalize_phone(once, "US") == once


@given(st.from_regex(r"[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9-]{1,20}\.[A-Za-z]{2,6}", fullmatch=True))
def test_email_normalization_is_idempotent(address: str) -> None:
    try:
        once = normalize_email(address)
    except InvalidIdentity:
        return
    assert normalize_email(once) == once == once.lower()
