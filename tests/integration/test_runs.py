"""Workflow runs on the real PostgreSQL: delays, conditions, waits woken by feedback, first-that-works,
cancelling; and each step taken exactly once under concurrent advancers and a SIGKILLed one."""

import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import QueueRouter
from notify.delivery import (
    NotificationMessage,
    PreferencesDocument,
    TemplateRenderer,
    WorkflowRules,
    record_engagement,
)
from notify.events import IngestPolicy, IngestPorts, accept_event, cancel_event
from notify.events.models import EventRequest
from notify.feedback import Feedback, FeedbackKind
from notify.scheduling import fire_due_schedules
from notify.workflows import (
    KeptVersions,
    RunPolicy,
    WorkflowDefinition,
    advance_runs,
    describe_run,
    put_workflow,
)
from notify_dev.delivering import deliver
from tests.fakes import FakePublisher, FakeSender
from tests.integration.support import make_user

pytestmark = pytest.mark.integration
ROUTER = QueueRouter("notify")
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

PUSH = {"en": {"title": "Kick-off", "body": "The match starts in 10 minutes"}}
EMAIL = {"en": {"subject": "Kick-off", "text": "The match starts soon"}}
SMS = {"en": {"text": "Kick-off soon"}}
# the issue's example: push; an hour later an e-mail unless opened; an SMS if the e-mail bounced
ESCALATION = {
    "steps": [
        {"ref": "push1", "type": "send", "channel": "push"},
        {"type": "delay", "seconds": 3600},
        {
            "ref": "mail1",
            "type": "send",
            "channel": "email",
            "if": {"ref": "push1", "not": ["opened", "read"]},
        },
        {"type": "wait", "until": {"ref": "mail1", "any": ["bounced", "failed"]}, "timeout_seconds": 7200},
        {"type": "send", "channel": "sms", "if": {"ref": "mail1", "any": ["bounced", "failed"]}},
    ],
    "templates": {"push": PUSH, "email": EMAIL, "sms": SMS},
}


class UniqueSender(FakeSender):
    """A sender whose provider ids are unique across tests (feedback is matched by them)."""

    def send(self, address: str, message: Any) -> str:
        super().send(address, message)
        return f"fake-{uuid.uuid4()}"


class Service:
    """The service on a simulated clock over the real store: accept, advance runs (the tick's code),
    deliver what they queued."""

    def __init__(self, store: PostgresStore, dsn: str) -> None:
        self.store, self.dsn, self.publisher, self.sender = store, dsn, FakePublisher(), UniqueSender()
        self.versions = KeptVersions(store)
        self.renderer = TemplateRenderer(self.versions)
        self.delivered = 0

    def workflow(self, key: str, document: dict[str, Any]) -> None:
        put_workflow(key, WorkflowDefinition.model_validate(document), now=T0, store=self.store)

    def users(self, *users: Any) -> list[Any]:
        self.store.upsert_users(users)
        for user in users:
            self.store.put_preferences(user.user_id, PreferencesDocument(quiet_hours=None))
        return list(users)

    def post(self, key: str, users: list[Any], at: datetime = T0) -> uuid.UUID:
        request = EventRequest.model_validate(
            {
                "event_type": key,
                "created_dt": at.isoformat(),
                "payload": {"user": [str(u.user_id) for u in users]},
            }
        )
        answer = accept_event(
            request,
            now=at,
            ports=IngestPorts(
                events=self.store,
                directory=self.store,
                outbox=self.store,
                publisher=self.publisher,
                workflows=self.store,
            ),
            policy=IngestPolicy(router=ROUTER, chunk_size=250, channels_of=self.versions.channels),
        )
        return answer.event_id

    def tick(self, at: datetime) -> int:
        report = advance_runs(
            runs=self.store,
            versions=self.versions,
            outbox=self.store,
            publisher=self.publisher,
            policy=RunPolicy(ROUTER, chunk_size=250),
            now=lambda: at,
            time_left=lambda: 60.0,
        )
        return report.advanced

    def deliver(self, at: datetime) -> None:
        fresh = self.publisher.published[self.delivered :]
        self.delivered = len(self.publisher.published)
        for published in fresh:
            message = NotificationMessage.model_validate_json(published.body)
            deliver(
                message,
                self.store,
                self.sender,
                self.renderer,
                now=at,
                rules=WorkflowRules(self.versions),
                controls=self.store,
            )

    def rows(self, event_id: uuid.UUID) -> dict[tuple[uuid.UUID, int, str], str]:
        with psycopg.connect(self.dsn) as conn:
            found = conn.execute(
                "SELECT user_id, step, channel, status FROM notifications WHERE event_id = %s", (event_id,)
            ).fetchall()
        return {(user_id, step, channel): status for user_id, step, channel, status in found}


