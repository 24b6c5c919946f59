"""The web chat's pure rules: widget settings, a visit's source, file checks, the flood and typing limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.domain.errors import DomainError
from switchboard.domain.webchat import (
    FileRefused,
    InvalidWidgetSettings,
    PrechatField,
    Throttle,
    TokenBucket,
    WidgetSettings,
    check_client_id,
    check_file,
    check_rating,
    safe_file_name,
    visit_source,
    widget_settings,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00"


def test_defaults_ask_name_and_email_with_consent() -> None:
    settings = widget_settings({})
    assert settings.prechat_fields == (PrechatField("name", False), PrechatField("email", False))
    assert settings.consent_required and settings.offline_requires_contact
    assert settings.origin_allowed("https://anything.example")


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"colour": "red"}, "settings.colour"),
        ({"prechat": {"fields": "email"}}, "settings.prechat.fields"),
        ({"prechat": {"fields": [{"name": "age"}]}}, "settings.prechat.fields.0.name"),
        ({"prechat": {"fields": [{"name": "email"}, {"name": "email"}]}}, "settings.prechat.fields.1.name"),
        ({"prechat": {"fields": [{"name": "email", "required": "yes"}]}}, "settings.prechat.fields.0.required"),
        ({"files": {"max_bytes": 0}}, "settings.files.max_bytes"),
        ({"files": {"types": ["image/svg+xml"]}}, "settings.files.types"),
        ({"files": {"types": ["not a type"]}}, "settings.files.types"),
        ({"rate": {"frames_per_second": 1000}}, "settings.rate.frames_per_second"),
        ({"allowed_origins": ["shop.example"]}, "settings.allowed_origins"),
        ({"offline": {"requires_contact": 1}}, "settings.offline.requires_contact"),
    ],
)
def test_bad_settings_name_their_field(settings: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidWidgetSettings) as error:
        widget_settings(settings)
    assert error.value.field == field


def test_allowed_origins_are_compared_without_case_or_trailing_slash() -> None:
    settings = widget_settings({"allowed_origins": ["https://Shop.example/"]})
    assert settings.origin_allowed("https://shop.example")
    assert not settings.origin_allowed("https://evil.example")
    assert settings.origin_allowed(None)  # not a browser embed (a server or a test client)


def test_source_takes_utm_from_the_page_and_explicit_tags_win() -> None:
    source = visit_source(
        "https://shop.example/?utm_source=google&utm_medium=cpc&x=1",
        "https://ya.ru/",
        {"utm_source": "yandex", "utm_campaign": "spring", "evil": "x"},
    )
    assert (source.utm_source, source.utm_medium, source.utm_campaign) == ("yandex", "cpc", "spring")
    assert source.referrer == "https://ya.ru/"
    assert source.landing_page == "https://shop.example/?utm_source=google&utm_medium=cpc&x=1"


def test_source_keeps_only_web_addresses_and_cuts_long_values() -> None:
    source = visit_source("javascript:alert(1)", "data:text/html,hi", {"utm_term": "t" * 500})
    assert (source.landing_page, source.referrer) == (None, None)
    assert source.utm_term == "t" * 200


@pytest.mark.parametrize(
    ("content_type", "head", "size", "status"),
    [
        ("image/png", PNG, 10, None),
        ("IMAGE/PNG; charset=binary", PNG, 10, None),
        ("image/png", b"MZ\x90\x00", 10, 415),
        ("text/html", b"<html>", 10, 415),
        ("application/x-msdownload", b"MZ", 10, 415),
        ("image/png", PNG, 1001, 413),
        ("text/plain", b"a\x00b", 10, 415),
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBP", 10, None),
    ],
)
def test_files_are_checked_by_size_type_and_content(content_type: str, head: bytes, size: int, status: int) -> None:
    if status is None:
        assert check_file(WidgetSettings(), content_type, size, head, 1000) == content_type.split(";")[0].lower()
        return
    with pytest.raises(FileRefused) as refused:
        check_file(WidgetSettings(), content_type, size, head, 1000)
    assert (refused.value.status, refused.value.field) == (status, "file")


def test_file_names_lose_paths_and_control_characters() -> None:
    assert safe_file_name("C:\\Users\\me\\..\\report\x07.pdf") == "report.pdf"
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("") == "file"


@pytest.mark.parametrize("client_id", ["short", "has space here", "x" * 65, 12345678, None])
def test_bad_client_ids_are_refused(client_id: object) -> None:
    with pytest.raises(DomainError) as error:
        check_client_id(client_id)
    assert error.value.field == "client_id"


@pytest.mark.parametrize(
    ("score", "comment"), [(0, None), (6, None), (True, None), ("5", None), (5, 7), (5, "x" * 2001)]
)
def test_bad_ratings_are_refused(score: object, comment: object) -> None:
    with pytest.raises(DomainError):
        check_rating(score, comment)


def test_a_rating_keeps_a_trimmed_comment() -> None:
    assert check_rating(5, "  Спасибо!  ") == (5, "Спасибо!")
    assert check_rating(1, None) == (1, "")


@given(
    rate=st.integers(1, 50),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 2, allow_nan=False), min_size=1, max_size=300),
)
def test_the_bucket_never_lets_more_than_burst_plus_what_the_rate_refilled(
    rate: int, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(float(rate), burst)
    now, taken = 100.0, 0
    for gap in gaps:
        now += gap
        taken += bucket.take(now)
    assert taken <= burst + rate * (now - 100.0) + 1e-9


def test_a_steady_sender_within_the_rate_is_never_refused() -> None:
    bucket = TokenBucket(5.0, 20)
    assert all(bucket.take(i * 0.25) for i in range(1000))


def test_the_throttle_lets_a_key_through_once_per_interval() -> None:
    throttle = Throttle(2.0)
    assert [throttle.allow("v", t) for t in (0.0, 1.0, 1.99, 2.0, 2.5)] == [True, False, False, True, False]
    assert throttle.allow("other", 1.0)
