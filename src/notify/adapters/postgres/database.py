"""The connection pool, each thread's writer connection, the schema and helpers shared by the repositories."""

import atexit
import json
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from notify.adapters.postgres.migrations import apply_migrations, check_schema, missing_migrations
from notify.errors import StorageUnavailable
from notify.events import DirectoryMovie

if TYPE_CHECKING:
    from notify.workflows import WorkflowDefinition

# Queue messages are written to fit this (SQS takes 262,144 bytes; room is left for the request).
DEFAULT_MAX_MESSAGE_BYTES = 240_000


# User ids travel as one comma-joined string split by the server: a 100,000-element list
# parameter costs psycopg far more to send than the statement takes to run. UUID text never
# contains a comma; joined_ids checks that the split gives back the list.
REQUESTED_IDS = "unnest(string_to_array(%(user_ids)s, ','))"


def joined_ids(user_ids: Sequence[str]) -> str:
    """The ids as one comma-separated string, for `REQUESTED_IDS`."""
    joined = ",".join(map(str, user_ids))
    if user_ids and (
        joined.count(",") != len(user_ids) - 1
        or ",," in joined
        or joined.startswith(",")
        or joined.endswith(",")
        or not joined
    ):
        raise ValueError("user ids must be UUID text: not empty, without commas")
    return joined


# A connection that sat idle may have been closed by the server or a proxy: it is checked
# before it is lent out. One in steady use is not (that would cost a round trip per
# statement): if it died meanwhile, the statement fails at once and the caller's retry gets
# a new connection, instead of the pool backing off for seconds between checks.
IDLE_BEFORE_CHECK_S = 5.0


returned_at: "weakref.WeakKeyDictionary[psycopg.Connection[Any], float]" = weakref.WeakKeyDictionary()


def note_returned(conn: psycopg.Connection[Any]) -> None:
    returned_at[conn] = time.monotonic()


def check_if_idle(conn: psycopg.Connection[Any]) -> None:
    if time.monotonic() - returned_at.get(conn, 0.0) > IDLE_BEFORE_CHECK_S:
        ConnectionPool.check_connection(conn)


class WriterConnections:
    """One connection per thread, outside the pool, for the statements of a delivery that must land
    while the database is failing: outcomes of sends the provider already accepted, and the claim
    and the check of what is left, whose failure would send the message back to its queue (each
    receive spent so brings it closer to its dead-letter queue, its rows still queued).

    The pool answers an outage with backoff between its reconnection attempts and a wait of
    seconds for a connection; an outcome write that waits that long outlives the invocation
    and its recipients are sent again. Here a failed write closes its connection and the
    caller's retry connects anew at once.
    """

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._local = threading.local()
        self._opened: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and (conn.broken or conn.closed):
            conn = None
        if conn is not None and time.monotonic() - returned_at.get(conn, 0.0) > IDLE_BEFORE_CHECK_S:
            try:
                ConnectionPool.check_connection(conn)
            except psycopg.Error:
                conn.close()
                conn = None
        try:
            if conn is None:
                conn = self._local.conn = self._connect()
                self._opened.add(conn)
            with conn.transaction():
                yield conn
        except psycopg.OperationalError:
            if conn is not None:
                conn.close()
            self._local.conn = None
            raise
        finally:
            if conn is not None:
                note_returned(conn)

    def close(self) -> None:
        for conn in list(self._opened):
            conn.close()


class Credentials(Protocol):
    """The user and password of each new connection, when they are not in the DSN (a secret that
    rotates: notify.adapters.secrets.DatabaseCredentials)."""

    def __call__(self) -> dict[str, str]: ...

    def connection_failed(self) -> None:
        """A connection could not be made: the next one should read the credentials afresh."""
        ...


def _connection_class(credentials: Credentials | None) -> type[psycopg.Connection[Any]]:
    if credentials is None:
        return psycopg.Connection
    told = credentials

    class TellsFailures(psycopg.Connection[Any]):
        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> "TellsFailures":
            try:
                return super().connect(conninfo, **kwargs)
            except psycopg.OperationalError:
                told.connection_failed()
                raise

    return TellsFailures


def content_json(content: Sequence[DirectoryMovie]) -> str:
    return json.dumps([movie.model_dump(mode="json") for movie in content])