@pytest.fixture
def svc(store: PostgresStore, pg_dsn: str) -> Service:
    return Service(store, pg_dsn)


def test_the_escalation_runs_each_step_once_as_its_conditions_say(svc: Service) -> None:
    opener, bouncer, plain = svc.users(make_user(), make_user(), make_user())
    svc.workflow("match_starts", ESCALATION)
    event_id = svc.post("match_starts", [opener, bouncer, plain])

    assert svc.rows(event_id) == {}  # the run makes the sends, the first at the next tick
    svc.tick(T0)
    svc.deliver(T0)
    with psycopg.connect(svc.dsn, autocommit=True) as conn:  # the app reports the open
        conn.execute(
            "UPDATE notifications SET opened_at = %s WHERE event_id = %s AND user_id = %s AND step = 0",
            (T0 + timedelta(minutes=5), event_id, opener.user_id),
        )
    assert svc.tick(T0 + timedelta(minutes=59)) == 0  # nobody is due during the delay
    svc.tick(T0 + timedelta(hours=1))
    svc.deliver(T0 + timedelta(hours=1))
    bounced_id = _provider_id(svc, event_id, bouncer.user_id, 2)
    svc.store.record_feedback(
        [Feedback(bounced_id, FeedbackKind.BOUNCED, str(bouncer.email), reason="hard_bounce")],
        T0 + timedelta(hours=1, minutes=3),
    )
    svc.tick(T0 + timedelta(hours=1, minutes=4))  # woken by the bounce, long before the wait's timeout
    svc.deliver(T0 + timedelta(hours=1, minutes=4))
    svc.tick(T0 + timedelta(hours=3, minutes=1))  # the others' waits time out

    assert svc.rows(event_id) == {
        (opener.user_id, 0, "push"): "sent",
        (bouncer.user_id, 0, "push"): "sent",
        (bouncer.user_id, 2, "email"): "bounced",
        (bouncer.user_id, 4, "sms"): "sent",
        (plain.user_id, 0, "push"): "sent",
        (plain.user_id, 2, "email"): "sent",
    }
    assert Counter(address for address, _ in svc.sender.sent) == {
        opener.push_token: 1,
        bouncer.push_token: 1,
        bouncer.email: 1,
        bouncer.phone: 1,
        plain.push_token: 1,
        plain.email: 1,
    }
    opened = describe_run(event_id, opener.user_id, runs=svc.store)
    bounced = describe_run(event_id, bouncer.user_id, runs=svc.store)
    assert (opened.state, bounced.state) == ("done", "done")
    assert [(s.step, s.result, s.reason) for s in opened.steps] == [
        (0, "sent", None),
        (1, "delayed", None),
        (2, "skipped", "condition"),
        (3, "timed_out", None),
        (4, "skipped", "condition"),
    ]
    assert [(s.step, s.result, s.ref) for s in bounced.steps] == [
        (0, "sent", "push1"),
        (1, "delayed", None),
        (2, "sent", "mail1"),
        (3, "satisfied", None),
        (4, "sent", None),
    ]


