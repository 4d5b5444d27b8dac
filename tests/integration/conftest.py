"""Fixtures of the PostgreSQL integration tests: the HTTP API wired to the test database."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from notify.adapters.postgres import PostgresStore
from notify.bootstrap import Services, install
from notify.settings import Settings
from tests.fakes import FakePublisher
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
        install(services)
        return Api(services, chosen, pg_dsn)

    try:
        yield build
    finally:
        install(None)


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    return make_api()
