"""Fakes for the ports: in-memory, recording what they were given, failing on request.

One fake repository per port over shared tables (tables.py), as PostgresStore's repositories share one
database; FakeEventStore is all of them at once, like PostgresStore. The broker's fake is notify_dev's,
shared with the benchmarks.
"""

from notify_dev.doubles import FakePublisher
from tests.fakes.dead_letters import FakeDeadLetters
from tests.fakes.delivery.controls import FakeRecipientControls
from tests.fakes.delivery.ledger import FakeLedger
from tests.fakes.delivery.waiting import FakeWaiting
from tests.fakes.events.cancellation import FakeCancellations
from tests.fakes.events.directory import FakeDirectory
from tests.fakes.events.events import FakeEvents
from tests.fakes.events.topics import FakeFanOuts, FakeTopics
from tests.fakes.feedback.feedback import FakeFeedback
from tests.fakes.feedback.opt_outs import FakeOptedOutNumbers, FakeSyncClaims
from tests.fakes.feedback.push_endpoints import FakePushEndpoints
from tests.fakes.keys import FakeApiKeys
from tests.fakes.lambda_runtime import FakeLambdaContext, FakeRetryDelay
from tests.fakes.outbox import FakeOutbox
from tests.fakes.retention import FakeRetention
from tests.fakes.runs import FakeRuns
from tests.fakes.schedules import FakeSchedules
from tests.fakes.senders import CountingSender, FakeSender
from tests.fakes.tables import EventRecord, FakeTables, OutboxRow, Row
from tests.fakes.workflows import FakeWorkflows


class FakeEventStore(
    FakeFanOuts,
    FakeEvents,
    FakeCancellations,
    FakeOutbox,
    FakeSchedules,
    FakeDirectory,
    FakeWaiting,
    FakeRecipientControls,
    FakeLedger,
    FakeApiKeys,
    FakeFeedback,
    FakePushEndpoints,
    FakeSyncClaims,
    FakeTopics,
    FakeRetention,
    FakeWorkflows,
    FakeRuns,
):
    """Every store port in memory over one set of tables, following the rules of PostgresStore."""


__all__ = [
    "CountingSender",
    "EventRecord",
    "FakeApiKeys",
    "FakeCancellations",
    "FakeDeadLetters",
    "FakeDirectory",
    "FakeEventStore",
    "FakeEvents",
    "FakeFanOuts",
    "FakeFeedback",
    "FakeLambdaContext",
    "FakeLedger",
    "FakeOptedOutNumbers",
    "FakeOutbox",
    "FakePublisher",
    "FakePushEndpoints",
    "FakeRecipientControls",
    "FakeRetryDelay",
    "FakeRuns",
    "FakeSchedules",
    "FakeSender",
    "FakeSyncClaims",
    "FakeTables",
    "FakeTopics",
    "FakeWaiting",
    "FakeWorkflows",
    "OutboxRow",
    "Row",
]
