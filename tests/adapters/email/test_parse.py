"""Parsing inbound mail: headers, charsets, bodies, quoted history, attachments, bounces, auto-replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from switchboard.adapters.email.errors import MalformedEmail
from switchboard.adapters.email.model import (
    Address,
    AttachmentLimits,
    CharsetProblem,
    DeliveryAction,
    RecipientStatus,
    RejectionReason,
)
from switchboard.adapters.email.parse import is_automatic, parse_dsn, parse_message, read_message
from switchboard.adapters.email.quoting import trim_quoted
from tests.adapters.email import mails

LIMITS = AttachmentLimits()


def test_koi8r_alternative_decodes_headers_and_both_bodies() -> None:
    # Given a Thunderbird-style multipart/alternative mail in KOI8-R
    raw = mails.koi8_alternative()
    # When it is parsed
    parsed = parse_message(raw, limits=LIMITS)
    # Then the RFC 2047 name and subject, the plain text and the HTML are all decoded
    assert parsed.from_ == Address("Иван Петров", "ivan@example.ru")
    assert parsed.to == (Address("Support", "support@desk.example"),)
    assert parsed.subject == "Заказ"
    assert parsed.message_id == "k1@example.ru"
    assert parsed.date == datetime(2024, 3, 4, 10, 15, tzinfo=timezone(timedelta(hours=3)))
    assert parsed.text == "Здравствуйте!\nНе пришёл заказ 123."
    assert parsed.html == "<p>Здравствуйте!</p><p>Не пришёл заказ 123.</p>"
    assert parsed.visible_text == parsed.text
    assert parsed.charset_problems == ()
    assert parsed.attachments == ()
    assert parsed.is_automatic is False


def test_windows1251_base64_with_split_encoded_words_and_several_recipients() -> None:
    parsed = parse_message(mails.cp1251_base64(), limits=LIMITS)
    assert parsed.from_ == Address("Мария Сидорова", "maria@romashka.example")
    assert parsed.to == (Address("", "support@desk.example"), Address("Отдел продаж", "sales@desk.example"))
    assert parsed.cc == (Address("", "boss@romashka.example"),)
    assert parsed.subject == "Счёт на оплату (invoice)"
    assert parsed.text == "Добрый день!\nПрошу выставить счёт № 45 на ООО «Ромашка»."
    assert parsed.html is None
    assert parsed.date == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


def test_html_only_message_is_sanitized_and_converted_to_text() -> None:
    # Given an HTML-only mail with scripts, a style block, event handlers, a javascript: link and a tracking pixel
    parsed = parse_message(mails.html_only_with_script(), limits=LIMITS)
    # Then the HTML keeps structure, links and inline (cid:) images, and nothing active or remote
    assert parsed.html == (
        "<p>Hello <b>team</b>,</p>"
        '<p>See <a href="https://shop.example/order/7" rel="noopener noreferrer nofollow">order 7</a> and '
        '<a rel="noopener noreferrer nofollow">this</a>.</p>'
        '<img height="1" width="1"><img src="cid:logo@shop.example" alt="logo">'
        "<ul><li>first</li><li>second</li></ul>"
    )
    # And the plain text is made from the HTML
    assert parsed.text == "Hello team,\n\nSee order 7 and this.\n\n- first\n- second"


def test_rfc2047_subject_in_utf8_q_encoding_with_plain_text_around() -> None:
    raw = mails.plain("Hi", headers="").replace(
        b"Subject: Re: Order 7", b"Subject: =?UTF-8?Q?=D0=97=D0=B0=D0=BA=D0=B0=D0=B7?= 7 =?utf-8?B?0LPQvtGC0L7Qsg==?="
    )
    assert parse_message(raw, limits=LIMITS).subject == "Заказ 7 готов"


@pytest.mark.parametrize(
    ("body", "visible"),
    [
        (mails.GMAIL_REPLY, "Thanks, the parcel arrived."),
        (mails.OUTLOOK_REPLY, "Please cancel the order.\n\nBest regards,\nAnn"),
        (mails.OUTLOOK_ORIGINAL_MESSAGE, "Yes, that works."),
        (mails.YANDEX_REPLY, "Спасибо, всё получил."),
        (mails.RUSSIAN_WROTE_REPLY, "Жду звонка."),
        (mails.MAILRU_REPLY, "Да, адрес верный."),
        (mails.INTERLEAVED_REPLY, "Size M.\n\nBlue."),
    ],
    ids=["gmail", "outlook-underscores", "outlook-original-message", "yandex", "napisal", "mailru", "interleaved"],
)
def test_quoted_history_is_trimmed_for_the_timeline_and_the_original_kept(body: str, visible: str) -> None:
    # Given a reply written by a common mail client
    parsed = parse_message(mails.plain(body), limits=LIMITS)
    # Then the timeline text holds only what was written this time
    assert parsed.visible_text == visible
    # And the full body is kept
    assert parsed.text == body.rstrip("\n")


def test_trimming_never_hides_the_whole_message() -> None:
    assert trim_quoted("> only a quote\n> nothing else\n") == "> only a quote\n> nothing else"


def test_forwarded_message_is_not_trimmed() -> None:
    text = "See below.\n\n---------- Forwarded message ---------\nFrom: Bob <bob@x.example>\n\nThe broken part is B7."
    assert trim_quoted(text) == text


def test_html_gmail_quote_is_trimmed_through_blockquote() -> None:
    html = (
        '<div dir="ltr">Thanks!</div><br><div class="gmail_quote"><div class="gmail_attr">'
        "On Mon, 4 Mar 2024 at 10:15, Support &lt;support@desk.example&gt; wrote:<br></div>"
        "<blockquote><div>Hello Ann</div></blockquote></div>"
    )
    raw = mails.crlf("From: ann@example.com\nSubject: Re: x\nContent-Type: text/html; charset=utf-8\n\n" + html + "\n")
    parsed = parse_message(raw, limits=LIMITS)
    assert parsed.visible_text == "Thanks!"
    assert parsed.text == "Thanks!\n\nOn Mon, 4 Mar 2024 at 10:15, Support <support@desk.example> wrote:\n\n> Hello Ann"


def test_threading_headers_are_read_without_angle_brackets() -> None:
    headers = "In-Reply-To: <out-2@desk.example>\nReferences: <out-1@desk.example>\n <out-2@desk.example>\n"
    parsed = parse_message(mails.plain("ok", headers=headers), limits=LIMITS)
    assert parsed.message_id == "reply-1@example.com"
    assert parsed.in_reply_to == "out-2@desk.example"
    assert parsed.references == ("out-1@desk.example", "out-2@desk.example")


# --- bad charsets and malformed input --------------------------------------------------------------


def test_unknown_charset_is_decoded_with_replacement_and_flagged() -> None:
    raw = mails.crlf("From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=x-klingon\n\n") + (
        "Привет".encode() + b"\xff\r\n"
    )
    parsed = parse_message(raw, limits=LIMITS)
    assert parsed.text == "Привет\ufffd"
    assert parsed.charset_problems == (CharsetProblem("text/plain", "x-klingon", "unknown charset, decoded as utf-8"),)


def test_bytes_invalid_for_the_declared_charset_are_replaced_and_flagged() -> None:
    raw = (
        mails.crlf("From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\n") + b"ok \xc3\x28\r\n"
    )
    parsed = parse_message(raw, limits=LIMITS)
    assert parsed.text == "ok \ufffd("
    assert parsed.charset_problems == (CharsetProblem("text/plain", "utf-8", "invalid bytes for the charset replaced"),)
    assert parsed.has_charset_problems is True


def test_raw_8bit_header_is_decoded_as_utf8() -> None:
    raw = "From: Ваня <v@example.com>\r\nSubject: Тема\r\n\r\nhi\r\n".encode()
    parsed = parse_message(raw, limits=LIMITS)
    assert parsed.subject == "Тема"
    assert parsed.from_ == Address("Ваня", "v@example.com")


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"", "the message is empty"),
        (b"just some words\r\nwithout headers\r\n", "the message has no sender address in From"),
        (b"Subject: no sender\r\n\r\nbody\r\n", "the message has no sender address in From"),
        (
            b"From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\nbody\r\n",
            "broken MIME structure in a multipart/mixed part: NoBoundaryInMultipart",
        ),
        (
            b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="zz"\r\n\r\nno parts at all\r\n',
            "broken MIME structure in a multipart/mixed part: StartBoundaryNotFound",
        ),
    ],
    ids=["empty", "no-headers", "no-from", "no-boundary", "boundary-never-found"],
)
def test_malformed_mime_is_a_clear_error(raw: bytes, detail: str) -> None:
    with pytest.raises(MalformedEmail) as caught:
        parse_message(raw, limits=LIMITS)
    assert str(caught.value) == detail


def test_unparseable_date_is_reported_as_a_defect_not_an_error() -> None:
    parsed = parse_message(mails.plain("x", headers="Date: someday soon\n"), limits=LIMITS)
    assert parsed.date is None
    assert parsed.defects == ("unparseable Date 'someday soon'",)


# --- attachments -----------------------------------------------------------------------------------


def test_attachments_within_limits_are_kept_with_name_type_and_bytes() -> None:
    pdf = b"%PDF-1.4 invoice"
    parsed = parse_message(
        mails.with_attachments([("счёт.pdf", "application/pdf", pdf), ("photo.jpg", "image/jpeg", b"\xff\xd8jpeg")]),
        limits=LIMITS,
    )
    assert [(a.name, a.content_type, a.size, a.data) for a in parsed.attachments] == [
        ("счёт.pdf", "application/pdf", len(pdf), pdf),
        ("photo.jpg", "image/jpeg", 6, b"\xff\xd8jpeg"),
    ]
    assert parsed.rejected_attachments == ()
    assert parsed.text == "Files attached."


def test_oversize_and_forbidden_attachments_are_listed_and_the_rest_kept() -> None:
    # Given a 1 KiB limit and a mail with a small PDF, a 2 KiB image, an .exe and an executable named .pdf
    limits = AttachmentLimits(max_bytes=1024)
    raw = mails.with_attachments(
        [
            ("ok.pdf", "application/pdf", b"%PDF-1.4 ok"),
            ("big.png", "image/png", b"\x89PNG" + b"\x00" * 2044),
            ("setup.exe", "application/octet-stream", b"MZ\x90\x00"),
            ("invoice.pdf", "application/pdf", b"MZ\x90\x00disguised"),
        ]
    )
    # When parsed
    parsed = parse_message(raw, limits=limits)
    # Then the message is kept, with the good file and a report of each refused one
    assert [a.name for a in parsed.attachments] == ["ok.pdf"]
    assert [(r.name, r.size, r.reason, r.detail) for r in parsed.rejected_attachments] == [
        ("big.png", 2048, RejectionReason.TOO_LARGE, "2048 bytes exceeds the limit of 1024 bytes"),
        ("setup.exe", 4, RejectionReason.FORBIDDEN_TYPE, "files of type .exe are not accepted"),
        ("invoice.pdf", 13, RejectionReason.FORBIDDEN_TYPE, "the file is a Windows executable"),
    ]


def test_total_size_count_and_allowed_types_limits() -> None:
    files = [(f"f{i}.txt", "text/plain", b"x" * 400) for i in range(4)] + [("a.zip", "application/zip", b"PK")]
    limits = AttachmentLimits(max_total_bytes=1000, max_count=3, allowed_content_types=frozenset({"text/plain"}))
    parsed = parse_message(mails.with_attachments(files), limits=limits)
    assert [a.name for a in parsed.attachments] == ["f0.txt", "f1.txt"]
    assert [(r.name, r.reason) for r in parsed.rejected_attachments] == [
        ("f2.txt", RejectionReason.TOTAL_TOO_LARGE),
        ("f3.txt", RejectionReason.TOTAL_TOO_LARGE),
        ("a.zip", RejectionReason.FORBIDDEN_TYPE),
    ]


def test_attachment_name_cannot_climb_out_of_a_directory() -> None:
    parsed = parse_message(mails.with_attachments([("../../etc/passwd", "text/plain", b"x")]), limits=LIMITS)
    assert [a.name for a in parsed.attachments] == ["passwd"]


# --- automatic mail (RFC 3834) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied\n", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: auto-generated; owner-email=x@y\n", "Auto-Submitted: auto-generated; owner-email=x@y"),
        ("Precedence: bulk\n", "Precedence: bulk"),
        ("Precedence: junk\n", "Precedence: junk"),
        ("X-Autoreply: yes\n", "X-Autoreply present"),
        ("X-Autorespond: Out of office\n", "X-Autorespond present"),
        ("List-Id: <news.shop.example>\n", "List-Id present (mailing list)"),
        ("Return-Path: <>\n", "empty Return-Path (bounce)"),
    ],
)
def test_automatic_mail_is_recognised(headers: str, reason: str) -> None:
    parsed = parse_message(mails.plain("I am away until Monday.", headers=headers), limits=LIMITS)
    assert parsed.automatic_reason == reason
    assert parsed.is_automatic is True


def test_mail_from_a_person_is_not_automatic_even_with_auto_submitted_no() -> None:
    raw = mails.plain("Hello", headers="Auto-Submitted: no\nPrecedence: first-class\n")
    assert parse_message(raw, limits=LIMITS).automatic_reason is None
    assert is_automatic(read_message(raw)) is False


def test_mailer_daemon_and_empty_envelope_sender_are_automatic() -> None:
    assert parse_message(mails.plain("x", sender="MAILER-DAEMON@mx.example"), limits=LIMITS).automatic_reason == (
        "sent by MAILER-DAEMON@mx.example"
    )
    assert parse_message(mails.plain("x"), limits=LIMITS, envelope_from="").automatic_reason == (
        "empty envelope sender (bounce)"
    )


# --- delivery status notifications (RFC 3464) -------------------------------------------------------


def test_dsn_bounce_names_the_original_message_and_each_recipient() -> None:
    # Given a Postfix bounce of our message <out-1@desk.example>
    parsed = parse_message(mails.dsn(), limits=LIMITS)
    # Then it is automatic and carries the report
    assert parsed.automatic_reason == "Auto-Submitted: auto-replied"
    report = parsed.delivery_report
    assert report is not None
    assert report.original_message_id == "out-1@desk.example"
    assert report.envelope_id == "env-77"
    assert report.reporting_mta == "mx.desk.example"
    assert report.recipients == (
        RecipientStatus(
            recipient="nobody@customer.example",
            action=DeliveryAction.FAILED,
            status="5.1.1",
            diagnostic="550 5.1.1 <nobody@customer.example>: Recipient address rejected: User unknown",
        ),
    )
    assert report.action is DeliveryAction.FAILED


def test_dsn_with_returned_headers_only_and_a_delay() -> None:
    report = parse_dsn(read_message(mails.dsn(original="headers", action="delayed", status="4.4.1")))
    assert report is not None
    assert report.original_message_id == "out-1@desk.example"
    assert report.action is DeliveryAction.DELAYED
    assert report.recipients[0].status == "4.4.1"


def test_dsn_for_an_unknown_message_says_so() -> None:
    report = parse_dsn(read_message(mails.dsn(original="none")))
    assert report is not None
    assert report.original_message_id is None


def test_ordinary_mail_is_not_a_dsn() -> None:
    assert parse_dsn(read_message(mails.plain("hi"))) is None


def test_dsn_without_per_recipient_fields_is_malformed() -> None:
    raw = (
        mails.dsn()
        .replace(b"Final-Recipient: rfc822; nobody@customer.example\r\n", b"")
        .replace(b"Original-Recipient: rfc822;nobody@customer.example\r\n", b"")
    )
    with pytest.raises(MalformedEmail) as caught:
        parse_message(raw, limits=LIMITS)
    assert str(caught.value) == "delivery status notification names no Final-Recipient"


def test_encoded_word_in_an_unknown_charset_is_flagged() -> None:
    raw = mails.plain("x").replace(b"Subject: Re: Order 7", b"Subject: =?x-martian?Q?Hello?= there")
    parsed = parse_message(raw, limits=LIMITS)
    assert parsed.subject == "Hello there"
    assert parsed.charset_problems == (
        CharsetProblem("header Subject", "x-martian", "unknown charset, decoded as utf-8"),
    )
