"""Fixtures of the PostgreSQL integration tests: the HTTP API wired to the test database."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from notify.access.keys import issue_key
from notify.adapters.postgres import PostgresStore
from notify.bootstrap import Services, install
from notify.settings import Settings
from notify_dev.scratch import amqp_channel
from tests.fakes import FakeDeadLetters, FakePublisher
from tests.integration.support import ApiClient


class Api(ApiClient):
    """The API with the services it runs on, for looking behind the answers."""

    def __init__(self, services: Services, publisher: FakePublisher, dsn: str) -> None:
        self.services = services
        self.publisher = publisher
        self.dsn = dsn


MakeApi = Callable[..., Api]


@pytest.fixture
def make_api(pg_dsn: str, store: PostgresStore) -> Iterator[MakeApi]:
    """Install services on the test database and a FakePublisher; uninstall afterwards.

    make_api(publisher=FakePublisher(down=True), message_chunk_size=3) changes either.
    """

    def build(publisher: FakePublisher | None = None, **settings: Any) -> Api:
        services = Services(Settings(database_url=pg_dsn, **settings))
        services.use_store(store)
        chosen = publisher if publisher is not None else FakePublisher()
        services.publisher = chosen
        services.dead_letters = FakeDeadLetters()
        install(services)
        api = Api(services, chosen, pg_dsn)
        api.api_key = issue_key("tests", ["admin"], None, now=datetime.now(UTC), keys=store).key
        return api

    try:
        yield build
    finally:
        install(None)


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    return make_api()


@pytest.fixture
def amqp() -> Iterator[Any]:
    """A plain blocking channel on the local RabbitMQ, for looking into queues."""
    with amqp_channel() as channel:
        yield channel