def _provider_id(svc: Service, event_id: uuid.UUID, user_id: uuid.UUID, step: int) -> str:
    with psycopg.connect(svc.dsn) as conn:
        row = conn.execute(
            "SELECT provider_message_id FROM notifications"
            " WHERE event_id = %s AND user_id = %s AND step = %s",
            (event_id, user_id, step),
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_first_that_works_moves_on_at_once_from_a_channel_without_a_contact(svc: Service) -> None:
    [user] = svc.users(make_user(push=False))
    svc.workflow(
        "reach",
        {
            "steps": [{"type": "send", "channels": ["push", "sms", "email"], "mode": "first_that_works"}],
            "templates": {"push": PUSH, "sms": SMS, "email": EMAIL},
        },
    )
    event_id = svc.post("reach", [user])

    svc.tick(T0)  # no push token: skipped, and the same tick tries the SMS
    svc.deliver(T0)
    svc.tick(T0 + timedelta(minutes=1))  # the SMS was sent: the run is over

    assert svc.rows(event_id) == {(user.user_id, 0, "push"): "skipped", (user.user_id, 0, "sms"): "sent"}
    assert [address for address, _ in svc.sender.sent] == [user.phone]
    run = describe_run(event_id, user.user_id, runs=svc.store)
    assert run.state == "done"


def test_a_cancelled_event_s_runs_take_no_further_step(svc: Service) -> None:
    [user] = svc.users(make_user())
    svc.workflow("match_starts", ESCALATION)
    event_id = svc.post("match_starts", [user])
    svc.tick(T0)
    svc.deliver(T0)

    cancel_event(event_id, now=T0, events=svc.store)
    svc.tick(T0 + timedelta(hours=2))

    assert svc.rows(event_id) == {(user.user_id, 0, "push"): "sent"}
    assert describe_run(event_id, user.user_id, runs=svc.store).state == "cancelled"


def _many_waiting(svc: Service, count: int) -> uuid.UUID:
    users = [make_user(phone=False, email=False) for _ in range(count)]
    svc.store.upsert_users(users)
    svc.workflow(
        "later",
        {
            "steps": [{"type": "delay", "seconds": 60}, {"type": "send", "channel": "push"}],
            "templates": {"push": PUSH},
        },
    )
    return svc.post("later", users)


def test_concurrent_advancers_take_each_step_once(svc: Service, pg_dsn: str) -> None:
    event_id = _many_waiting(svc, 2000)
    svc.tick(T0)  # every run begins its delay

    stores = [PostgresStore(pg_dsn) for _ in range(4)]
    publishers = [FakePublisher() for _ in stores]
    later = T0 + timedelta(minutes=1)

    failures: list[BaseException] = []

    def advancer(index: int) -> None:
        try:
            advance(index)
        except BaseException as error:  # noqa: BLE001 - told to the test below
            failures.append(error)

    def advance(index: int) -> None:
        advance_runs(
            runs=stores[index],
            versions=KeptVersions(stores[index]),
            outbox=stores[index],
            publisher=publishers[index],
            policy=RunPolicy(ROUTER, chunk_size=250, batch_size=100),
            now=lambda: later,
            time_left=lambda: 60.0,
        )

    threads = [threading.Thread(target=advancer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for each in stores:
        each.close()

    assert failures == []  # no advancer failed (a deadlock between them would show here)
    rows = svc.rows(event_id)
    assert len(rows) == 2000
    assert set(rows.values()) == {"queued"}
    published = [NotificationMessage.model_validate_json(m.body) for p in publishers for m in p.published]
    recipients = Counter(user.user_id for message in published for user in message.payload.user)
    assert len(recipients) == 2000
    assert set(recipients.values()) == {1}
    with psycopg.connect(pg_dsn) as conn:
        histories = conn.execute(
            "SELECT jsonb_array_length(history), state FROM workflow_runs WHERE event_id = %s", (event_id,)
        ).fetchall()
    assert Counter(histories) == {(2, "done"): 2000}  # delayed, then sent: once each


def test_a_sigkilled_advancer_leaves_every_step_to_be_taken_once(
    svc: Service, pg_dsn: str, tmp_path: Path
) -> None:
    event_id = _many_waiting(svc, 2000)
    svc.tick(T0)
    later = T0 + timedelta(minutes=1)
    marker = tmp_path / "decided"

    crashed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "integration" / "run_advancer.py"),
            pg_dsn,
            later.isoformat(),
            str(marker),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == -9, crashed.stderr
    assert marker.read_text() == "2000"  # it had decided every run when it died
    assert svc.rows(event_id) == {}  # and nothing of it stayed
    svc.tick(later)

    rows = svc.rows(event_id)
    assert len(rows) == 2000
    with psycopg.connect(pg_dsn) as conn:
        histories = conn.execute(
            "SELECT jsonb_array_length(history) FROM workflow_runs WHERE event_id = %s", (event_id,)
        ).fetchall()
    assert Counter(h for (h,) in histories) == {2: 2000}


def test_ten_thousand_runs_wait_across_two_ticks(svc: Service) -> None:
    event_id = _many_waiting(svc, 10_000)

    first = svc.tick(T0)
    idle = svc.tick(T0 + timedelta(seconds=30))
    second = svc.tick(T0 + timedelta(minutes=1))

    assert (first, idle, second) == (10_000, 0, 10_000)
    assert len(svc.rows(event_id)) == 10_000


def test_an_occurrence_runs_the_version_current_when_it_fires_with_its_runs(svc: Service) -> None:
    # The review: a schedule accepted under a version that sends at once, fired under one with a delay,
    # sent at once. The occurrence runs its version: here, a run per recipient.
    [user] = svc.users(make_user())
    svc.workflow("later", {"steps": [{"type": "send", "channel": "push"}], "templates": {"push": PUSH}})
    request = EventRequest.model_validate(
        {
            "event_type": "later",
            "created_dt": T0.isoformat(),
            "start_dt": (T0 + timedelta(minutes=5)).isoformat(),
            "payload": {"user": [str(user.user_id)]},
        }
    )
    accept_event(
        request,
        now=T0,
        ports=IngestPorts(
            events=svc.store,
            directory=svc.store,
            outbox=svc.store,
            publisher=svc.publisher,
            workflows=svc.store,
        ),
        policy=IngestPolicy(router=ROUTER, chunk_size=250, channels_of=svc.versions.channels),
    )
    svc.workflow(
        "later",
        {
            "steps": [{"type": "delay", "seconds": 600}, {"type": "send", "channel": "push"}],
            "templates": {"push": PUSH},
        },
    )

    fired = fire_due_schedules(
        now=T0 + timedelta(minutes=5),
        schedules=svc.store,
        outbox=svc.store,
        publisher=svc.publisher,
        max_lateness=timedelta(hours=1),
        router=ROUTER,
        chunk_size=250,
        channels_of=svc.versions.channels,
    )
    with psycopg.connect(svc.dsn) as conn:
        [(event_id, version, runs)] = conn.execute(
            "SELECT event_id, workflow_version, runs FROM events"
            " WHERE schedule_id IS NOT NULL AND status = 'queued'"
        ).fetchall()
    started = svc.tick(T0 + timedelta(minutes=5))

    assert fired.sent == 1
    assert (version, runs) == (2, True)
    assert svc.rows(event_id) == {}  # no send at once: the run waits out its delay
    assert started == 1
    assert describe_run(event_id, user.user_id, runs=svc.store).waiting_until == T0 + timedelta(minutes=15)


def test_a_wait_for_an_open_is_woken_by_the_apps_report(svc: Service) -> None:
    [user] = svc.users(make_user())
    svc.workflow(
        "nudge",
        {
            "steps": [
                {"ref": "p", "type": "send", "channel": "push"},
                {"type": "wait", "until": {"ref": "p", "any": ["opened"]}, "timeout_seconds": 86400},
                {"type": "send", "channel": "email", "if": {"ref": "p", "any": ["opened"]}},
            ],
            "templates": {"push": PUSH, "email": EMAIL},
        },
    )
    event_id = svc.post("nudge", [user])
    svc.tick(T0)
    svc.deliver(T0)
    [push] = [NotificationMessage.model_validate_json(m.body) for m in svc.publisher.published]
    push_id = push.payload.user[0].notification_id
    assert push_id is not None
    svc.tick(T0 + timedelta(minutes=1))  # the push's outcome woke it: looked at, nothing to take yet
    assert svc.tick(T0 + timedelta(minutes=1, seconds=30)) == 0  # waiting for the open: not due

    seen = record_engagement(
        push_id, "opened", now=T0 + timedelta(minutes=2), store=svc.store, controls=svc.store
    )
    woken = svc.tick(T0 + timedelta(minutes=3))

    assert seen.recorded
    assert woken == 1
    assert svc.rows(event_id) == {(user.user_id, 0, "push"): "sent", (user.user_id, 2, "email"): "queued"}
    assert [s.result for s in describe_run(event_id, user.user_id, runs=svc.store).steps] == [
        "sent",
        "satisfied",
        "sent",
    ]
