"""Delivering one queue message: claim its recipients, screen them, send in parallel, record
each outcome, and hand back what the time left did not reach.

Each attempt claims rows under a token of its own and a lease that ends with the invocation
(plus a little slack): a process that dies or times out leaves rows that become claimable as
soon as it is gone, not after a fixed long lease. Every later write names the token, so an
attempt whose lease ran out cannot overwrite what another attempt recorded. A message is
acknowledged only when none of its recipients is left unfinished.
"""

import dataclasses
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from notify.backoff import provider_retry_delay_s
from notify.channels import CONTACT_FIELD, Channel, QueueRouter, Tier, tier_for
from notify.delivery.controls import (
    OVER_CAP,
    SUPPRESSED,
    ControlRules,
    Verdict,
    decide,
    preferences_from_document,
)
from notify.delivery.dispatch import DispatchPolicy, SendPools, TimeLeft, dispatch, with_storage_retries
from notify.delivery.models import NotificationMessage, Recipient
from notify.delivery.ports import DeliveryLedger, Outcome, RecipientControls, Renderer, RulesBook, Sender
from notify.errors import AddressGone, PermanentError, ProviderTimeout, RecipientsInFlight, RetryableError
from notify.feedback import Suppression, Suppressions
from notify.logs import module_logger
from notify.outbox import Outbox, Publisher, publish_after_commit

logger = module_logger()


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeliveryPorts:
    ledger: DeliveryLedger
    sender: Sender
    renderer: Renderer
    outbox: Outbox  # a hand-back's messages are published after its commit, and marked here
    publisher: Publisher
    # None delivers with no recipient controls at all (the controls benchmark's baseline).
    controls: RecipientControls | None = None
    # Where an address the provider says is gone for good goes (None: nowhere).
    suppressions: Suppressions | None = None
    clock: Callable[[], datetime] = _utcnow
    # The environment's send threads, shared by the messages it delivers at once (None: each
    # delivery makes its own).
    send_pools: SendPools | None = None


@dataclass(frozen=True)
class DeliveryPolicy:
    dispatch: DispatchPolicy
    rules: RulesBook  # each workflow version's controls (a ControlRules: the same for every one)
    router: QueueRouter
    send_attempts: int = 3  # tries of a transient provider failure within one attempt
    send_backoff_s: float = 0.2
    lease_slack_s: float = 5.0
    # A tier may send with fewer calls in flight than `dispatch.concurrency`: a drained backlog
    # of promotions then leaves the provider and the cores to the tiers above it.
    tier_concurrency: Mapping[Tier, int] = field(default_factory=dict)

    def dispatch_for(self, tier: Tier) -> DispatchPolicy:
        concurrency = self.tier_concurrency.get(tier)
        if concurrency is None or concurrency == self.dispatch.concurrency:
            return self.dispatch
        return dataclasses.replace(self.dispatch, concurrency=concurrency)


@dataclass
class DeliveryReport:
    sent: list[uuid.UUID] = field(default_factory=list)
    unconfirmed: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    retrying: list[uuid.UUID] = field(default_factory=list)
    deferred: list[uuid.UUID] = field(default_factory=list)  # the provider failed for now
    already_handled: list[uuid.UUID] = field(default_factory=list)
    handed_back: list[uuid.UUID] = field(default_factory=list)
    held_back: dict[uuid.UUID, Verdict] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> None:
        getattr(self, outcome.status).append(outcome.user_id)