class Database:
    """One PostgreSQL database: a lazily opened pool shared by every repository, and each
    thread's own writer connection (`WriterConnections`)."""

    def __init__(
        self,
        dsn: str,
        max_connections: int = 4,
        connect_timeout_s: float = 10.0,
        *,
        statement_timeout_ms: int = 0,
        lock_timeout_ms: int = 0,
        credentials: Credentials | None = None,
        prepare: bool = True,
    ) -> None:
        self.dsn = dsn
        # Through RDS Proxy a statement prepared on the server would pin the client to one connection.
        self._prepare = {} if prepare else {"prepare_threshold": None}
        self._credentials = credentials
        self._connection_class = _connection_class(credentials)
        # Transaction-local (SET LOCAL), so that a pooler such as RDS Proxy is not pinned to a session.
        limits = [("statement_timeout", statement_timeout_ms), ("lock_timeout", lock_timeout_ms)]
        self._limits_sql = "; ".join(f"SET LOCAL {name} = {int(ms)}" for name, ms in limits if ms > 0)
        self._max_connections = max_connections
        self._connect_timeout_s = connect_timeout_s
        self._pool: ConnectionPool | None = None
        # Threads of one execution environment reach for the pool at once on its first use.
        self._pool_lock = threading.Lock()
        self._writers = WriterConnections(self._connect_directly)

    @property
    def pool(self) -> ConnectionPool:
        pool = self._pool
        if pool is not None and not pool.closed:
            return pool
        with self._pool_lock:
            if self._pool is None or self._pool.closed:
                self._pool = self._open_pool()
            return self._pool

    def _open_pool(self) -> ConnectionPool:
        pool = ConnectionPool(
            self.dsn,
            connection_class=self._connection_class,
            min_size=1,
            max_size=self._max_connections,
            kwargs=self._connect_kwargs,  # called for each connection: a rotated password is taken
            check=check_if_idle,
            reset=note_returned,
            open=True,
            timeout=self._connect_timeout_s,
        )
        atexit.register(self.close)
        return pool

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in a transaction, under the statement and lock timeouts when set; an outage
        or a timeout (QueryCanceled, LockNotAvailable) becomes StorageUnavailable (retryable)."""
        try:
            with self.pool.connection() as conn:
                if self._limits_sql:
                    conn.execute(self._limits_sql)  # one round trip: both settings in one simple query
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as error:
            if isinstance(error, psycopg.OperationalError):
                # Connections die together (a server restart, a failover, terminated backends):
                # check the idle ones now, so that the caller's retry gets a live one.
                self._discard_dead_connections()
            raise StorageUnavailable(f"postgres: {type(error).__name__}") from error

    def _connect_kwargs(self) -> dict[str, Any]:
        credentials = self._credentials() if self._credentials is not None else {}
        return {"options": "-c timezone=UTC", **self._prepare, **credentials}

    def _dsn_with_credentials(self) -> str:
        """The DSN as a URL carrying the credentials (for yoyo, which takes only a URL)."""
        if self._credentials is None:
            return self.dsn
        credentials = self._credentials()
        parts = urlsplit(self.dsn)
        user, password = (quote(credentials[key], safe="") for key in ("user", "password"))
        return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.netloc.rpartition('@')[2]}"))

    def _connect_directly(self) -> psycopg.Connection[Any]:
        return self._connection_class.connect(
            self.dsn,
            autocommit=True,
            connect_timeout=max(2, int(self._connect_timeout_s)),
            **self._connect_kwargs(),
        )

    @contextmanager
    def writer_connection(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's own connection in a transaction (see `WriterConnections`)."""
        try:
            with self._writers.transaction() as conn:
                yield conn
        except psycopg.OperationalError as error:
            raise StorageUnavailable(f"postgres: {type(error).__name__}") from error

    def _discard_dead_connections(self) -> None:
        try:
            if self._pool is not None and not self._pool.closed:
                self._pool.check()
        except (psycopg.Error, PoolTimeout):
            return

    def close(self) -> None:
        self._writers.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def migrate(self, built_ins: Mapping[str, "WorkflowDefinition"] | None = None) -> list[str]:
        """Apply the migrations the database lacks (for `make up`, the tests and the Migrate function;
        never at a cold start), then seed the built-in workflows that are not stored (`built_ins`: the
        shipped ones when None). Returns the ids applied."""
        from notify.adapters.postgres.workflows import seed_built_ins  # its models only: no renderer
        from notify.workflows import builtin_definitions

        with self.connection() as conn:
            missing = missing_migrations(conn)
        applied = apply_migrations(self._dsn_with_credentials()) if missing else []
        with self.connection() as conn:
            seed_built_ins(conn, built_ins if built_ins is not None else builtin_definitions())
        return applied

    def check_schema(self) -> None:
        """SchemaBehind unless every shipped migration is applied: one read, no lock taken."""
        with self.connection() as conn:
            check_schema(conn)

    def check(self) -> None:
        with self.connection() as conn:
            conn.execute("SELECT 1")


class Repository:
    """A port's implementation over the shared database."""

    def __init__(self, db: Database, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._db = db
        self._max_message_bytes = max_message_bytes

    def _connection(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        return self._db.connection()

    def _writer_connection(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        return self._db.writer_connection()
