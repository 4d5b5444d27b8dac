"""The composition root: the storage ports use_store replaces are the ports marked as such, so a port
added on the database without the mark is caught here, not by a test that reaches a real database."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

import pytest

from notify import built_once
from notify.bootstrap import Services, storage_ports
from notify.channels import Channel
from notify.settings import Settings


def test_use_store_serves_every_storage_port_and_the_database_from_the_one_object() -> None:
    services = Services(Settings())
    store = object()

    services.use_store(store)

    ports = storage_ports(Services)
    assert {"database", "events", "outbox", "ledger", "api_keys", "suppressions", "topics"} <= set(ports)
    assert all(getattr(services, port) is store for port in ports)


def parts_of(kind: type) -> dict[str, object]:
    """What the class and its bases (the platform) define, the class's own first."""
    return {name: value for klass in reversed(kind.__mro__) for name, value in vars(klass).items()}


def test_no_port_is_built_on_the_database_once_use_store_swapped_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every public port of Services, built after use_store: none may make a repository of its own."""
    services = Services(Settings())
    services.use_store(object())

    def no_repository(kind: type) -> object:
        raise AssertionError(f"{kind.__name__} was built on the database: mark its port @storage_port")

    monkeypatch.setattr(services, "_repository", no_repository)
    public = [name for name, value in parts_of(Services).items() if isinstance(value, cached_property)]
    built = {name: getattr(services, name) for name in public if not name.startswith("_")}

    assert set(storage_ports(Services)) < set(built)  # the rest are brokers, providers and policies


def test_every_part_of_services_is_built_once_under_its_lock() -> None:
    """A sender delivers messages at once: a part they both ask for first must not be built twice (two
    database pools, two provider clients). A plain cached_property has no lock since Python 3.12."""
    parts = {name: value for name, value in parts_of(Services).items() if isinstance(value, cached_property)}

    assert {"database", "ledger", "send_pools", "provider_connection", "renderer"} <= set(parts)
    assert [name for name, value in parts.items() if not isinstance(value, built_once)] == []


def test_a_part_asked_for_by_threads_at_once_is_built_once() -> None:
    builds: list[int] = []
    everyone_asks = threading.Barrier(8)

    class Slow(Services):
        @built_once
        def part(self) -> object:
            builds.append(1)
            time.sleep(0.05)  # long enough for every other thread to ask meanwhile
            return object()

    services = Slow(Settings())

    def ask(_: int) -> object:
        everyone_asks.wait(timeout=5)
        return services.part

    with ThreadPoolExecutor(8) as pool:
        answers = set(map(id, pool.map(ask, range(8))))

    assert len(builds) == 1
    assert len(answers) == 1


def test_the_sender_of_a_channel_is_built_once_when_threads_ask_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = Services(Settings())
    built: list[Channel] = []

    def slow_build(channel: Channel) -> object:
        built.append(channel)
        time.sleep(0.05)
        return object()

    monkeypatch.setattr(services, "_build_sender", slow_build)
    with ThreadPoolExecutor(4) as pool:
        answers = set(map(id, pool.map(lambda _: services.sender(Channel.EMAIL), range(4))))

    assert built == [Channel.EMAIL]
    assert len(answers) == 1
