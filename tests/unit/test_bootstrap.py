"""The composition root: the storage ports use_store replaces are the ports marked as such, so a port
added on the database without the mark is caught here, not by a test that reaches a real database."""

from functools import cached_property

import pytest

from notify.bootstrap import Services, storage_ports
from notify.settings import Settings


def test_use_store_serves_every_storage_port_and_the_database_from_the_one_object() -> None:
    services = Services(Settings())
    store = object()

    services.use_store(store)

    ports = storage_ports(Services)
    assert {"database", "events", "outbox", "ledger", "api_keys", "suppressions", "topics"} <= set(ports)
    assert all(getattr(services, port) is store for port in ports)


def test_no_port_is_built_on_the_database_once_use_store_swapped_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every public port of Services, built after use_store: none may make a repository of its own."""
    services = Services(Settings())
    services.use_store(object())

    def no_repository(kind: type) -> object:
        raise AssertionError(f"{kind.__name__} was built on the database: mark its port @storage_port")

    monkeypatch.setattr(services, "_repository", no_repository)
    public = [name for name, value in vars(Services).items() if isinstance(value, cached_property)]
    built = {name: getattr(services, name) for name in public if not name.startswith("_")}

    assert set(storage_ports(Services)) < set(built)  # the rest are brokers, providers and policies