def deliver_message(
    message: NotificationMessage,
    *,
    ports: DeliveryPorts,
    policy: DeliveryPolicy,
    now: datetime,
    time_left: TimeLeft,
    final_attempt: bool,
    report: DeliveryReport | None = None,
) -> DeliveryReport:
    """Send to every recipient of `message` that no attempt has handled; `report`, when given, is
    filled in as the delivery goes, so the caller has what was done even when this raises.

    Raises RetryableError when recipients were released for a later attempt (the message
    goes back to its queue with backoff), RecipientsInFlight when another attempt still
    holds some of them, StorageUnavailable when outcomes could not be recorded.
    """
    channel, event_id = message.transport_type, message.event_id
    users = {user.user_id: user for user in message.payload.user}
    report = report if report is not None else DeliveryReport()
    token = uuid.uuid4()
    if time_left() < policy.dispatch.safety_margin_s:
        _hand_back(message, list(users.values()), token, ports, policy, now, report)
        return report

    until = now + timedelta(seconds=time_left() + policy.lease_slack_s)
    step = message.step
    # A claim that fails on a dropped connection is made again (on a new one) while a send could still
    # start: failing the message instead would spend one of its receives, and a message whose receives
    # all fail so is dead-lettered with its rows still queued. The ledger gives a repeated claim of the
    # same token the rows it already took (a COMMIT that landed, its answer lost).
    user_ids = list(users)
    claimed = with_storage_retries(
        lambda: ports.ledger.claim(event_id, channel, user_ids, token=token, now=now, until=until, step=step),
        policy=policy.dispatch,
        time_left=time_left,
        margin_s=policy.dispatch.safety_margin_s,
        what="claim",
    )
    report.already_handled = [user_id for user_id in users if user_id not in claimed]
    pending = [user for user_id, user in users.items() if user_id in claimed]
    if ports.controls is not None and pending:
        rules = policy.rules.rules_for(message.event_type, message.workflow_version)
        pending = screen_recipients(message, pending, token, ports.controls, rules, now, report)

    def send(user: Recipient) -> Outcome:
        return _send_one(message, user, ports, policy, final_attempt, time_left)

    dispatch_policy = policy.dispatch_for(tier_for(message.priority))
    written, unreached, write_error = dispatch(
        pending,
        send,
        lambda outcomes: ports.ledger.record_outcomes(event_id, channel, token, outcomes, step, message.runs),
        policy=dispatch_policy,
        time_left=time_left,
        pool=ports.send_pools.pool(dispatch_policy.concurrency) if ports.send_pools else None,
    )
    for outcome in written:
        report.count(outcome)
    if write_error is not None:
        raise write_error
    if unreached:
        _hand_back(message, unreached, token, ports, policy, now, report)

    exhausted = sum(1 for outcome in written if outcome.reason == "retries_exhausted")
    if exhausted:
        # Final: the rows are failed, and the message goes on to its dead-letter queue, from
        # where an operator's redrive tries them once more.
        raise RetryableError(f"{exhausted} recipient(s) failed on the last attempt")
    handed_back = set(report.handed_back)
    left = with_storage_retries(
        lambda: ports.ledger.pending(event_id, channel, [u for u in users if u not in handed_back], step),
        policy=policy.dispatch,
        time_left=time_left,
        margin_s=policy.dispatch.write_margin_s,
        what="check of what is left",
    )
    if left.waiting:
        raise RetryableError(f"{left.waiting} recipient(s) released for a later attempt")
    if left.held_by_others:
        wait_s = (left.held_until - now).total_seconds() if left.held_until else 0.0
        raise RecipientsInFlight(
            f"{left.held_by_others} recipient(s) held by another attempt",
            retry_after_s=max(1, int(wait_s) + 1),
        )
    return report


def _send_one(
    message: NotificationMessage,
    user: Recipient,
    ports: DeliveryPorts,
    policy: DeliveryPolicy,
    final_attempt: bool,
    time_left: TimeLeft,
) -> Outcome:
    """One recipient, in a worker thread: never raises, every ending is an Outcome."""
    channel = message.transport_type
    address = getattr(user, CONTACT_FIELD[channel])
    if not address:
        return Outcome(user.user_id, "failed", ports.clock(), "no_contact", "no address")
    try:
        rendered = ports.renderer.render(
            message.event_type, channel, user, message.payload.content, message.workflow_version
        )
    except Exception as error:  # a template bug must not strand the row, and retrying cannot fix it
        logger.exception("rendering failed", extra={"event_id": str(message.event_id)})
        return Outcome(
            user.user_id, "failed", ports.clock(), "render_failed", f"render: {type(error).__name__}"
        )
    attempt = 1
    while True:
        try:
            provider_id = ports.sender.send(address, rendered)
            return Outcome(user.user_id, "sent", ports.clock(), provider_id=provider_id)
        except AddressGone as error:
            _suppress_gone(channel, address, error.reason, ports)
            return Outcome(user.user_id, "failed", ports.clock(), error.reason, str(error))
        except PermanentError as error:
            return Outcome(user.user_id, "failed", ports.clock(), error.reason, str(error))
        except ProviderTimeout as error:
            return Outcome(
                user.user_id,
                "unconfirmed",
                ports.clock(),
                "provider_timeout",
                f"{error}: no answer in time, it may have been delivered; not sent again",
            )
        except RetryableError as error:
            delay = policy.send_backoff_s * 2 ** (attempt - 1)
            if attempt >= policy.send_attempts or time_left() < policy.dispatch.safety_margin_s + delay:
                return _retry_later(message, user, ports, str(error))
        except Exception as error:
            logger.exception("unexpected send failure", extra={"event_id": str(message.event_id)})
            return _not_sent(user, ports, final_attempt, f"unexpected: {type(error).__name__}")
        time.sleep(delay)
        attempt += 1


