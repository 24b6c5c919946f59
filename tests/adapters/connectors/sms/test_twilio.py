"""Twilio Messaging against a local Twilio-like server: exact sends, failures, signed webhooks, statuses."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest

from switchboard.adapters.connectors.sms import SmsConnector
from switchboard.adapters.connectors.sms.twilio import signature
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage, Sender
from switchboard.application.ports.connectors import (
    OutboundFile,
    Receipt,
    SendFailed,
    WebhookRejected,
    WebhookResult,
)
from switchboard.domain.conversation import Attachment, DeliveryStatus
from switchboard.domain.source import Source
from tests.adapters.connectors.sms.conftest import CUSTOMER, reply, twilio_config
from tests.support.providers import WebhookCall
from tests.support.providers.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    NUMBER,
    WEBHOOK_URL,
    TwilioLike,
    twilio_signature,
)

Twilio = tuple[TwilioLike, str]
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
NOW = None


# --- sending ---------------------------------------------------------------------------------


async def test_a_reply_is_posted_to_the_messages_resource_with_basic_auth_and_a_status_callback(
    twilio_api: Twilio, connector: SmsConnector
) -> None:
    twilio, base = twilio_api
    receipt = await connector.send(twilio_config(base), reply("Заказ готов"))
    assert twilio.messages == [
        {"To": CUSTOMER, "Body": "Заказ готов", "StatusCallback": WEBHOOK_URL, "From": NUMBER},
    ]
    assert twilio.requests == [("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")]
    assert receipt == Receipt("SM" + "0" * 31 + "1", DeliveryStatus.SENT)


async def test_a_messaging_service_sends_instead_of_a_number(twilio_api: Twilio, connector: SmsConnector) -> None:
    twilio, base = twilio_api
    service = "MG" + "ab" * 16
    await connector.send(twilio_config(base, messaging_service_sid=service, **{"from": None}), reply("Hi"))
    assert twilio.messages == [
        {"To": CUSTOMER, "Body": "Hi", "StatusCallback": WEBHOOK_URL, "MessagingServiceSid": service}
    ]


@pytest.mark.parametrize(
    ("status", "code", "message", "retry_after", "retryable", "wait"),
    [
        (400, 21211, "The 'To' number +79161234567 is not a valid phone number.", None, False, None),
        (429, 20429, "Too Many Requests", "7", True, 7.0),
        (500, 20500, "Internal Server Error", None, True, None),
        (503, 20503, "Service Unavailable", "30", True, 30.0),
    ],
)
async def test_twilios_errors_fail_or_retry_with_its_reason(
    twilio_api: Twilio,
    connector: SmsConnector,
    status: int,
    code: int,
    message: str,
    retry_after: str | None,
    retryable: bool,
    wait: float | None,
) -> None:
    twilio, base = twilio_api
    twilio.fail_next(status, code=code, message=message, retry_after=retry_after)
    with pytest.raises(SendFailed) as error:
        await connector.send(twilio_config(base), reply("Hi"))
    assert (error.value.retryable, error.value.retry_after) == (retryable, wait)
    assert error.value.reason.startswith(f"twilio: HTTP {status} ")
    assert f'"code":{code}' in error.value.reason.replace(" ", "")
    assert message in error.value.reason
    assert twilio.messages == []


async def test_wrong_credentials_fail_the_reply_for_good(twilio_api: Twilio) -> None:
    _, base = twilio_api
    config = twilio_config(base)
    config = type(config)(config.channel, {"auth_token": "not-the-token"})
    connector = SmsConnector()
    with pytest.raises(SendFailed, match=r"twilio: HTTP 401 .*Authenticate") as error:
        await connector.send(config, reply("Hi"))
    assert error.value.retryable is False
    await connector.close()


async def test_an_unreachable_twilio_is_retried(connector: SmsConnector) -> None:
    with pytest.raises(SendFailed, match="twilio: cannot connect") as error:
        await connector.send(twilio_config("http://127.0.0.1:9"), reply("Hi"))
    assert error.value.retryable is True


# --- inbound SMS ---------------------------------------------------------------------------


async def test_an_inbound_sms_becomes_a_message_from_the_senders_phone_answered_with_empty_twiml(
    connector: SmsConnector,
) -> None:
    twilio = TwilioLike()
    call = twilio.inbound(
        WEBHOOK_URL, From="+79161234567", Body="Здравствуйте, где мой заказ?", MessageSid="SM" + "a" * 32
    )
    result = await connector.webhook(twilio_config("http://unused"), call.request())
    assert result == WebhookResult(
        messages=(
            InboundMessage(
                channel_id=7,
                sender=Sender(phone="+79161234567"),
                body="Здравствуйте, где мой заказ?",
                external_id="SM" + "a" * 32,
                source=Source(dialled_number=NUMBER),
            ),
        ),
        reply_body=EMPTY_TWIML,
        reply_content_type="text/xml",
    )


async def test_a_replayed_inbound_sms_means_the_same_message(connector: SmsConnector) -> None:
    call = TwilioLike().inbound(WEBHOOK_URL, From="+79161234567", Body="Hi")
    first = await connector.webhook(twilio_config("http://unused"), call.request())
    again = await connector.webhook(twilio_config("http://unused"), call.request())
    assert first == again
    assert first.messages[0].external_id == "SM" + "1" * 32  # receive_message stores it once (see test_main_path)


async def test_an_mms_is_noted_rather_than_dropped(connector: SmsConnector) -> None:
    call = TwilioLike().inbound(WEBHOOK_URL, From="+79161234567", Body="", NumMedia="2")
    result = await connector.webhook(twilio_config("http://unused"), call.request())
    assert result.messages[0].body == "[2 MMS media file(s): not taken in by the SMS channel]"


def tampered(call: WebhookCall, **changes: str) -> WebhookCall:
    params = dict(parse_qsl(call.body.decode()))
    params.update(changes)
    return WebhookCall(call.url, urlencode(params).encode(), call.headers)


@pytest.mark.parametrize(
    "forge",
    [
        lambda twilio: twilio.signed(WEBHOOK_URL, {"From": "+79161234567", "Body": "x"}, token="another-token"),
        lambda twilio: twilio.inbound(WEBHOOK_URL.replace("/7/", "/8/"), From="+79161234567", Body="x"),
        lambda twilio: tampered(twilio.inbound(WEBHOOK_URL, From="+79161234567", Body="x"), Body="forged"),
        lambda twilio: WebhookCall(WEBHOOK_URL, b"From=%2B79161234567&Body=x", {}),
    ],
    ids=["other-token", "other-url", "tampered-body", "no-signature"],
)
async def test_a_webhook_without_twilios_signature_is_refused(connector: SmsConnector, forge: object) -> None:
    call = forge(TwilioLike())  # type: ignore[operator]
    with pytest.raises(WebhookRejected) as error:
        await connector.webhook(twilio_config("http://unused"), call.request())
    assert error.value.status == 401
    assert "X-Twilio-Signature does not match" in error.value.reason


async def test_the_signature_is_accepted_with_or_without_the_default_port(connector: SmsConnector) -> None:
    call = TwilioLike().inbound(WEBHOOK_URL.replace(".example/", ".example:443/"), From="+79161234567", Body="Hi")
    result = await connector.webhook(twilio_config("http://unused"), call.request())
    assert len(result.messages) == 1


async def test_a_signed_callback_for_another_account_is_refused(connector: SmsConnector) -> None:
    call = TwilioLike(account_sid="AC" + "9" * 32).inbound(WEBHOOK_URL, From="+79161234567", Body="Hi")
    with pytest.raises(WebhookRejected, match="another Twilio account") as error:
        await connector.webhook(twilio_config("http://unused"), call.request())
    assert error.value.status == 403


async def test_a_signed_but_malformed_inbound_sms_is_refused_with_400(connector: SmsConnector) -> None:
    twilio = TwilioLike()
    call = twilio.signed(WEBHOOK_URL, {"AccountSid": ACCOUNT_SID, "SmsStatus": "received", "Body": "no sender"})
    with pytest.raises(WebhookRejected, match="without MessageSid or From") as error:
        await connector.webhook(twilio_config("http://unused"), call.request())
    assert error.value.status == 400


async def test_a_get_is_refused_because_twilio_is_set_to_post(connector: SmsConnector) -> None:
    call = TwilioLike().inbound(WEBHOOK_URL, From="+79161234567", Body="Hi")
    request = WebhookCall(call.url, call.body, call.headers, method="GET").request()
    with pytest.raises(WebhookRejected) as error:
        await connector.webhook(twilio_config("http://unused"), request)
    assert error.value.status == 405


# --- status callbacks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "extra", "status", "error"),
    [
        ("queued", {}, DeliveryStatus.QUEUED, None),
        ("sent", {}, DeliveryStatus.SENT, None),
        ("delivered", {"RawDlrDoneDate": "2311221031"}, DeliveryStatus.DELIVERED, None),
        (
            "undelivered",
            {"ErrorCode": "30003"},
            DeliveryStatus.FAILED,
            "twilio: undelivered, error 30003 (unreachable destination handset)",
        ),
        ("failed", {"ErrorCode": "30008"}, DeliveryStatus.FAILED, "twilio: failed, error 30008 (unknown error)"),
    ],
)
async def test_status_callbacks_set_the_delivery_status_with_the_error_code_as_reason(
    connector: SmsConnector, value: str, extra: dict[str, str], status: DeliveryStatus, error: str | None
) -> None:
    call = TwilioLike().status_callback(WEBHOOK_URL, "SM" + "0" * 31 + "1", value, **extra)
    result = await connector.webhook(twilio_config("http://unused"), call.request())
    assert result == WebhookResult(statuses=(DeliveryUpdate(7, "SM" + "0" * 31 + "1", status, error),), reply_body=b"")


async def test_unknown_statuses_and_events_are_acknowledged_and_ignored(connector: SmsConnector) -> None:
    twilio = TwilioLike()
    unknown_status = twilio.status_callback(WEBHOOK_URL, "SM" + "2" * 32, "partially_delivered")
    unknown_event = twilio.signed(WEBHOOK_URL, {"AccountSid": ACCOUNT_SID, "EventType": "onDeliveryUpdated"})
    first = await connector.webhook(twilio_config("http://unused"), unknown_status.request())
    second = await connector.webhook(twilio_config("http://unused"), unknown_event.request())
    assert first == WebhookResult(ignored=("twilio: MessageStatus partially_delivered",), reply_body=b"")
    assert second == WebhookResult(ignored=("twilio: callback without Body or MessageStatus",), reply_body=b"")


# --- setting up and checking ---------------------------------------------------------------


async def test_connect_checks_the_credentials_and_points_the_number_at_the_webhook(
    twilio_api: Twilio, connector: SmsConnector
) -> None:
    twilio, base = twilio_api
    said = await connector.connect(twilio_config(base), "https://ignored.example/webhook")
    assert said == f"Twilio number {NUMBER} now posts incoming SMS to {WEBHOOK_URL}"
    assert twilio.number_settings == {"SmsUrl": WEBHOOK_URL, "SmsMethod": "POST"}
    assert [path for _, path in twilio.requests] == [
        f"/2010-04-01/Accounts/{ACCOUNT_SID}.json",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/PN{'fedcba9876543210' * 2}.json",
    ]


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({"account_sid": "AC123"}, {"auth_token": AUTH_TOKEN}, "settings.account_sid"),
        ({"from": None}, {"auth_token": AUTH_TOKEN}, "settings.from"),
        ({"from": "+7 916 123"}, {"auth_token": AUTH_TOKEN}, "settings.from"),
        ({"webhook_url": "ftp://x"}, {"auth_token": AUTH_TOKEN}, "settings.webhook_url"),
        ({"max_parts": 11}, {"auth_token": AUTH_TOKEN}, "settings.max_parts"),
        ({}, {}, "secrets.auth_token"),
        ({}, {"auth_token": AUTH_TOKEN, "api_id": "x"}, "secrets.api_id"),
        ({"provider": "nexmo"}, {"auth_token": AUTH_TOKEN}, "settings.provider"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    connector: SmsConnector, settings: dict[str, object], secrets: dict[str, str], field: str
) -> None:
    config = twilio_config("https://api.twilio.com", **settings)
    with pytest.raises(InvalidInput) as error:
        connector.check_settings(config.settings, secrets)
    assert error.value.field == field


def test_good_settings_pass(connector: SmsConnector) -> None:
    config = twilio_config("https://api.twilio.com", **{"from": "ShopRu"})
    connector.check_settings(config.settings, {"auth_token": AUTH_TOKEN})


@pytest.mark.parametrize(
    ("message", "field", "detail"),
    [
        (reply("x" * 1601), "body", "twilio sends at most 1600 characters in one message"),
        (
            reply("ж" * 671),
            "body",
            "11 SMS in UCS-2 (67 characters each); this channel sends at most 10 (670 characters",
        ),
        (reply("Hi", phone=None), "contact", "the contact has no phone number"),
        (
            reply("Hi", attachments=(OutboundFile(Attachment("a.pdf", "application/pdf", 10)),)),
            "attachments",
            "an SMS carries text only",
        ),
    ],
)
def test_replies_sms_cannot_carry_are_refused_before_they_are_stored(
    connector: SmsConnector, message: object, field: str, detail: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        connector.check_reply(twilio_config("https://api.twilio.com"), message, NOW)  # type: ignore[arg-type]
    assert error.value.field == field
    assert detail in error.value.detail


def test_a_reply_within_the_limits_passes(connector: SmsConnector) -> None:
    connector.check_reply(twilio_config("https://api.twilio.com"), reply("ж" * 670), NOW)  # type: ignore[arg-type]
    connector.check_reply(twilio_config("https://api.twilio.com"), reply("x" * 1530), NOW)  # type: ignore[arg-type]


def test_both_signature_computations_match_twilios_documented_example() -> None:
    """Twilio's security page: this URL and these parameters, token 12345, sign as 0/KCTR6DLpKmkAf8muzZqo1nDgQ=."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030"}
    params["To"] = "+18005551212"
    assert twilio_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert signature("12345", url, list(params.items())) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
