"""The tick's advancing of workflow runs: due runs claimed a batch at a time, each taken as far as it
goes now (runs.py), the sends they make queued after the commit. Its cost follows the runs that are
due, not the runs waiting (an index on their wake-up time)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from notify.channels import Channel, QueueRouter
from notify.logs import module_logger
from notify.outbox import Outbox, Publisher, Relayed, publish_after_commit
from notify.workflows.catalog import KeptVersions
from notify.workflows.models import DelayStep, SendStep, WaitStep, WorkflowDefinition
from notify.workflows.ports import DueRun, RunDecision, RunStore
from notify.workflows.runs import StepRecord, advance

logger = module_logger()


@dataclass(frozen=True)
class RunPolicy:
    router: QueueRouter
    chunk_size: int  # recipients per queue message
    batch_size: int = 1000  # runs claimed per transaction


@dataclass(frozen=True)
class RunReport:
    batches: int = 0
    advanced: int = 0
    sends: int = 0
    parked: int = 0


def advance_runs(
    *,
    runs: RunStore,
    versions: KeptVersions,
    outbox: Outbox,
    publisher: Publisher,
    policy: RunPolicy,
    now: Callable[[], datetime],
    time_left: Callable[[], float],
) -> RunReport:
    """Advance due runs in batches while a batch fits in `time_left()` (judged by the slowest so far)
    and some were due; publish each batch's sends once it is committed."""

    batches = advanced = sends = 0
    relayed, slowest = Relayed(), 0.0
    while (left := time_left()) > slowest:
        moment = now()
        batch = runs.advance_due_runs(
            moment,
            policy.batch_size,
            sends_of(versions),
            decider(versions, moment),
            policy.router.table(),
            policy.chunk_size,
        )
        if batch.outbox:
            relayed += publish_after_commit(batch.outbox, publisher=publisher, outbox=outbox, now=moment)
        batches, advanced, sends = batches + 1, advanced + batch.claimed, sends + batch.sends
        slowest = max(slowest, left - time_left())
        if not batch.claimed:  # a run woken by this batch (a send skipped at once) is taken by the next
            break
    if advanced:
        logger.info("workflow runs advanced", extra={"batches": batches, "runs": advanced, "sends": sends})
    return RunReport(batches, advanced, sends, relayed.parked)


def sends_of(versions: KeptVersions) -> Callable[[str, int], list[tuple[int, Channel]]]:
    """Each workflow version's sends as (step, channel): where a run's notifications may be."""

    def of(event_type: str, version: int) -> list[tuple[int, Channel]]:
        definition = versions.compiled(event_type, version)[0].definition
        return [(index, channel) for index, step in definition.send_steps() for channel in step.channel_order]

    return of


def decider(versions: KeptVersions, now: datetime) -> Callable[[list[DueRun]], list[RunDecision]]:
    return lambda due: [decide(run, versions, now) for run in due]


def decide(run: DueRun, versions: KeptVersions, now: datetime) -> RunDecision:
    """One run's steps from where it stands, as far as they go now."""
    definition = versions.compiled(run.event_type, run.workflow_version)[0].definition
    if run.cancelled:
        record = StepRecord(run.state.position, "cancelled", "event_cancelled")
        return RunDecision(
            run.event_id,
            run.user_id,
            run.state,
            [],
            None,
            True,
            [entry(definition, record, now)],
            cancelled=True,
        )
    step = advance(definition, run.state, run.facts, now)
    return RunDecision(
        event_id=run.event_id,
        user_id=run.user_id,
        state=step.state,
        sends=step.sends,
        wake_at=None if step.done else step.wake_at,
        done=step.done,
        history=[entry(definition, record, now) for record in step.records],
    )


_KINDS = {SendStep: "send", DelayStep: "delay", WaitStep: "wait"}


def entry(definition: WorkflowDefinition, record: StepRecord, at: datetime) -> dict[str, object]:
    """A step of the run's history, as GET /events/{id}/runs shows it."""
    step = definition.steps[record.step] if record.step < len(definition.steps) else None
    return {
        "step": record.step,
        "ref": step.ref if isinstance(step, SendStep) else None,
        "type": _KINDS.get(type(step)) if step is not None else None,
        "result": record.result,
        "reason": record.reason,
        "channel": str(record.channel) if record.channel else None,
        "at": at.isoformat(),
    }
