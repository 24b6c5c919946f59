"""Reading an SMS channel's settings: each bad value refused with the field the API shows (``settings.port``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from switchboard.application.errors import InvalidInput

PROVIDERS = ("twilio", "smsru", "smpp")
DEFAULT_MAX_PARTS = 10


def provider_of(settings: Mapping[str, Any]) -> str:
    provider = settings.get("provider")
    if provider not in PROVIDERS:
        raise InvalidInput(f"provider must be one of: {', '.join(PROVIDERS)}", field="settings.provider")
    return str(provider)


def text(
    settings: Mapping[str, Any],
    name: str,
    *,
    default: str | None = None,
    pattern: str | None = None,
    hint: str = "",
    max_length: int = 255,
) -> str:
    """A string setting; required when it has no default."""
    value = settings.get(name, default)
    if value is None:
        raise InvalidInput(f"{name} is required", field=f"settings.{name}")
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidInput(f"{name} must be a string of at most {max_length} characters", field=f"settings.{name}")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise InvalidInput(f"{name} {value!r} is not valid{': ' + hint if hint else ''}", field=f"settings.{name}")
    return value


def optional_text(settings: Mapping[str, Any], name: str, **kwargs: Any) -> str | None:
    return text(settings, name, **kwargs) if settings.get(name) is not None else None


def number(
    settings: Mapping[str, Any], name: str, default: float, *, low: float, high: float, whole: bool = False
) -> float:
    value = settings.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise InvalidInput(f"{name} must be {kind} from {low:g} to {high:g}", field=f"settings.{name}")
    if whole and value != int(value):
        raise InvalidInput(f"{name} must be a whole number", field=f"settings.{name}")
    return float(value)


def whole(settings: Mapping[str, Any], name: str, default: int, *, low: int, high: int) -> int:
    return int(number(settings, name, default, low=low, high=high, whole=True))


def flag(settings: Mapping[str, Any], name: str, default: bool) -> bool:
    value = settings.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false", field=f"settings.{name}")
    return value


def url(settings: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = text(settings, name, default=default, max_length=2000)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"{name} must be an http(s) URL", field=f"settings.{name}")
    return value.rstrip("/") if name == "base_url" else value


def secret(secrets: Mapping[str, str], name: str) -> str:
    value = secrets.get(name)
    if not value:
        raise InvalidInput(f"the secret {name} is required", field=f"secrets.{name}")
    return value


def max_parts(settings: Mapping[str, Any], ceiling: int) -> int:
    """How many SMS one reply may take on this channel (a cost guard; the provider's own limit is the ceiling)."""
    return whole(settings, "max_parts", min(DEFAULT_MAX_PARTS, ceiling), low=1, high=ceiling)
