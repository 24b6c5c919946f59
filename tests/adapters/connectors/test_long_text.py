"""Splitting long replies for messengers: pieces fit, nothing is lost, boundaries are readable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.adapters.connectors.long_text import split_text, utf16_length

WORDS = st.text(alphabet=st.sampled_from("абвгдxyz😀🇷🇺é"), min_size=1, max_size=30)
GAPS = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \n"])
TEXTS = st.lists(st.tuples(WORDS, GAPS), max_size=200).map(lambda pairs: "".join(w + g for w, g in pairs))


@given(TEXTS, st.integers(min_value=2, max_value=120))
def test_every_piece_fits_and_no_character_but_whitespace_is_lost(text: str, limit: int) -> None:
    pieces = split_text(text, limit, utf16_length)
    assert all(0 < utf16_length(piece) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


@given(TEXTS, st.integers(min_value=60, max_value=200))  # a word is at most 30 characters of 2 units
def test_words_shorter_than_the_limit_are_never_cut(text: str, limit: int) -> None:
    pieces = split_text(text, limit, utf16_length)
    assert [word for piece in pieces for word in piece.split()] == text.split()


def test_a_text_that_fits_is_kept_whole() -> None:
    assert split_text("  hello\n\n world  ", 100) == ["  hello\n\n world  "]
    assert split_text(" \n\t ", 10) == []


def test_paragraphs_win_over_lines_and_lines_over_words() -> None:
    text = "first paragraph line one\nline two\n\nsecond paragraph"
    assert split_text(text, 45) == ["first paragraph line one\nline two", "second paragraph"]
    assert split_text("one two three\nfour five six", 20) == ["one two three", "four five six"]
    assert split_text("one two three four five", 10) == ["one two", "three four", "five"]


def test_a_short_first_line_does_not_become_a_message_of_its_own() -> None:
    text = "Hi!\n\n" + "word " * 30
    pieces = split_text(text, 60)
    assert pieces[0].startswith("Hi!\n\nword word")


def test_a_word_longer_than_the_limit_is_cut_inside() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_telegram_counts_emoji_outside_the_bmp_twice() -> None:
    assert utf16_length("😀a") == 3
    assert split_text("😀" * 5, 4, utf16_length) == ["😀😀", "😀😀", "😀"]


def test_a_limit_below_two_is_refused() -> None:
    with pytest.raises(ValueError):
        split_text("abc", 1)