def _suppress_gone(channel: Channel, address: str, reason: str, ports: DeliveryPorts) -> None:
    """No message goes to the address any more. Should storage fail, the next send to it fails the
    same way and tries again."""
    if ports.suppressions is None:
        return
    try:
        ports.suppressions.suppress([Suppression(str(channel), address, reason, ports.clock())])
    except Exception:
        logger.exception(
            "an address the provider gave up on could not be suppressed", extra={"reason": reason}
        )


def _retry_later(message: NotificationMessage, user: Recipient, ports: DeliveryPorts, error: str) -> Outcome:
    """The provider failed for now (5xx, throttling, no connection): the row waits out a backoff
    outside the queue (`deferred`, released by the tick), so that an outage spends no receive count
    and nothing lands in the DLQ; the next claim after the type's max age ends it `expired`."""
    now = ports.clock()
    age_s = (now - message.created_dt).total_seconds()
    retry_at = now + timedelta(seconds=provider_retry_delay_s(age_s))
    return Outcome(user.user_id, "deferred", now, "provider_unavailable", error, retry_at=retry_at)


def _not_sent(user: Recipient, ports: DeliveryPorts, final_attempt: bool, error: str) -> Outcome:
    if final_attempt:
        return Outcome(user.user_id, "failed", ports.clock(), "retries_exhausted", error)
    return Outcome(user.user_id, "retrying", ports.clock(), None, error)


def _hand_back(
    message: NotificationMessage,
    users: list[Recipient],
    token: uuid.UUID,
    ports: DeliveryPorts,
    policy: DeliveryPolicy,
    now: datetime,
    report: DeliveryReport,
) -> None:
    """Release the rows this attempt did not reach and queue them again as a smaller message."""
    user_ids = [user.user_id for user in users]
    queued = ports.ledger.hand_back(
        message.event_id, message.transport_type, token, user_ids, policy.router.table(), message.step
    )
    report.handed_back.extend(user_ids)
    logger.info(
        "out of time; the rest of the message is queued again",
        extra={"event_id": str(message.event_id), "handed_back": len(user_ids)},
    )
    if queued:
        publish_after_commit(queued, publisher=ports.publisher, outbox=ports.outbox, now=now)


def screen_recipients(
    message: NotificationMessage,
    recipients: list[Recipient],
    token: uuid.UUID,
    controls: RecipientControls,
    rules: ControlRules,
    now: datetime,
    report: DeliveryReport,
) -> list[Recipient]:
    """Apply expiry, preferences, quiet hours, digests and frequency caps to a message's
    claimed recipients: one read of preferences, one cap reservation, one write of verdicts."""
    event_type, channel = message.event_type, message.transport_type
    tier = tier_for(message.priority)
    facts = controls.recipient_facts(
        channel, {user.user_id: getattr(user, CONTACT_FIELD[channel]) for user in recipients}
    )
    verdicts = {
        user.user_id: SUPPRESSED
        if user.user_id in facts.suppressed
        else decide(
            event_type=event_type,
            channel=channel,
            tier=tier,
            due_at=message.created_dt,
            now=now,
            user_timezone=user.timezone,
            preferences=preferences_from_document(facts.preferences.get(user.user_id)),
            rules=rules,
            in_digest=user.digest_count is not None,
        )
        for user in recipients
    }
    cap = rules.cap_for(event_type, channel)
    candidates = [user.user_id for user in recipients if verdicts[user.user_id].status == "send"]
    if cap is not None and candidates:
        allowed = controls.reserve_sends(message.event_id, event_type, channel, candidates, cap, now)
        for user_id in candidates:
            if user_id not in allowed:
                verdicts[user_id] = OVER_CAP
    held_back = {user_id: verdict for user_id, verdict in verdicts.items() if verdict.status != "send"}
    written = controls.record_verdicts(
        message.event_id, channel, token, list(held_back.items()), now, message.step, message.runs
    )
    report.held_back.update({user_id: held_back[user_id] for user_id in written})
    # A verdict not written: another attempt took the row over when this one's lease ran out.
    report.already_handled.extend(user_id for user_id in held_back if user_id not in written)
    return [user for user in recipients if user.user_id not in held_back]
