"""The email connector: inbound SMTP and IMAP, outbound SMTP, parsing, threading and fax-over-email.

Modules by concept:

- ``model``: the values the connector hands out (``ParsedEmail``, ``DeliveryReport`` …).
- ``parse``: raw RFC 5322 bytes → ``ParsedEmail``; ``is_automatic`` (RFC 3834); ``parse_dsn`` (RFC 3464).
- ``threads``: signed reply tokens in plus-addresses and the ``ThreadHint`` an inbound mail carries.
- ``compose``: outgoing replies and faxes as ``email.message.EmailMessage``.
- ``fax``: recognising T.37 (RFC 3965) gateway mail.
- ``files``: a content-addressed file store on a local directory.
- ``smtp_server`` / ``smtp_client`` / ``imap_poller``: the network edges.
"""
