"""Fixtures for the contract suites: one ``bus`` per backend, each test in its own namespace."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from switchboard.adapters.bus import InMemoryBus, RabbitMQBus
from tests.support.services import AMQP_URL, require

RUN_ID = uuid.uuid4().hex[:8]

AnyBus = InMemoryBus | RabbitMQBus


def unique_namespace() -> str:
    return f"sbtest.{RUN_ID}.{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """The test broker's URL; skips without RabbitMQ, except in CI where that is a failure."""
    require(AMQP_URL, 5672, "RabbitMQ")
    return AMQP_URL


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[AnyBus]:
    """A started bus in a fresh namespace; RabbitMQ objects it declared are deleted afterwards."""
    namespace = unique_namespace()
    created: AnyBus
    if request.param == "memory":
        created = InMemoryBus(namespace=namespace)
    else:
        url = request.getfixturevalue("amqp_url")
        created = RabbitMQBus(url, namespace=namespace, publish_timeout=2.0, reconnect_interval=0.5)
    await created.start()
    try:
        yield created
    finally:
        if isinstance(created, RabbitMQBus):
            await created.delete_namespace()
        await created.close()
