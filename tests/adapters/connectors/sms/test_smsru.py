"""SMS.ru against a local SMS.ru-like server: exact sends, its code table, signed status callbacks, polling."""

from __future__ import annotations

import pytest

from switchboard.adapters.connectors.sms import SmsConnector
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.errors import InvalidInput
from switchboard.application.ports.connectors import Receipt, SendFailed, WebhookRejected, WebhookResult
from switchboard.domain.conversation import DeliveryStatus
from tests.adapters.connectors.sms.conftest import reply, smsru_config
from tests.support.providers import WebhookCall
from tests.support.providers.smsru import API_ID, WEBHOOK_URL, SmsRuLike, status_entry

SmsRu = tuple[SmsRuLike, str]


async def test_a_reply_is_posted_to_sms_send_with_the_api_id_and_the_sender_name(
    smsru_api: SmsRu, connector: SmsConnector
) -> None:
    smsru, base = smsru_api
    receipt = await connector.send(smsru_config(base), reply("Ваш заказ готов"))
    assert smsru.sent == [
        {"api_id": API_ID, "json": "1", "to": "79161234567", "msg": "Ваш заказ готов", "from": "Shop"}
    ]
    assert receipt == Receipt("000000-10000001", DeliveryStatus.SENT)


async def test_test_mode_is_passed_on(smsru_api: SmsRu, connector: SmsConnector) -> None:
    smsru, base = smsru_api
    await connector.send(smsru_config(base, test=True, **{"from": None}), reply("Hi"))
    assert smsru.sent == [{"api_id": API_ID, "json": "1", "to": "79161234567", "msg": "Hi", "test": "1"}]


@pytest.mark.parametrize(
    ("refuse", "code", "retryable", "retry_after", "reason"),
    [
        ("number", 207, False, None, "smsru: 207 На этот номер нет маршрута для доставки сообщений"),
        (
            "number",
            202,
            False,
            None,
            "smsru: 202 Неправильно указан номер телефона получателя, либо на него нет маршрута",
        ),
        ("number", 231, True, 60.0, "smsru: 231 Превышен лимит одинаковых сообщений на этот номер в минуту"),
        ("request", 201, True, 600.0, "smsru: 201 Не хватает средств на лицевом счету"),
        ("request", 220, True, None, "smsru: 220 Сервис временно недоступен, попробуйте чуть позже"),
        ("request", 205, False, None, "smsru: 205 Сообщение слишком длинное (превышает 8 СМС)"),
    ],
)
async def test_sms_ru_codes_fail_or_retry_as_its_table_says(
    smsru_api: SmsRu,
    connector: SmsConnector,
    refuse: str,
    code: int,
    retryable: bool,
    retry_after: float | None,
    reason: str,
) -> None:
    smsru, base = smsru_api
    if refuse == "number":
        smsru.refuse("79161234567", code)
    else:
        smsru.fail_next(code)
    with pytest.raises(SendFailed) as error:
        await connector.send(smsru_config(base), reply("Hi"))
    assert (error.value.reason, error.value.retryable, error.value.retry_after) == (reason, retryable, retry_after)
    assert smsru.sent == []


async def test_a_wrong_api_id_fails_for_good(smsru_api: SmsRu, connector: SmsConnector) -> None:
    _, base = smsru_api
    with pytest.raises(SendFailed) as error:
        await connector.send(smsru_config(base, secrets={"api_id": "wrong"}), reply("Hi"))
    assert (error.value.reason, error.value.retryable) == ("smsru: 200 Неправильный api_id", False)


async def test_an_http_5xx_is_retried(smsru_api: SmsRu, connector: SmsConnector) -> None:
    smsru, base = smsru_api
    smsru.fail_next_http(503)
    with pytest.raises(SendFailed, match="smsru: HTTP 503") as error:
        await connector.send(smsru_config(base), reply("Hi"))
    assert error.value.retryable is True
    receipt = await connector.send(smsru_config(base), reply("Hi"))
    assert receipt.external_id == "000000-10000001"


# --- status callbacks ----------------------------------------------------------------------


async def test_status_callbacks_set_the_delivery_status_and_are_answered_100(connector: SmsConnector) -> None:
    call = SmsRuLike().callback(
        WEBHOOK_URL,
        [
            status_entry("000000-10000001", 102),
            status_entry("000000-10000001", 103),
            status_entry("000000-10000002", 106),
        ],
    )
    result = await connector.webhook(smsru_config("http://unused"), call.request())
    assert result == WebhookResult(
        statuses=(
            DeliveryUpdate(9, "000000-10000001", DeliveryStatus.SENT),
            DeliveryUpdate(9, "000000-10000001", DeliveryStatus.DELIVERED),
            DeliveryUpdate(9, "000000-10000002", DeliveryStatus.FAILED, "smsru: 106 not delivered: handset failure"),
        ),
        reply_body=b"100",
    )


async def test_a_replayed_callback_gives_the_same_updates(connector: SmsConnector) -> None:
    call = SmsRuLike().callback(WEBHOOK_URL, [status_entry("000000-10000001", 103)])
    first = await connector.webhook(smsru_config("http://unused"), call.request())
    again = await connector.webhook(smsru_config("http://unused"), call.request())
    assert first == again  # record_delivery moves a status only forward, so a replay changes nothing


