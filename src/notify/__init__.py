"""Notification service for an online cinema: events in, e-mail, SMS and push out. This package is
shipped to every function as the Lambda layer."""

import sys
import threading
from collections.abc import Callable, Mapping
from functools import cached_property
from importlib import import_module
from typing import Any, Self, overload


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """A capability package's `__getattr__` (PEP 562): each public name is loaded from its module on
    first use and then kept in the package, so that a model or a port taken from a package loads
    none of its logic nor the libraries that logic needs."""

    def find(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        setattr(sys.modules[package], name, value)  # found directly from now on
        return value

    return find


class built_once[T](cached_property[T]):  # noqa: N801 - a decorator, named like cached_property
    """cached_property, built once even when threads first ask for it at the same time: a sender
    delivers messages at once (Settings.messages_at_once), and they must share one database pool and
    one provider client, not each build one. (functools.cached_property lost its lock in 3.12.) Once
    built, the value is an attribute of the instance and this is not called again."""

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, instance: object, owner: type[Any] | None = None) -> T | Self:
        if instance is None:
            return self
        with building_lock(instance):
            return super().__get__(instance, owner)


def building_lock(instance: object) -> threading.RLock:
    """The lock under which `instance`'s parts are built, made on first use (dict.setdefault is
    atomic). Reentrant: building one part (a repository) asks for another (the database)."""
    lock: threading.RLock = instance.__dict__.setdefault("_building", threading.RLock())
    return lock
