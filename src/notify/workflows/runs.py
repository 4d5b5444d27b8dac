"""Advancing one run of a workflow (an event's workflow for one recipient): a pure function of the
version's steps, where the run stands, what is known of its earlier sends, and `now`.

A run takes steps in order until it has to wait: a delay, a wait whose condition does not hold yet,
or a send tried on the first of several channels whose outcome is not known yet. Each step taken or
skipped is told back (with why), each send to make is listed, and the run says when to look at it
again. Storage applies all of it in the transaction that claimed the run, so a step is taken once."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from notify.channels import Channel
from notify.workflows.models import Condition, DelayStep, SendStep, WaitStep, WorkflowDefinition

# A first-that-works send whose outcome is not known yet is looked at again after this, whoever wakes
# it sooner (the sender does, when it records the outcome).
OUTCOME_CHECK = timedelta(minutes=15)
# The outcomes after which the next channel of a first-that-works send is tried.
TRY_NEXT_AFTER = frozenset({"skipped", "failed"})


@dataclass(frozen=True)
class SendFacts:
    """What is known of one send step's notification: its outcome (None: not yet: queued, being sent,
    deferred, held) and the engagement seen so far."""

    outcome: str | None = None
    engagement: frozenset[str] = frozenset()

    def states(self) -> frozenset[str]:
        return self.engagement | ({self.outcome} if self.outcome else set())


@dataclass(frozen=True)
class RunState:
    position: int = 0  # the next step to take
    since: datetime | None = None  # when the step at `position` began waiting (a delay, a wait)
    trying: int | None = None  # a first-that-works send: the index of the channel tried
    waits_on: int | None = None  # the send step whose outcome would let the run go on (wakes it)


@dataclass(frozen=True)
class StepRecord:
    step: int
    result: str  # sent, skipped, delayed, satisfied, timed_out, tried
    reason: str | None = None
    channel: Channel | None = None


@dataclass
class Advance:
    state: RunState
    sends: list[tuple[int, Channel]] = field(default_factory=list)  # (step, channel) rows to make
    records: list[StepRecord] = field(default_factory=list)
    wake_at: datetime | None = None  # None with done: nothing left
    done: bool = False


def refs_of(definition: WorkflowDefinition) -> dict[str, int]:
    return {step.ref: index for index, step in definition.send_steps() if step.ref is not None}


# What is known of each send made so far, by (step, channel): a first-that-works step has a row for
# each channel it tried.
Facts = dict[tuple[int, Channel], SendFacts]


def step_facts(definition: WorkflowDefinition, facts: Facts, step: int) -> SendFacts:
    """A send step's notification: for a first-that-works step, the last channel it tried (channels are
    tried in order, each only after the one before it failed)."""
    send = definition.steps[step]
    assert isinstance(send, SendStep)
    tried = [facts[(step, channel)] for channel in send.channel_order if (step, channel) in facts]
    return tried[-1] if tried else SendFacts()


def holds(condition: Condition, definition: WorkflowDefinition, facts: Facts) -> bool:
    """The condition against the referenced step's notification, as known now."""
    return condition.holds_for(step_facts(definition, facts, refs_of(definition)[condition.ref]).states())


def advance(definition: WorkflowDefinition, state: RunState, facts: Facts, now: datetime) -> Advance:
    """Take the run's steps from `state` until one has to wait, or none is left."""
    result = Advance(state=state)
    steps = definition.steps
    while result.state.position < len(steps):
        position = result.state.position
        step = steps[position]
        if isinstance(step, SendStep):
            if not _send(step, position, definition, facts, now, result):
                return result
        elif isinstance(step, DelayStep):
            since = result.state.since or now
            if now < since + timedelta(seconds=step.seconds):
                result.state, result.wake_at = (
                    replace(result.state, since=since),
                    since + timedelta(seconds=step.seconds),
                )
                return result
            result.records.append(StepRecord(position, "delayed"))
            result.state = RunState(position + 1)
        elif isinstance(step, WaitStep):
            since = result.state.since or now
            if holds(step.until, definition, facts):
                result.records.append(StepRecord(position, "satisfied"))
            elif now >= since + timedelta(seconds=step.timeout_seconds):
                result.records.append(StepRecord(position, "timed_out"))
            else:
                waits_on = refs_of(definition)[step.until.ref]
                result.state = replace(result.state, since=since, waits_on=waits_on)
                result.wake_at = since + timedelta(seconds=step.timeout_seconds)
                return result
            result.state = RunState(position + 1)
    result.done = True
    return result


def _send(
    step: SendStep,
    position: int,
    definition: WorkflowDefinition,
    facts: Facts,
    now: datetime,
    result: Advance,
) -> bool:
    """Take a send step; False when the run must wait for the outcome of a channel it tried."""
    channels = step.channel_order
    trying = result.state.trying
    if trying is None:
        if step.if_ is not None and not holds(step.if_, definition, facts):
            result.records.append(StepRecord(position, "skipped", "condition"))
            result.state = RunState(position + 1)
            return True
        result.sends.append((position, channels[0]))
        if step.mode is None:
            result.records.append(StepRecord(position, "sent", channel=channels[0]))
            result.state = RunState(position + 1)
            return True
        result.records.append(StepRecord(position, "tried", channel=channels[0]))
        result.state, result.wake_at = replace(result.state, trying=0, waits_on=position), now + OUTCOME_CHECK
        return False
    outcome = facts.get((position, channels[trying]), SendFacts()).outcome
    if outcome is None:  # the channel tried has no outcome yet
        result.wake_at = now + OUTCOME_CHECK
        return False
    if outcome in TRY_NEXT_AFTER and trying + 1 < len(channels):
        result.sends.append((position, channels[trying + 1]))
        result.records.append(StepRecord(position, "tried", outcome, channels[trying + 1]))
        result.state = replace(result.state, trying=trying + 1, waits_on=position)
        result.wake_at = now + OUTCOME_CHECK
        return False
    # sent on this channel, or the last channel failed too: the step is over either way
    result.records.append(
        StepRecord(position, "sent" if outcome not in TRY_NEXT_AFTER else outcome, channel=channels[trying])
    )
    result.state = RunState(position + 1)
    return True


# A notification's status as a condition reads it: None while it has no outcome yet.
_OUTCOMES = {
    "sent": "sent",
    "unconfirmed": "sent",
    "digested": "sent",  # it went out inside a digest
    "delivered": "delivered",
    "failed": "failed",
    "bounced": "bounced",
    "complained": "complained",
    "skipped": "skipped",
    "expired": "skipped",
    "cancelled": "skipped",
}


def outcome_of(status: str) -> str | None:
    return _OUTCOMES.get(status)
