"""Where the real services are, and the CI rule: a missing service fails the run instead of skipping."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

PG_ADMIN_URL = os.environ.get("SWITCHBOARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
AMQP_URL = os.environ.get("SWITCHBOARD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1.0):
            return True
    except OSError:
        return False


def require(url: str, default_port: int, what: str) -> None:
    if reachable(url, default_port):
        return
    message = f"{what} is not reachable at {urlsplit(url).hostname}:{urlsplit(url).port or default_port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)
