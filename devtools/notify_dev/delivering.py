"""deliver_message wired as the queue entry point wires it, for tests on fakes or the real store."""

from collections.abc import Callable, Mapping
from datetime import datetime

from notify.bootstrap import control_rules
from notify.channels import QueueRouter, Tier
from notify.delivery.deliver import DeliveryPolicy, DeliveryPorts, DeliveryReport, deliver_message
from notify.delivery.dispatch import DispatchPolicy, SendPools
from notify.delivery.models import NotificationMessage
from notify.delivery.ports import DeliveryLedger, RecipientControls, Renderer, RulesBook, Sender
from notify.feedback.ports import Suppressions
from notify.outbox.ports import Outbox, Publisher
from notify.settings import Settings
from notify_dev.doubles import FakeOutboxMarks, FakePublisher


def deliver(
    msg: NotificationMessage,
    ledger: DeliveryLedger,
    sender: Sender,
    renderer: Renderer,
    *,
    now: datetime,
    rules: RulesBook | None = None,
    controls: RecipientControls | None = None,
    suppressions: Suppressions | None = None,
    final_attempt: bool = False,
    time_left: Callable[[], float] = lambda: 60.0,
    dispatch: DispatchPolicy | None = None,
    tier_concurrency: Mapping[Tier, int] | None = None,
    publisher: Publisher | None = None,
    outbox: Outbox | None = None,
    send_pools: SendPools | None = None,
) -> DeliveryReport:
    """One attempt at `msg` at the moment `now` (outcomes are stamped with it too)."""
    return deliver_message(
        msg,
        ports=DeliveryPorts(
            ledger=ledger,
            sender=sender,
            renderer=renderer,
            controls=controls,
            suppressions=suppressions,
            outbox=outbox if outbox is not None else FakeOutboxMarks(),
            publisher=publisher if publisher is not None else FakePublisher(),
            clock=lambda: now,
            send_pools=send_pools,
        ),
        policy=DeliveryPolicy(
            dispatch=dispatch or DispatchPolicy(concurrency=4, flush_interval_s=0.05, write_backoff_s=0),
            rules=rules if rules is not None else control_rules(Settings()),
            router=QueueRouter("notify"),
            send_backoff_s=0,
            tier_concurrency=tier_concurrency or {},
        ),
        now=now,
        time_left=time_left,
        final_attempt=final_attempt,
    )
