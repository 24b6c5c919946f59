"""SMPP 3.4 against a local SMSC: binding, exact submit_sm, receipts, inbound SMS, bad PDUs, throttling, drops."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable

import pytest

from switchboard.adapters.connectors.sms import SmppSessions, SmsConnector
from switchboard.adapters.connectors.sms.smpp.client import SmppUnavailable
from switchboard.adapters.connectors.sms.smpp.sessions import SmppSession
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage, Sender
from switchboard.application.ports.connectors import Receipt, SendFailed, WebhookRejected, WebhookRequest
from switchboard.domain.conversation import DeliveryStatus
from switchboard.domain.identity import IdentityKind
from switchboard.domain.source import Source
from tests.adapters.connectors.sms.conftest import Collected, reply, smpp_config
from tests.support.providers.smpp_server import (
    DELIVER_SM_RESP,
    ENQUIRE_LINK,
    ENQUIRE_LINK_RESP,
    GENERIC_NACK,
    OK,
    SUBMIT_SM,
    UNBIND,
    UNBIND_RESP,
    Answer,
    Smsc,
    Submitted,
    short_message_body,
    tlv,
)

CHANNEL = 11
RX_T_APPN, RX_P_APPN = 0x64, 0x65
ORDER_TEXT = ("Здравствуйте, Ольга! Ваш заказ собран и ждёт вас в пункте выдачи на Тверской. " * 3)[:200]


async def eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - waiting for a peer's side effect
            await asyncio.sleep(0.01)


@pytest.fixture
async def connector(sessions: SmppSessions) -> AsyncIterator[SmsConnector]:
    made = SmsConnector(sessions)
    yield made
    await made.close()


async def bound(sessions: SmppSessions, smsc: Smsc, **settings: object) -> SmppSession:
    session = await sessions.open(smpp_config(smsc.port, **settings))
    await session.client.wait_bound()
    return session


def submitted(
    sequence: int, short_message: bytes, message_id: str, *, esm_class: int = 0, coding: int = 0
) -> Submitted:
    return Submitted(
        sequence=sequence,
        service_type="",
        source_addr_ton=5,
        source_addr_npi=0,
        source_addr="Shop",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="79161234567",
        esm_class=esm_class,
        registered_delivery=1,
        data_coding=coding,
        short_message=short_message,
        message_id=message_id,
    )


# --- binding and sending -------------------------------------------------------------------


async def test_the_session_binds_as_a_transceiver_with_the_channels_credentials(
    sessions: SmppSessions, smsc: Smsc
) -> None:
    session = await bound(sessions, smsc)
    assert smsc.binds == [("switchboard", "secret")]
    assert session.health().bound is True


async def test_a_latin_reply_is_one_submit_sm_in_the_gsm_alphabet_with_escapes(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    config = smpp_config(smsc.port)
    await bound(sessions, smsc)
    receipt = await connector.send(config, reply("Hello [world] €5"))
    gsm = bytes.fromhex("48656c6c6f20" "1b3c" "776f726c64" "1b3e" "20" "1b65" "35")  # fmt: skip
    assert smsc.submits == [submitted(2, gsm, "5000")]
    assert receipt == Receipt("5000", DeliveryStatus.SENT)


async def test_a_200_character_cyrillic_reply_is_three_ucs2_parts_with_one_reference(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    config = smpp_config(smsc.port)
    await bound(sessions, smsc)
    receipt = await connector.send(config, reply(ORDER_TEXT, message_id=300))  # reference 300 % 256 = 0x2c
    parts = (ORDER_TEXT[:67], ORDER_TEXT[67:134], ORDER_TEXT[134:])
    assert smsc.submits == [
        submitted(2, bytes.fromhex("0500032c0301") + parts[0].encode("utf-16-be"), "5000", esm_class=0x40, coding=8),
        submitted(3, bytes.fromhex("0500032c0302") + parts[1].encode("utf-16-be"), "5001", esm_class=0x40, coding=8),
        submitted(4, bytes.fromhex("0500032c0303") + parts[2].encode("utf-16-be"), "5002", esm_class=0x40, coding=8),
    ]
    assert [len(submit.short_message) for submit in smsc.submits] == [140, 140, 138]
    assert receipt == Receipt("5000", DeliveryStatus.SENT)


async def test_a_reply_longer_than_the_channel_allows_is_not_submitted(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    config = smpp_config(smsc.port, max_parts=2)
    await bound(sessions, smsc, max_parts=2)
    with pytest.raises(
        SendFailed, match=r"3 SMS in UCS-2 \(67 characters each\); this channel sends at most 2"
    ) as error:
        await connector.send(config, reply(ORDER_TEXT))
    assert error.value.retryable is False
    assert smsc.submits == []


# --- receipts --------------------------------------------------------------------------------


async def test_a_reply_is_delivered_once_every_part_is(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector, collected: Collected
) -> None:
    await bound(sessions, smsc)
    await connector.send(smpp_config(smsc.port), reply(ORDER_TEXT))
    assert await smsc.receipt("5001", "DELIVRD") == OK
    assert await smsc.receipt("5000", "DELIVRD") == OK
    assert collected.statuses == []
    assert await smsc.receipt("5002", "DELIVRD") == OK
    assert collected.statuses == [DeliveryUpdate(CHANNEL, "5000", DeliveryStatus.DELIVERED)]


async def test_one_undeliverable_part_fails_the_reply_with_the_smscs_reason(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector, collected: Collected
) -> None:
    await bound(sessions, smsc)
    await connector.send(smpp_config(smsc.port), reply(ORDER_TEXT))
    assert await smsc.receipt("5001", "UNDELIV", err="011") == OK
    reason = "smpp: stat:UNDELIV (undeliverable) err:011"
    assert collected.statuses == [DeliveryUpdate(CHANNEL, "5000", DeliveryStatus.FAILED, reason)]


async def test_a_receipt_for_a_one_part_reply_and_a_repeated_receipt_give_the_same_update(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector, collected: Collected
) -> None:
    await bound(sessions, smsc)
    await connector.send(smpp_config(smsc.port), reply("Your order is ready"))
    await smsc.receipt("5000", "ACCEPTD")
    await smsc.receipt("5000", "DELIVRD")
    await smsc.receipt("5000", "DELIVRD")  # the SMSC repeats itself: record_delivery moves a status only forward
    assert collected.statuses == [
        DeliveryUpdate(CHANNEL, "5000", DeliveryStatus.SENT),
        DeliveryUpdate(CHANNEL, "5000", DeliveryStatus.DELIVERED),
        DeliveryUpdate(CHANNEL, "5000", DeliveryStatus.DELIVERED),
    ]


async def test_the_receipted_message_id_and_message_state_tlvs_win_over_the_text(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc)
    text = b"id:1234 sub:001 dlvrd:000 submit date:2311221030 done date:2311221031 stat:UNDELIV err:000 text:"
    tlvs = tlv(0x001E, b"5000\0") + tlv(0x0427, bytes([2]))  # receipted_message_id, message_state DELIVERED
    answer = await smsc.deliver(source="79161234567", destination="Shop", short_message=text, esm_class=0x04, tlvs=tlvs)
    assert answer == OK
    assert collected.statuses == [DeliveryUpdate(CHANNEL, "5000", DeliveryStatus.DELIVERED)]


async def test_an_unreadable_receipt_is_refused_for_good_and_nothing_is_recorded(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc)
    answer = await smsc.deliver(source="1", destination="2", short_message=b"id:5000 stat:WHATEVER", esm_class=0x04)
    assert answer == Answer(DELIVER_SM_RESP, RX_P_APPN)
    assert collected.statuses == []


# --- inbound SMS -----------------------------------------------------------------------------


async def test_a_customer_sms_comes_in_from_the_senders_phone(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc)
    gsm = bytes.fromhex("48656c6c6f200020686f6d65")  # "Hello @ home" in GSM 03.38 ('@' is 0x00)
    assert await smsc.deliver(source="79161234567", destination="4242", short_message=gsm) == OK
    assert collected.messages == [
        InboundMessage(CHANNEL, Sender(phone="+79161234567"), "Hello @ home", source=Source(dialled_number="4242"))
    ]


async def test_a_long_cyrillic_sms_comes_in_whole_whatever_the_order_of_its_parts(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc)
    parts = (ORDER_TEXT[:67], ORDER_TEXT[67:134], ORDER_TEXT[134:])
    for number in (2, 3, 1):
        udh = bytes((5, 0, 3, 0x99, 3, number))
        payload = udh + parts[number - 1].encode("utf-16-be")
        answer = await smsc.deliver(
            source="79161234567", destination="4242", short_message=payload, esm_class=0x40, data_coding=8
        )
        assert answer == OK
        assert collected.messages == ([] if number != 1 else collected.messages)
    assert [message.body for message in collected.messages] == [ORDER_TEXT]


async def test_parts_marked_by_sar_tlvs_are_put_together(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc)
    for number, text in ((1, "Добрый "), (2, "день")):
        sar = tlv(0x020C, b"\x00\x07") + tlv(0x020E, b"\x02") + tlv(0x020F, bytes([number]))
        payload = text.encode("utf-16-be")
        await smsc.deliver(source="79161234567", destination="4242", short_message=payload, data_coding=8, tlvs=sar)
    assert [message.body for message in collected.messages] == ["Добрый день"]


async def test_a_long_sms_whose_last_part_never_comes_is_let_out_with_the_gap_marked(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc, part_timeout=0.1)
    payload = bytes((5, 0, 3, 1, 2, 1)) + "Начало".encode("utf-16-be")
    await smsc.deliver(source="79161234567", destination="4242", short_message=payload, esm_class=0x40, data_coding=8)
    await eventually(lambda: bool(collected.messages))
    assert [message.body for message in collected.messages] == ["Начало[…]"]


async def test_a_sender_in_national_form_is_read_in_the_channels_region(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc)
    await smsc.deliver(source="89161234567", destination="4242", short_message=b"Hi", source_ton=2)
    assert collected.messages[0].sender == Sender(phone="+79161234567")


async def test_a_short_code_sender_is_kept_as_an_external_identity(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc)
    await smsc.deliver(source="900", destination="4242", short_message=b"Balance 10", source_ton=3, source_npi=0)
    assert collected.messages[0].sender == Sender(external_kind=IdentityKind.EXTERNAL, external_id="sms:900")


async def test_an_sms_the_application_could_not_keep_is_delivered_again_by_the_smsc(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc)
    collected.fail_with = [RuntimeError("database unavailable"), InvalidInput("bad", field="body")]
    fields = {"source": "79161234567", "destination": "4242", "short_message": b"Hi"}
    assert await smsc.deliver(**fields) == Answer(DELIVER_SM_RESP, RX_T_APPN)  # try later
    assert await smsc.deliver(**fields) == Answer(DELIVER_SM_RESP, RX_P_APPN)  # never
    assert await smsc.deliver(**fields) == OK
    assert [message.body for message in collected.messages] == ["Hi"]


async def test_an_sms_that_is_not_text_is_refused_and_an_acknowledgement_is_ignored(
    sessions: SmppSessions, smsc: Smsc, collected: Collected
) -> None:
    await bound(sessions, smsc)
    binary = await smsc.deliver(source="79161234567", destination="4242", short_message=b"\x00\x01", data_coding=4)
    ack = await smsc.deliver(source="79161234567", destination="4242", short_message=b"ack", esm_class=0x08)
    assert (binary, ack) == (Answer(DELIVER_SM_RESP, RX_P_APPN), OK)
    assert collected.messages == []
    assert collected.statuses == []


# --- bad PDUs: a clear answer, and the session lives on -------------------------------------


async def test_a_malformed_deliver_sm_gets_a_generic_nack_and_the_session_lives_on(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    await bound(sessions, smsc)
    body = bytes.fromhex("0001013739393939")  # source_addr never ends
    await smsc.send_raw(struct.pack(">IIII", 16 + len(body), 0x05, 0, 900) + body)
    await eventually(lambda: bool(smsc.nacks))
    assert smsc.nacks == [(900, 0x02)]  # ESME_RINVCMDLEN
    await connector.send(smpp_config(smsc.port), reply("still here"))
    assert (smsc.connections, len(smsc.accepted)) == (1, 1)


async def test_a_command_an_esme_does_not_take_gets_a_generic_nack(sessions: SmppSessions, smsc: Smsc) -> None:
    await bound(sessions, smsc)
    body = short_message_body(source="1", destination="2", short_message=b"x")
    assert await smsc.request(SUBMIT_SM, body) == Answer(GENERIC_NACK, 0x03)  # ESME_RINVCMDID


async def test_a_header_that_cannot_be_framed_ends_the_connection_and_the_session_binds_again(
    sessions: SmppSessions, smsc: Smsc
) -> None:
    await bound(sessions, smsc)
    await smsc.send_raw(struct.pack(">IIII", 1 << 20, 0x05, 0, 901))
    await smsc.wait_bound(binds=2)
    assert smsc.connections == 2


# --- keepalive, unbind --------------------------------------------------------------------


async def test_the_smscs_enquire_link_is_answered(sessions: SmppSessions, smsc: Smsc) -> None:
    await bound(sessions, smsc)
    assert await smsc.request(ENQUIRE_LINK) == Answer(ENQUIRE_LINK_RESP, 0)


async def test_a_quiet_link_is_probed_and_an_unanswered_probe_means_reconnecting(
    sessions: SmppSessions, smsc: Smsc
) -> None:
    session = await bound(sessions, smsc, enquire_link_interval=0.1, response_timeout=0.2)
    await eventually(lambda: smsc.enquire_links >= 2)  # answered: the link stays
    assert smsc.connections == 1
    smsc.silent = True
    await eventually(lambda: smsc.connections == 2)
    smsc.silent = False
    await smsc.wait_bound(binds=2)
    assert session.health().binds == 2


async def test_an_unbind_from_the_smsc_is_answered_and_the_session_binds_again(
    sessions: SmppSessions, smsc: Smsc
) -> None:
    await bound(sessions, smsc)
    assert await smsc.request(UNBIND) == Answer(UNBIND_RESP, 0)
    await smsc.wait_bound(binds=2)


async def test_closing_a_session_unbinds(sessions: SmppSessions, smsc: Smsc) -> None:
    await bound(sessions, smsc)
    await sessions.close(CHANNEL)
    assert smsc.unbinds == 1
    assert sessions.get(CHANNEL) is None


async def test_a_wrong_password_leaves_the_channel_unbound_and_says_why(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    config = smpp_config(smsc.port, password="wrong", bind_wait=0.3)
    session = await sessions.open(config)
    with pytest.raises(SmppUnavailable, match="ESME_RINVPASWD"):
        await session.client.wait_bound()
    with pytest.raises(SendFailed, match="not bound") as error:
        await connector.send(config, reply("Hi"))
    assert error.value.retryable is True
    assert session.health().bound is False


# --- throttling, pace, window --------------------------------------------------------------


async def test_throttled_submits_are_tried_again_after_a_pause(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    await bound(sessions, smsc)
    smsc.throttle(2)
    receipt = await connector.send(smpp_config(smsc.port), reply("Hi"))
    assert [submit.message_id for submit in smsc.submits] == [None, None, "5002"]
    assert receipt.external_id == "5002"


async def test_throttling_that_lasts_fails_the_send_retryably_after_the_pause(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    await bound(sessions, smsc, throttle_retries=1)
    smsc.throttle(5)
    with pytest.raises(SendFailed) as error:
        await connector.send(smpp_config(smsc.port, throttle_retries=1), reply("Hi"))
    assert (error.value.reason, error.value.retryable, error.value.retry_after) == (
        "smpp: the SMSC refused submit_sm: ESME_RTHROTTLED",
        True,
        0.05,
    )
    assert len(smsc.submits) == 2


async def test_a_refused_destination_fails_the_reply_for_good_saying_which_part(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    await bound(sessions, smsc)
    await connector.send(smpp_config(smsc.port), reply("first"))
    smsc.refuse_next(0x0B)
    with pytest.raises(SendFailed) as error:
        await connector.send(smpp_config(smsc.port), reply(ORDER_TEXT))
    assert error.value.retryable is False
    assert error.value.reason == (
        "smpp: the SMSC refused submit_sm: ESME_RINVDSTADR"
        " (after 0 of 3 parts were accepted; a retry sends every part again)"
    )


async def test_submits_keep_to_the_configured_rate(sessions: SmppSessions, smsc: Smsc, connector: SmsConnector) -> None:
    await bound(sessions, smsc, submit_rate=20)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await connector.send(smpp_config(smsc.port, submit_rate=20), reply(ORDER_TEXT + ORDER_TEXT))  # 6 parts
    assert loop.time() - started >= 5 / 20 - 0.01
    assert len(smsc.accepted) == 6


async def test_no_more_requests_are_outstanding_than_the_window(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    config = smpp_config(smsc.port, window=1, response_timeout=0.3)
    await bound(sessions, smsc, window=1, response_timeout=0.3)
    smsc.hold = True
    sends = [asyncio.create_task(connector.send(config, reply(text))) for text in ("one", "two")]
    await asyncio.sleep(0.15)
    assert len(smsc.submits) == 1
    results = await asyncio.gather(*sends, return_exceptions=True)
    assert [type(result) for result in results] == [SendFailed, SendFailed]
    assert all(isinstance(result, SendFailed) and result.retryable for result in results)
    assert [submit.sequence for submit in smsc.submits] == [2, 3]
    assert "no answer to submit_sm within 0.3s" in str(results[0])


# --- the SMSC going away --------------------------------------------------------------------


async def test_after_a_drop_the_session_binds_again_and_sends(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    await bound(sessions, smsc)
    await smsc.drop()
    await smsc.wait_bound(binds=2)
    receipt = await connector.send(smpp_config(smsc.port), reply("after the drop"))
    assert smsc.connections == 2
    assert [submit.message_id for submit in smsc.submits] == [receipt.external_id]


async def test_a_send_while_the_smsc_is_away_waits_for_the_session_to_bind_again(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    session = await bound(sessions, smsc)
    await smsc.close()
    await eventually(lambda: not session.health().bound)
    sending = asyncio.create_task(connector.send(smpp_config(smsc.port), reply("while away")))
    await asyncio.sleep(0.1)
    assert not sending.done()
    back = Smsc(port=smsc.port)
    await back.start()
    try:
        receipt = await sending
        assert [submit.message_id for submit in back.submits] == [receipt.external_id]
    finally:
        await back.close()


async def test_a_submit_cut_off_before_its_answer_fails_retryably_and_the_retry_goes_through(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    config = smpp_config(smsc.port)
    await bound(sessions, smsc)
    smsc.hold = True
    sending = asyncio.create_task(connector.send(config, reply("Hi")))
    await eventually(lambda: len(smsc.submits) == 1)
    await smsc.drop()
    with pytest.raises(SendFailed, match="dropped before the SMSC answered") as error:
        await sending
    assert error.value.retryable is True
    smsc.hold = False
    receipt = await connector.send(config, reply("Hi"))
    assert [submit.message_id for submit in smsc.submits] == [None, receipt.external_id]


async def test_while_the_smsc_is_down_sends_fail_retryably_and_work_again_when_it_is_back(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    config = smpp_config(smsc.port, bind_wait=0.2)
    session = await bound(sessions, smsc, bind_wait=0.2)
    await smsc.close()
    await eventually(lambda: not session.health().bound)
    with pytest.raises(SendFailed, match=f"smpp: not bound to 127.0.0.1:{smsc.port}") as error:
        await connector.send(config, reply("Hi"))
    assert error.value.retryable is True
    back = Smsc(port=smsc.port)
    await back.start()
    try:
        await back.wait_bound()
        await connector.send(config, reply("Hi"))
        assert len(back.accepted) == 1
    finally:
        await back.close()


# --- the sessions and the connector ------------------------------------------------------------


async def test_sync_keeps_exactly_the_active_smpp_channels(sessions: SmppSessions, smsc: Smsc) -> None:
    config = smpp_config(smsc.port)
    await sessions.sync([config])
    first = sessions.get(CHANNEL)
    assert first is not None
    await sessions.sync([config])
    assert sessions.get(CHANNEL) is first  # unchanged settings: the same session
    await sessions.sync([smpp_config(smsc.port, window=5)])
    assert sessions.get(CHANNEL) is not first  # changed settings: a new session
    await sessions.sync([])
    assert len(sessions) == 0


async def test_without_a_session_a_send_fails_retryably_and_the_webhook_refuses(smsc: Smsc) -> None:
    connector = SmsConnector(SmppSessions(Collected().on_inbound, Collected().on_status))
    config = smpp_config(smsc.port)
    with pytest.raises(SendFailed, match="no session runs for channel 11") as error:
        await connector.send(config, reply("Hi"))
    assert error.value.retryable is True
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config, WebhookRequest("POST", {}, {}, b""))
    assert rejected.value.status == 404
    await connector.close()


async def test_connect_binds_the_channel_and_says_so(
    sessions: SmppSessions, smsc: Smsc, connector: SmsConnector
) -> None:
    said = await connector.connect(smpp_config(smsc.port), "https://unused.example")
    assert said == f"bound to 127.0.0.1:{smsc.port} as switchboard"
    assert sessions.get(CHANNEL) is not None
