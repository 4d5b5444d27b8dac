"""Whether a provider request was written out in full before its connection closed.

A connection that closes before any answer reaches botocore as one `ConnectionClosedError`, whatever
happened: the provider may have read the whole request and then dropped the connection (it may have
sent the message), or the write itself failed on a connection the provider had already closed (it
cannot have). urllib3 swallows the failed write and reports the read that follows, so the inner error
(RemoteDisconnected, ConnectionResetError) says nothing about which; tried on a loopback server, both
cases raise both.

So the provider connections record, per thread, whether the last request left this process in full:
- not written in full: nothing reached the provider, trying again cannot send twice;
- written in full: the provider may have it, the recipient is `unconfirmed`.

The residual case is a request handed to the kernel on a connection the provider closed an instant
before (after urllib3's check for a dropped pooled connection): it counts as written, so it is
recorded `unconfirmed` rather than risking a second send.
"""

import threading
from typing import Any

from botocore.awsrequest import (
    AWSHTTPConnection,
    AWSHTTPConnectionPool,
    AWSHTTPSConnection,
    AWSHTTPSConnectionPool,
)

_wire = threading.local()


def _forget_last_request(**_: Any) -> None:
    # botocore's before-send: a new call begins. A connection that fails before `request()` (a TLS
    # handshake reset on a new connection) must not inherit the previous call's flag.
    _wire.written = False


def request_written() -> bool:
    """Whether this thread's last provider request was written in full (True when not tracked)."""
    return bool(getattr(_wire, "written", True))


class _Tracked:
    def request(self, *args: Any, **kwargs: Any) -> Any:
        # The flag was cleared by botocore's before-send, for this call (see track_writes).
        result = super().request(*args, **kwargs)  # type: ignore[misc]
        # Reached only when every write succeeded: urllib3 swallows a write that failed with EPIPE
        # or ECONNRESET, but it is raised through here first, so the flag stays False.
        _wire.written = True
        return result


class _TrackedHTTPConnection(_Tracked, AWSHTTPConnection):  # type: ignore[misc]  # botocore's own bases disagree
    pass


class _TrackedHTTPSConnection(_Tracked, AWSHTTPSConnection):  # type: ignore[misc]
    pass


class _TrackedHTTPPool(AWSHTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(AWSHTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


_TRACKED_POOLS = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}


def track_writes(client: Any) -> Any:
    """Make a boto3 client's connections record whether each request was written in full.

    botocore offers no public hook for its connection class, so this replaces the pool classes of the
    client's HTTP session. When botocore's internals differ, nothing is replaced and
    `request_written` stays True: every closed connection then counts as `unconfirmed`, never as
    safe to retry."""
    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    manager = getattr(session, "_manager", None)
    if session is None or manager is None or not hasattr(session, "_pool_classes_by_scheme"):
        return client
    session._pool_classes_by_scheme = _TRACKED_POOLS
    manager.pool_classes_by_scheme = _TRACKED_POOLS
    client.meta.events.register("before-send", _forget_last_request)
    return client
