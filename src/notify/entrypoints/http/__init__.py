"""The HTTP API (API Gateway REST): the gated router in api.py, the access table and the request guard
that run before any handler, and one route module per capability."""

from notify.entrypoints.http.api import app, handle, logger

__all__ = ["app", "handle", "logger"]
