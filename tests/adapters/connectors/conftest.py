"""Shared by the connector tests: a file store in a temporary directory and channel configs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from switchboard.adapters.files import LocalFileStore
from switchboard.application.ports.connectors import ChannelConfig
from switchboard.domain.channels import Channel, ChannelKind

CHANNEL_ID = 7


@pytest.fixture
def files(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files")


def channel_config(kind: ChannelKind, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> ChannelConfig:
    return ChannelConfig(Channel(CHANNEL_ID, kind, f"{kind.value} channel", 1, settings=dict(settings)), dict(secrets))


def stored_bytes(files: LocalFileStore, url: str | None) -> bytes:
    """The bytes behind a file store URL (``file://…/<sha256>``)."""
    assert url is not None
    with files.open(url.rsplit("/", 1)[-1]) as handle:
        return handle.read()
