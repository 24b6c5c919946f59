"""Configuration: ``SWITCHBOARD_*`` environment variables over an optional TOML file over defaults.

A bad value stops start-up with one line that names the variable and what is wrong (exit code 2).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_DB = "sqlite+aiosqlite:///var/switchboard.db"
INSECURE_DEV_KEY = "dev-insecure-secret-key-change-me-0123456789"


class ConfigError(Exception):
    """One line for the operator: the variable and what is wrong with it."""


class _TomlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is not None:
            try:
                table = tomllib.loads(path.read_text(encoding="utf-8")).get("switchboard", {})
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                raise ConfigError(f"SWITCHBOARD_CONFIG: cannot read {path}: {error}") from error
            if not isinstance(table, dict):
                raise ConfigError(f"SWITCHBOARD_CONFIG: in {path}, 'switchboard' must be a table ([switchboard])")
            self._data = table

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    database_url: str = DEFAULT_DB
    bus_url: str = "memory://"
    bus_namespace: str = "switchboard"
    secret_key: str = INSECURE_DEV_KEY
    default_region: str = "RU"
    body_limit_bytes: int = Field(default=1_048_576, ge=1024, le=104_857_600)
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    session_hours: int = Field(default=12, ge=1, le=720)
    cookie_secure: bool = False
    db_pool_size: int = Field(default=20, ge=1, le=200)
    custom_statuses: dict[str, Literal["out", "last"]] = Field(
        default_factory=dict, description='admin-defined statuses and their effect, e.g. {"training": "out"}'
    )
    smtp_port: int = Field(default=0, ge=0, le=65535)  # inbound SMTP for email channels; 0 = off
    smtp_host: str = "127.0.0.1"
    files_dir: str = "var/files"
    disconnect_grace_seconds: float = Field(default=60.0, ge=0, le=3600)  # 0: never sign out on disconnect
    routing: bool = True  # this process may lead routing (one leader at a time by a PostgreSQL lock)
    public_url: str = ""  # how providers reach us (webhooks); default: the URL the admin's request came in on
    delivery: bool = True  # this process sends replies through the channels' connectors
    mail: bool = True  # this process polls the channels' IMAP mailboxes (and serves SMTP when smtp_port is set)
    voice_sweep_seconds: float = Field(default=5.0, ge=0, le=3600)  # close calls the PBX forgot; 0 = off
    sip_secret: str | None = Field(default=None, min_length=16)  # shared with the SIP proxy (Kamailio); None = off
    agi_port: int = Field(default=0, ge=0, le=65535)  # FastAGI server for Asterisk; 0 = off
    agi_host: str = "127.0.0.1"
    ami_url: str = Field(
        default="", pattern=r"^(ami://[^:@/]+:[^@/]*@[^/:]+(:\d{1,5})?/?)?$"
    )  # ami://user:secret@host:port
    ami_recordings_url: str = ""  # where Asterisk's MixMonitor files are served (http(s)://…/); "" = not reported

    @field_validator("custom_statuses")
    @classmethod
    def _statuses(cls, value: dict[str, str]) -> dict[str, str]:
        builtin = {"available", "after_work", "break", "offline"}
        for name in value:
            if not 1 <= len(name.strip()) <= 40 or name in builtin:
                raise ValueError(f"status {name!r} must be 1 to 40 characters and not a built-in status")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("bus_url")
    @classmethod
    def _bus(cls, value: str) -> str:
        if not value.startswith(("memory://", "amqp://", "amqps://")):
            raise ValueError("must be memory:// or an amqp:// URL")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, value: str) -> str:
        if len(value) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        import phonenumbers

        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region code such as RU or US")
        return value.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get("SWITCHBOARD_CONFIG")
        toml = _TomlSource(settings_cls, Path(path) if path else None)
        return (init_settings, env_settings, toml)


def load_settings(**overrides: Any) -> Settings:
    """Settings or a ConfigError whose message is one line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = "SWITCHBOARD_" + str(first["loc"][0]).upper() if first["loc"] else "SWITCHBOARD_*"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None
