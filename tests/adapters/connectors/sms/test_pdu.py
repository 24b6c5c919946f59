"""The SMPP 3.4 PDU codec: exact octets from the specification's layouts, round trips, and what a bad PDU says."""

from __future__ import annotations

import struct
from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.adapters.connectors.sms.smpp.pdu import (
    BindResp,
    BindTransceiver,
    Command,
    DeliverSm,
    Empty,
    MessageIdResp,
    Pdu,
    PduError,
    Status,
    SubmitSm,
    Tlv,
    decode,
    encode,
    read_header,
)


def test_bind_transceiver_is_encoded_field_by_field() -> None:
    pdu = Pdu(Command.BIND_TRANSCEIVER, 1, body=BindTransceiver(system_id="switchboard", password="secret"))
    expected = (
        "00000028" "00000009" "00000000" "00000001"  # length 40, bind_transceiver, status, sequence
        "737769746368626f61726400"  # system_id "switchboard"
        "73656372657400"  # password "secret"
        "00"  # system_type ""
        "34" "00" "00"  # interface_version 3.4, addr_ton, addr_npi
        "00"  # address_range ""
    )  # fmt: skip
    assert encode(pdu).hex() == expected


def test_submit_sm_is_encoded_field_by_field() -> None:
    body = SubmitSm(
        source_addr_ton=5,
        source_addr="Shop",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="79161234567",
        registered_delivery=1,
        short_message=b"Hi",
    )
    expected = (
        "00000032" "00000004" "00000000" "00000002"
        "00"  # service_type
        "05" "00" "53686f7000"  # source: alphanumeric "Shop"
        "01" "01" "373931363132333435363700"  # destination: international ISDN 79161234567
        "00" "00" "00"  # esm_class, protocol_id, priority_flag
        "00" "00"  # schedule_delivery_time, validity_period
        "01" "00" "00" "00"  # registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        "02" "4869"  # sm_length, "Hi"
    )  # fmt: skip
    assert encode(Pdu(Command.SUBMIT_SM, 2, body=body)).hex() == expected


def test_a_deliver_sm_with_a_receipted_message_id_tlv_is_decoded() -> None:
    body = bytes.fromhex("00010137390001013400040000000000000000026f6b")
    body += bytes.fromhex("001e000441423100")  # receipted_message_id "AB1"
    frame = struct.pack(">IIII", 16 + len(body), 5, 0, 77) + body
    pdu = decode(frame)
    assert pdu == Pdu(
        Command.DELIVER_SM,
        77,
        body=DeliverSm(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="79",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="4",
            esm_class=4,
            short_message=b"ok",
            tlvs=(Tlv(0x001E, b"AB1\0"),),
        ),
    )
    assert pdu.body.tlv(0x001E) == b"AB1\0"


def test_an_error_response_without_a_body_is_read() -> None:
    pdu = decode(bytes.fromhex("0000001080000004000000580000000a"))
    assert pdu == Pdu(Command.SUBMIT_SM_RESP, 10, Status.RTHROTTLED, MessageIdResp())


c_strings = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=5)
octet = st.integers(0, 255)
tlvs = st.lists(st.builds(Tlv, st.integers(0, 0xFFFF), st.binary(max_size=40)), max_size=3).map(tuple)
short_messages = st.builds(
    SubmitSm,
    service_type=c_strings,
    source_addr_ton=octet,
    source_addr_npi=octet,
    source_addr=c_strings,
    dest_addr_ton=octet,
    dest_addr_npi=octet,
    destination_addr=c_strings,
    esm_class=octet,
    protocol_id=octet,
    priority_flag=octet,
    schedule_delivery_time=c_strings,
    validity_period=c_strings,
    registered_delivery=octet,
    replace_if_present_flag=octet,
    data_coding=octet,
    sm_default_msg_id=octet,
    short_message=st.binary(max_size=254),
    tlvs=tlvs,
)
pdus = st.one_of(
    st.builds(Pdu, st.just(Command.SUBMIT_SM), st.integers(0, 0x7FFFFFFF), st.just(0), short_messages),
    st.builds(
        Pdu,
        st.just(Command.DELIVER_SM),
        st.integers(0, 0x7FFFFFFF),
        st.just(0),
        short_messages.map(lambda sm: DeliverSm(**{f.name: getattr(sm, f.name) for f in fields(sm)})),
    ),
    st.builds(
        Pdu,
        st.just(Command.BIND_TRANSCEIVER),
        st.integers(0, 0x7FFFFFFF),
        st.just(0),
        st.builds(BindTransceiver, system_id=c_strings, password=c_strings, system_type=c_strings, addr_ton=octet),
    ),
    st.builds(
        Pdu,
        st.sampled_from([Command.SUBMIT_SM_RESP, Command.DELIVER_SM_RESP]),
        st.integers(0, 0x7FFFFFFF),
        st.integers(0, 0xFFFF),
        st.builds(MessageIdResp, message_id=c_strings),
    ),
    st.builds(Pdu, st.just(Command.BIND_TRANSCEIVER_RESP), st.integers(0, 9), st.just(0), st.builds(BindResp)),
    st.builds(
        Pdu,
        st.sampled_from([Command.ENQUIRE_LINK, Command.ENQUIRE_LINK_RESP, Command.UNBIND, Command.GENERIC_NACK]),
        st.integers(0, 0x7FFFFFFF),
        st.integers(0, 0xFF),
        st.just(Empty()),
    ),
)


@given(pdus)
def test_every_pdu_round_trips(pdu: Pdu) -> None:
    frame = encode(pdu)
    assert read_header(frame).length == len(frame)
    assert decode(frame) == pdu


@pytest.mark.parametrize(
    ("frame", "status", "reason"),
    [
        (bytes.fromhex("00000010000000990000000000000001"), Status.RINVCMDID, "unknown command_id"),
        (bytes.fromhex("00000014000000150000000000000001deadbeef"), Status.RINVCMDLEN, "after the end"),
        (bytes.fromhex("0000001800000005000000000000000100010137393939"), Status.RINVCMDLEN, "length 24"),
        (
            bytes.fromhex("000000180000000500000000000000010001013739393939"),
            Status.RINVCMDLEN,
            "source_addr has no NUL",
        ),
        (
            bytes.fromhex("0000001c000000050000000000000001000101373900010134000000"),
            Status.RINVCMDLEN,
            "the body ends inside",
        ),
        (bytes.fromhex("00000008000000150000000000000001"), Status.RINVCMDLEN, "outside 16"),
    ],
)
def test_a_malformed_pdu_says_what_to_answer(frame: bytes, status: Status, reason: str) -> None:
    with pytest.raises(PduError, match=reason) as error:
        decode(frame)
    assert error.value.status is status


def test_a_header_announcing_a_huge_pdu_is_refused_before_reading_its_body() -> None:
    with pytest.raises(PduError, match="command_length 1048576 is outside"):
        read_header(struct.pack(">IIII", 1 << 20, 4, 0, 1))


def test_fields_that_do_not_fit_their_smpp_size_are_not_encoded() -> None:
    with pytest.raises(ValueError, match="does not fit 20 octets"):
        encode(Pdu(Command.SUBMIT_SM, 1, body=SubmitSm(destination_addr="1" * 21)))
    with pytest.raises(ValueError, match="at most 254"):
        encode(Pdu(Command.SUBMIT_SM, 1, body=SubmitSm(short_message=b"x" * 255)))
    with pytest.raises(ValueError, match="cannot carry"):
        encode(Pdu(Command.SUBMIT_SM, 1, body=Empty()))