async def test_other_entry_types_and_malformed_or_unknown_statuses_are_acknowledged_and_ignored(
    connector: SmsConnector,
) -> None:
    entries = [
        "callcheck_status\n201037-1000\n401\n1700000000",
        "test\n1700000000",
        "sms_status\n\nabc",
        status_entry("x", 999),
    ]
    call = SmsRuLike().callback(WEBHOOK_URL, entries)
    result = await connector.webhook(smsru_config("http://unused"), call.request())
    assert result == WebhookResult(
        ignored=(
            "smsru: callcheck_status",
            "smsru: test",
            "smsru: malformed or unknown sms_status 'sms_status\\n\\nabc'",
            "smsru: malformed or unknown sms_status 'sms_status\\nx\\n999\\n1700000000'",
        ),
        reply_body=b"100",
    )


@pytest.mark.parametrize(
    ("make", "status", "reason"),
    [
        (lambda smsru: smsru.callback(WEBHOOK_URL, [status_entry("1", 103)], api_id="another"), 401, "hash"),
        (lambda smsru: WebhookCall(WEBHOOK_URL, b"data%5B0%5D=sms_status%0A1%0A103", {}), 401, "hash"),
        (lambda smsru: WebhookCall(WEBHOOK_URL, b"hash=abc", {}), 400, "no data entries"),
        (lambda smsru: WebhookCall(WEBHOOK_URL, b"\xff\xfe", {}), 400, "not UTF-8"),
    ],
    ids=["wrong-hash", "no-hash", "no-data", "not-utf8"],
)
async def test_a_callback_that_is_not_genuine_or_not_readable_is_refused(
    connector: SmsConnector, make: object, status: int, reason: str
) -> None:
    call = make(SmsRuLike())  # type: ignore[operator]
    with pytest.raises(WebhookRejected, match=reason) as error:
        await connector.webhook(smsru_config("http://unused"), call.request())
    assert error.value.status == status


async def test_a_callback_token_when_configured_must_be_in_the_url(connector: SmsConnector) -> None:
    config = smsru_config("http://unused", secrets={"api_id": API_ID, "callback_token": "t0ken"})
    smsru = SmsRuLike()
    without = smsru.callback(WEBHOOK_URL, [status_entry("1", 103)])
    with pytest.raises(WebhookRejected, match="token is wrong"):
        await connector.webhook(config, without.request())
    right = smsru.callback(WEBHOOK_URL + "?token=t0ken", [status_entry("1", 103)])
    result = await connector.webhook(config, right.request())
    assert result.statuses == (DeliveryUpdate(9, "1", DeliveryStatus.DELIVERED),)


# --- polling, connecting, checking ---------------------------------------------------------


async def test_statuses_can_be_polled(smsru_api: SmsRu) -> None:
    smsru, base = smsru_api
    smsru.statuses.update({"000000-10000001": 103, "000000-10000002": 108})
    connector = SmsConnector()
    provider = connector.provider({"provider": "smsru"})
    updates = await provider.statuses(smsru_config(base), ["000000-10000001", "000000-10000002", "000000-404"])  # type: ignore[attr-defined]
    assert updates == [
        DeliveryUpdate(9, "000000-10000001", DeliveryStatus.DELIVERED),
        DeliveryUpdate(9, "000000-10000002", DeliveryStatus.FAILED, "smsru: 108 not delivered: rejected"),
    ]
    await connector.close()


async def test_connect_registers_the_webhook_with_its_token_as_a_callback(
    smsru_api: SmsRu, connector: SmsConnector
) -> None:
    smsru, base = smsru_api
    config = smsru_config(base, secrets={"api_id": API_ID, "callback_token": "t0ken"})
    said = await connector.connect(config, "https://ignored.example")
    assert smsru.callbacks == [WEBHOOK_URL + "?token=t0ken"]
    assert said == f"SMS.ru now posts delivery statuses to {WEBHOOK_URL}?token=***"


def test_a_reply_over_eight_sms_is_refused_before_it_is_stored(connector: SmsConnector) -> None:
    config = smsru_config("https://sms.ru", max_parts=8)
    connector.check_reply(config, reply("ж" * 8 * 67), None)  # type: ignore[arg-type]
    with pytest.raises(
        InvalidInput, match=r"9 SMS in UCS-2 \(67 characters each\); this channel sends at most 8"
    ) as error:
        connector.check_reply(config, reply("ж" * (8 * 67 + 1)), None)  # type: ignore[arg-type]
    assert error.value.field == "body"


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({}, {}, "secrets.api_id"),
        ({"max_parts": 9}, {"api_id": API_ID}, "settings.max_parts"),
        ({"from": "A-very-long-sender"}, {"api_id": API_ID}, "settings.from"),
        ({"test": "yes"}, {"api_id": API_ID}, "settings.test"),
        ({}, {"api_id": API_ID, "password": "x"}, "secrets.password"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    connector: SmsConnector, settings: dict[str, object], secrets: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        connector.check_settings(smsru_config("https://sms.ru", **settings).settings, secrets)
    assert error.value.field == field
