"""Notification service for an online cinema: events in, e-mail, SMS and push out. This package is
shipped to every function as the Lambda layer."""

import sys
from collections.abc import Callable, Mapping
from importlib import import_module


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
