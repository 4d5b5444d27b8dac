"""Unit-test fixtures: no network (sockets refuse to connect), AWS only through moto in process."""

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from notify import bootstrap
from notify.adapters.aws import forget_clients

_AWS_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SES",
    "AWS_ENDPOINT_URL_SNS",
    "AWS_PROFILE",
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open an IP connection fails the test that made it."""

    def refuse(sock: socket.socket, address: Any, *args: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"unit tests must not touch the network (connect to {address!r})")
        return real_connect(sock, address, *args)

    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture(autouse=True)
def no_installed_services() -> Iterator[None]:
    """Every test starts and ends without a composition installed."""
    bootstrap.install(None)
    yield
    bootstrap.install(None)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS with fake credentials and fresh boto3 clients."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    for name in _AWS_ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    forget_clients()
    with mock_aws():
        yield
    forget_clients()
