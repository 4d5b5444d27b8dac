"""PostgreSQL: one repository per port over one shared database (pool and writer connections).

Fan-out work is done set-wise inside the database: one statement turns an event's user ids
into notification rows and ready-to-publish messages, so a 100,000-user promotion costs a
handful of round trips. `PostgresStore` is every repository over one database, for the
callers (tests, benchmarks) that want them all at once.
"""

from notify.adapters.postgres.database import DEFAULT_MAX_MESSAGE_BYTES, Database
from notify.adapters.postgres.delivery.controls import PostgresRecipientControls
from notify.adapters.postgres.delivery.engagement import PostgresEngagement
from notify.adapters.postgres.delivery.ledger import PostgresLedger
from notify.adapters.postgres.delivery.waiting import PostgresWaiting
from notify.adapters.postgres.events.cancellation import PostgresCancellations
from notify.adapters.postgres.events.directory import PostgresDirectory
from notify.adapters.postgres.events.events import PostgresEvents
from notify.adapters.postgres.events.fan_outs import PostgresFanOuts
from notify.adapters.postgres.events.topics import PostgresTopics
from notify.adapters.postgres.feedback.feedback import PostgresFeedback
from notify.adapters.postgres.feedback.push_endpoints import PostgresPushEndpoints
from notify.adapters.postgres.feedback.syncs import PostgresSyncClaims
from notify.adapters.postgres.keys import PostgresApiKeys
from notify.adapters.postgres.outbox import PostgresOutbox
from notify.adapters.postgres.retention import PostgresRetention
from notify.adapters.postgres.runs import PostgresRuns
from notify.adapters.postgres.schedules import PostgresSchedules, occurrence_key
from notify.adapters.postgres.workflows import PostgresWorkflows

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "Database",
    "PostgresApiKeys",
    "PostgresCancellations",
    "PostgresDirectory",
    "PostgresEngagement",
    "PostgresEvents",
    "PostgresFanOuts",
    "PostgresFeedback",
    "PostgresLedger",
    "PostgresOutbox",
    "PostgresPushEndpoints",
    "PostgresRecipientControls",
    "PostgresRetention",
    "PostgresRuns",
    "PostgresSchedules",
    "PostgresStore",
    "PostgresSyncClaims",
    "PostgresTopics",
    "PostgresWaiting",
    "PostgresWorkflows",
    "occurrence_key",
]


class PostgresStore(
    PostgresEvents,
    PostgresCancellations,
    PostgresSchedules,
    PostgresOutbox,
    PostgresDirectory,
    PostgresRecipientControls,
    PostgresWaiting,
    PostgresLedger,
    PostgresApiKeys,
    PostgresFeedback,
    PostgresPushEndpoints,
    PostgresSyncClaims,
    PostgresTopics,
    PostgresFanOuts,
    PostgresRetention,
    PostgresWorkflows,
    PostgresRuns,
    PostgresEngagement,
):
    """Every port at once, over a database of its own."""

    def __init__(
        self,
        dsn: str,
        max_connections: int = 4,
        connect_timeout_s: float = 10.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        super().__init__(
            Database(dsn, max_connections, connect_timeout_s), max_message_bytes=max_message_bytes
        )

    @property
    def database(self) -> Database:
        return self._db

    def migrate(self) -> list[str]:
        return self._db.migrate()

    def check(self) -> None:
        self._db.check()

    def close(self) -> None:
        self._db.close()
