"""SMS text encoding and concatenation: GSM 03.38 with its escape table, UCS-2, parts and their headers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.adapters.connectors.sms.encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    PART_GSM7,
    PART_UCS2,
    DataCoding,
    PartOf,
    concat_header,
    decode_text,
    describe,
    gsm7_decode,
    gsm7_encode,
    septet_count,
    split_header,
    split_text,
    utf16_units,
)

GSM_CHARS = [char for char in GSM7_BASIC if char != "\x1b"] + list(GSM7_EXTENSION)
gsm_text = st.text(alphabet=st.sampled_from(GSM_CHARS), max_size=700)
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=500)


def test_gsm7_encodes_basic_and_escaped_characters_as_unpacked_septets() -> None:
    # '@' is 0x00, '£' 0x01, 'Δ' 0x10; '€' is ESC 0x65, '[' ESC 0x3C, '\f' ESC 0x0A
    assert gsm7_encode("@£Δ€[\f A") == bytes([0x00, 0x01, 0x10, 0x1B, 0x65, 0x1B, 0x3C, 0x1B, 0x0A, 0x20, 0x41])
    assert septet_count("@£Δ€[\f A") == 11


def test_gsm7_refuses_a_character_outside_the_alphabet() -> None:
    with pytest.raises(ValueError, match="'я' is not in the GSM 7-bit alphabet"):
        gsm7_encode("Hello я")


def test_an_unknown_escape_reads_as_its_basic_character_and_a_high_octet_is_refused() -> None:
    assert gsm7_decode(bytes([0x1B, 0x41, 0x42])) == "AB"
    with pytest.raises(ValueError, match="0x80 is not a GSM 7-bit septet"):
        gsm7_decode(bytes([0x41, 0x80]))


@given(gsm_text)
def test_gsm7_round_trips(text: str) -> None:
    assert gsm7_decode(gsm7_encode(text)) == text


def test_two_hundred_cyrillic_characters_are_three_ucs2_parts_of_67_67_66() -> None:
    text = "Ж" * 200
    segments = split_text(text)
    assert segments.coding is DataCoding.UCS2
    assert [len(part) for part in segments.parts] == [67, 67, 66]
    assert describe(segments) == "3 SMS in UCS-2 (67 characters each)"


def test_texts_that_fit_one_sms_have_one_part() -> None:
    assert split_text("x" * 160).parts == ("x" * 160,)
    assert split_text("ж" * 70).parts == ("ж" * 70,)
    assert split_text("x" * 161).count == 2
    assert split_text("ж" * 71).count == 2
    assert describe(split_text("Hi")) == "1 SMS in GSM 7-bit"


def test_an_escaped_character_is_never_split_between_parts() -> None:
    # 152 septets then '€' (2 septets): the euro does not fit in part one and moves whole to part two
    text = "a" * 152 + "€" + "b" * 10
    segments = split_text(text)
    assert segments.parts == ("a" * 152, "€" + "b" * 10)
    assert septet_count(segments.parts[0]) == 152


def test_a_surrogate_pair_is_never_split_between_parts() -> None:
    text = "ж" * 66 + "😀" + "ж" * 10  # the emoji takes two UTF-16 units: 66 + 2 > 67
    assert split_text(text).parts == ("ж" * 66, "😀" + "ж" * 10)


@given(any_text)
def test_parts_put_back_together_are_the_text_and_each_fits_its_part(text: str) -> None:
    segments = split_text(text)
    assert "".join(segments.parts) == text
    if segments.count > 1:
        for part in segments.parts:
            if segments.coding is DataCoding.DEFAULT:
                assert septet_count(part) <= PART_GSM7
            else:
                assert utf16_units(part) <= PART_UCS2
    assert segments.coding is (DataCoding.DEFAULT if all(c in GSM_CHARS for c in text) else DataCoding.UCS2)


@given(gsm_text)
def test_gsm_parts_are_as_few_as_the_part_size_allows(text: str) -> None:
    segments = split_text(text)
    if segments.count > 1:
        assert all(septet_count(part) >= PART_GSM7 - 1 for part in segments.parts[:-1])


def test_the_concatenation_header_is_iei_0_with_an_8_bit_reference() -> None:
    assert concat_header(0x2A, 3, 2) == bytes.fromhex("0500032a0302")
    with pytest.raises(ValueError):
        concat_header(1, 2, 3)


@given(st.integers(0, 255), st.integers(1, 255).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))))
def test_a_concatenation_header_reads_back(reference: int, total_and_number: tuple[int, int]) -> None:
    total, number = total_and_number
    part, rest = split_header(concat_header(reference, total, number) + b"payload")
    assert (part, rest) == (PartOf(reference, total, number), b"payload")


def test_a_16_bit_reference_header_is_read_and_other_elements_are_skipped() -> None:
    header = bytes.fromhex("0a" + "0804abcd0201" + "0a02aabb")  # concat 16-bit, then an unrelated element
    assert split_header(header + b"hi") == (PartOf(0xABCD, 2, 1), b"hi")


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"", "empty"), (bytes.fromhex("05000301"), "says 5 octets"), (bytes.fromhex("050003010300"), "not a valid part")],
)
def test_a_broken_header_is_refused(data: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        split_header(data)


def test_received_texts_decode_by_their_data_coding() -> None:
    assert decode_text("Привет".encode("utf-16-be"), 8) == "Привет"
    assert decode_text(b"Caf\xe9", 3) == "Café"
    assert decode_text(b"Hello", 1) == "Hello"
    assert decode_text(bytes([0x48, 0x1B, 0x65]), 0) == "H€"
    with pytest.raises(ValueError, match="0x04 is not a text encoding"):
        decode_text(b"\x00\x01", 4)
