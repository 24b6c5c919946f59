"""Masking personal data: enough to tell two customers apart, never enough to call or write them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from switchboard.domain.identity import IdentityKind
from switchboard.domain.notes import canned_problems, note_problem
from switchboard.domain.privacy import DOT, mask_text, mask_value


def test_a_phone_keeps_country_operator_code_and_last_two_digits() -> None:
    assert mask_value(IdentityKind.PHONE, "+79161234567") == "+7916•••••67"
    assert mask_value(IdentityKind.PHONE, "+4930123") == "+493••23"


def test_an_email_keeps_the_first_letter_and_the_domain() -> None:
    assert mask_value(IdentityKind.EMAIL, "anna.petrova@mail.example") == "a•••@mail.example"


def test_messenger_ids_keep_first_and_last_characters() -> None:
    assert mask_value(IdentityKind.TELEGRAM, "700006") == "7•••06"
    assert mask_value(IdentityKind.VK, "42") == "•••"


@given(st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True))
def test_a_masked_phone_hides_at_least_a_third_of_its_digits(phone: str) -> None:
    masked = mask_value(IdentityKind.PHONE, phone)
    assert masked != phone and masked.endswith(phone[-2:]) and len(masked) == len(phone)
    assert masked.count(DOT) >= (len(phone) - 1) // 3


@given(st.from_regex(r"[a-z0-9._]{2,20}@[a-z]{2,10}\.[a-z]{2,5}", fullmatch=True))
def test_a_masked_email_shows_no_more_than_one_letter_of_the_name(email: str) -> None:
    local, domain = email.split("@")
    assert mask_value(IdentityKind.EMAIL, email) == f"{local[0]}{DOT * 3}@{domain}"


def test_notes_and_canned_responses_are_checked_field_by_field() -> None:
    assert note_problem(" \n") == "the note is empty"
    assert note_problem("x" * 10_001) == "the note is longer than 10000 characters"
    assert note_problem("Call back at 5") is None
    assert canned_problems("two words", " ", "") == [
        ("shortcut", "1 to 40 letters, digits, '-' or '_'"),
        ("title", "must be 1 to 200 characters"),
        ("body", "must be 1 to 10000 characters"),
    ]
    assert canned_problems("delivery-2", "Delivery", "Tomorrow") == []


def test_phones_and_emails_inside_a_generated_text_are_masked_the_rest_kept() -> None:
    assert mask_text("+79161234567 — Website") == "+7916•••••67 — Website"
    assert mask_text("anna@mail.example — Telegram bot 2") == "a•••@mail.example — Telegram bot 2"
    assert mask_text("Пётр Иванов — Сайт") == "Пётр Иванов — Сайт"
