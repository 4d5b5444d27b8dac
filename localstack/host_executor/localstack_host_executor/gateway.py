"""LocalStack's own HTTP server (twisted), listening only where GATEWAY_LISTEN says (an
`on_infra_start` hook, run before the server binds).

The stack ran LocalStack's other server, hypercorn, because twisted binds every interface whatever
GATEWAY_LISTEN names (`localstack.runtime.server.twisted`: "TODO: interface = host?"), and a LocalStack
that runs Lambda functions as host processes must not answer the network. Hypercorn pays for that:
LocalStack closes every hypercorn connection after one response (`set_close_connection_header`, a
work-around for h11's keep-alive), so every SDK call opened a new TCP connection. Measured on the idle
stack, `send_raw_email` from 32 threads: 117-165/s on hypercorn, 179-233/s on twisted; a
20,000-recipient event went from ~80/s to ~108/s (issue 27).

The hook gives twisted's TCP endpoints the interface GATEWAY_LISTEN names for their port, in the order
it names them. `LOCALSTACK_GATEWAY_SERVER=hypercorn` (stack.sh) brings back the other server.

It also raises twisted's limits on a request's head (16 KiB for a line and for all headers) to
HEAD_LIMIT: over them twisted writes a 400 and closes the connection while the client is still
sending, so the client sees a reset and no answer at all (the fuzz suite's 64 KiB Authorization and
Idempotency-Key headers). Under HEAD_LIMIT the request reaches the API as on hypercorn, and the
function's request guard answers it.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger("localstack.plugins.gateway_listens_where_asked")
HEAD_LIMIT = 1 << 20  # bytes of request line and headers twisted reads before it gives up


class ListenWhereAsked:
    """Stands in for `twisted.internet.endpoints` in LocalStack's twisted server: its
    TCP4ServerEndpoint(reactor, port) binds the host GATEWAY_LISTEN gave that port, not every
    interface. Everything else is the module's own."""

    def __init__(self, endpoints: Any, listen: list[tuple[str, int]]) -> None:
        self._endpoints = endpoints
        self._hosts: dict[int, deque[str]] = defaultdict(deque)
        for host, port in listen:
            self._hosts[port].append(host)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._endpoints, name)

    def TCP4ServerEndpoint(self, reactor: Any, port: int, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - twisted's name
        if "interface" not in kwargs and len(args) < 2:
            hosts = self._hosts.get(port)
            if not hosts:  # a port GATEWAY_LISTEN does not name: refuse rather than bind everywhere
                raise ValueError(
                    f"twisted asked to listen on port {port}, which GATEWAY_LISTEN does not name"
                )
            kwargs["interface"] = hosts.popleft()
        return self._endpoints.TCP4ServerEndpoint(reactor, port, *args, **kwargs)


@hooks.on_infra_start()
def _gateway_listens_where_asked() -> None:
    from localstack import config

    if config.GATEWAY_SERVER != "twisted":
        return
    from localstack.runtime.server import twisted as server

    if isinstance(server.endpoints, ListenWhereAsked):
        return
    from twisted.web.http import HTTPChannel

    HTTPChannel.MAX_LENGTH = max(HTTPChannel.MAX_LENGTH, HEAD_LIMIT)
    HTTPChannel.totalHeadersSize = max(HTTPChannel.totalHeadersSize, HEAD_LIMIT)
    listen = [(entry.host, entry.port) for entry in config.GATEWAY_LISTEN]
    server.endpoints = ListenWhereAsked(server.endpoints, listen)
    LOG.info("twisted listens on %s only", ", ".join(f"{host}:{port}" for host, port in listen))
