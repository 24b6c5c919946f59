"""Inbound fax from a T.37 gateway."""

from __future__ import annotations

import pytest

from switchboard.adapters.email.errors import MalformedFax
from switchboard.adapters.email.fax import FaxGateway, NumberSource, normalize_fax_number, recognise_fax
from switchboard.adapters.email.model import AttachmentLimits
from switchboard.adapters.email.parse import parse_message
from tests.adapters.email import mails

GATEWAY = FaxGateway(sender_domains=frozenset({"fax.example"}))


def test_fax_with_tiff_from_the_gateway_becomes_a_fax_with_the_sender_number() -> None:
    # Given a gateway mail from FAX=+74951234567@fax.example with a TIFF
    parsed = parse_message(mails.fax_mail(), limits=AttachmentLimits())
    # When recognised
    fax = recognise_fax(parsed, GATEWAY)
    # Then it is a fax from +74951234567 with the TIFF as its document
    assert fax is not None
    assert fax.fax_number == "+74951234567"
    assert fax.number_source is NumberSource.FROM_LOCAL
    assert fax.gateway_domain == "fax.example"
    assert [(d.name, d.content_type, d.data) for d in fax.documents] == [("fax.tif", "image/tiff", mails.TIFF_BYTES)]


def test_number_from_a_header_or_the_subject_when_the_sender_is_the_gateway_itself() -> None:
    by_header = parse_message(
        mails.fax_mail(sender="noreply@gw.fax.example", headers="X-Fax-Number: 8 (495) 765-43-21\n", subject="Fax"),
        limits=AttachmentLimits(),
    )
    fax = recognise_fax(by_header, GATEWAY)
    assert fax is not None
    assert (fax.fax_number, fax.number_source) == ("+74957654321", NumberSource.HEADER)

    by_subject = parse_message(
        mails.fax_mail(sender="noreply@fax.example", subject="Факс от +7 812 555-01-02, 2 стр."),
        limits=AttachmentLimits(),
    )
    fax = recognise_fax(by_subject, GATEWAY)
    assert fax is not None
    assert (fax.fax_number, fax.number_source) == ("+78125550102", NumberSource.SUBJECT)


def test_pdf_faxes_are_accepted_too() -> None:
    parsed = parse_message(
        mails.fax_mail(attachment=("fax.pdf", "application/pdf", mails.PDF_BYTES)), limits=AttachmentLimits()
    )
    fax = recognise_fax(parsed, GATEWAY)
    assert fax is not None
    assert [d.content_type for d in fax.documents] == ["application/pdf"]


def test_mail_not_from_a_gateway_is_not_a_fax() -> None:
    parsed = parse_message(mails.fax_mail(sender="FAX=+74951234567@elsewhere.example"), limits=AttachmentLimits())
    assert recognise_fax(parsed, GATEWAY) is None


def test_gateway_mail_without_a_document_or_number_is_a_clear_error() -> None:
    no_document = parse_message(
        mails.fax_mail(attachment=("note.txt", "text/plain", b"hello")), limits=AttachmentLimits()
    )
    with pytest.raises(MalformedFax, match="carries no TIFF or PDF document"):
        recognise_fax(no_document, GATEWAY)
    no_number = parse_message(mails.fax_mail(sender="noreply@fax.example", subject="Fax"), limits=AttachmentLimits())
    with pytest.raises(MalformedFax, match="names no recognisable sender fax number"):
        recognise_fax(no_number, GATEWAY)


def test_refused_fax_document_is_named_in_the_error() -> None:
    parsed = parse_message(mails.fax_mail(), limits=AttachmentLimits(max_bytes=10))
    with pytest.raises(MalformedFax, match=r"the fax document fax.tif was refused: 128 bytes exceeds"):
        recognise_fax(parsed, GATEWAY)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FAX=+74951234567", "+74951234567"),
        ("fax=74951234567", "+74951234567"),
        ("FAX=+74951234567/T33S=12", "+74951234567"),
        ("84951234567", "+74951234567"),
        ("noreply", None),
        ("+7123", None),
    ],
)
def test_normalize_fax_number(raw: str, expected: str | None) -> None:
    assert normalize_fax_number(raw, "RU") == expected
