"""An SMPP channel's settings, read once into a value the session keeps (the password comes from the secrets)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.adapters.connectors.sms import settings as read
from switchboard.adapters.connectors.sms.encoding import MAX_PARTS
from switchboard.application.errors import InvalidInput

TON_INTERNATIONAL, TON_ALPHANUMERIC = 1, 5
NPI_ISDN, NPI_UNKNOWN = 1, 0


@dataclass(frozen=True, slots=True)
class SmppSettings:
    host: str
    port: int
    system_id: str
    password: str = field(repr=False)
    source_addr: str
    source_ton: int
    source_npi: int
    system_type: str = ""
    registered_delivery: bool = True
    enquire_link_interval: float = 30.0  # seconds of silence before we ask whether the link is alive
    response_timeout: float = 10.0  # seconds the SMSC has to answer any request
    bind_wait: float = 5.0  # seconds a submit waits for the session to (re)bind before failing retryably
    window: int = 10  # requests outstanding at once
    submit_rate: float = 0.0  # submit_sm per second; 0 = as fast as the window allows
    throttle_pause: float = 1.0  # seconds to wait after ESME_RTHROTTLED before submitting that part again
    throttle_retries: int = 3
    reconnect_min: float = 1.0  # backoff after a drop: doubles from min to max, back to min once bound
    reconnect_max: float = 60.0
    max_parts: int = 10
    part_timeout: float = 300.0  # seconds to wait for the missing parts of a long inbound SMS
    national_region: str = "RU"  # how to read a sender's number the SMSC gives in national form


def smpp_settings(settings: Mapping[str, Any], secrets: Mapping[str, str]) -> SmppSettings:
    """Read and check the settings; ``InvalidInput`` names the first bad field."""
    source = read.text(settings, "source_addr", max_length=20)
    alphanumeric = not re.fullmatch(r"\+?\d+", source)
    return SmppSettings(
        host=read.text(settings, "host", pattern=r"[A-Za-z0-9.:\-\[\]]+", hint="a host name or address"),
        port=read.whole(settings, "port", 2775, low=1, high=65535),
        system_id=read.text(settings, "system_id", max_length=15),
        password=_password(secrets),
        system_type=read.text(settings, "system_type", default="", max_length=12),
        source_addr=source.lstrip("+"),
        source_ton=read.whole(
            settings, "source_addr_ton", TON_ALPHANUMERIC if alphanumeric else TON_INTERNATIONAL, low=0, high=6
        ),
        source_npi=read.whole(settings, "source_addr_npi", NPI_UNKNOWN if alphanumeric else NPI_ISDN, low=0, high=18),
        registered_delivery=read.flag(settings, "registered_delivery", True),
        enquire_link_interval=read.number(settings, "enquire_link_interval", 30, low=0.05, high=3600),
        response_timeout=read.number(settings, "response_timeout", 10, low=0.05, high=300),
        bind_wait=read.number(settings, "bind_wait", 5, low=0, high=300),
        window=read.whole(settings, "window", 10, low=1, high=1000),
        submit_rate=read.number(settings, "submit_rate", 0, low=0, high=10000),
        throttle_pause=read.number(settings, "throttle_pause", 1, low=0, high=600),
        throttle_retries=read.whole(settings, "throttle_retries", 3, low=0, high=100),
        reconnect_min=read.number(settings, "reconnect_min", 1, low=0.01, high=3600),
        reconnect_max=read.number(settings, "reconnect_max", 60, low=0.01, high=3600),
        max_parts=read.max_parts(settings, MAX_PARTS),
        part_timeout=read.number(settings, "part_timeout", 300, low=0.05, high=86400),
        national_region=read.text(settings, "national_region", default="RU", pattern=r"[A-Z]{2}", hint="ISO 3166"),
    )


def _password(secrets: Mapping[str, str]) -> str:
    password = read.secret(secrets, "password")
    if len(password.encode("latin-1", errors="replace")) > 8:
        raise InvalidInput("an SMPP 3.4 password is at most 8 characters", field="secrets.password")
    return password
