"""Advancing a run: every step type, every condition, first-that-works, and where a run waits."""

from datetime import UTC, datetime, timedelta
from typing import Any

from notify.channels import Channel
from notify.workflows import WorkflowDefinition
from notify.workflows.runs import OUTCOME_CHECK, RunState, SendFacts, StepRecord, advance

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
EMAIL, SMS, PUSH = Channel.EMAIL, Channel.SMS, Channel.PUSH


def workflow(*steps: dict[str, Any]) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate({"steps": list(steps)})


# push now; an hour later an e-mail unless the push was opened; then an SMS if the e-mail bounced
ESCALATION = workflow(
    {"ref": "push1", "type": "send", "channel": "push"},
    {"type": "delay", "seconds": 3600},
    {"ref": "mail1", "type": "send", "channel": "email", "if": {"ref": "push1", "not": ["opened", "read"]}},
    {"type": "wait", "until": {"ref": "mail1", "any": ["bounced", "failed"]}, "timeout_seconds": 7200},
    {"type": "send", "channel": "sms", "if": {"ref": "mail1", "any": ["bounced", "failed"]}},
)


def test_a_run_sends_then_waits_out_its_delay() -> None:
    step = advance(ESCALATION, RunState(), {}, NOW)

    assert step.sends == [(0, PUSH)]
    assert step.records == [StepRecord(0, "sent", channel=PUSH)]
    assert (step.state, step.wake_at, step.done) == (RunState(1, since=NOW), NOW + HOUR, False)


def test_a_delay_not_over_takes_nothing() -> None:
    step = advance(ESCALATION, RunState(1, since=NOW), {}, NOW + HOUR - timedelta(seconds=1))

    assert (step.sends, step.records, step.wake_at) == ([], [], NOW + HOUR)


def test_an_unopened_push_is_followed_by_the_email_and_the_run_waits_for_a_bounce() -> None:
    later = NOW + HOUR
    step = advance(ESCALATION, RunState(1, since=NOW), {(0, PUSH): SendFacts("delivered")}, later)

    assert step.sends == [(2, EMAIL)]
    assert [r.result for r in step.records] == ["delayed", "sent"]
    assert (step.state, step.wake_at) == (RunState(3, since=later, waits_on=2), later + 2 * HOUR)


def test_an_opened_push_skips_the_email_with_its_reason() -> None:
    facts = {(0, PUSH): SendFacts("sent", frozenset({"opened"}))}

    step = advance(ESCALATION, RunState(1, since=NOW), facts, NOW + HOUR)

    assert step.sends == []
    assert StepRecord(2, "skipped", "condition") in step.records


def test_a_bounce_ends_the_wait_early_and_sends_the_sms() -> None:
    facts = {(0, PUSH): SendFacts("sent"), (2, EMAIL): SendFacts("bounced")}

    step = advance(ESCALATION, RunState(3, since=NOW), facts, NOW + timedelta(minutes=5))

    assert step.sends == [(4, SMS)]
    assert [r.result for r in step.records] == ["satisfied", "sent"]
    assert step.done


def test_a_wait_that_times_out_goes_on_and_its_condition_skips_the_sms() -> None:
    facts = {(0, PUSH): SendFacts("sent"), (2, EMAIL): SendFacts("delivered")}

    waiting = advance(ESCALATION, RunState(3, since=NOW), facts, NOW + 2 * HOUR - timedelta(seconds=1))
    over = advance(ESCALATION, RunState(3, since=NOW), facts, NOW + 2 * HOUR)

    assert (waiting.records, waiting.wake_at, waiting.done) == ([], NOW + 2 * HOUR, False)
    assert [(r.result, r.reason) for r in over.records] == [("timed_out", None), ("skipped", "condition")]
    assert over.sends == []
    assert over.done


def test_conditions_read_outcomes_and_engagement_as_the_issue_defines_them() -> None:
    cases = [
        ({"any": ["sent"]}, SendFacts("sent"), True),
        ({"any": ["sent"]}, SendFacts("delivered"), False),  # an outcome is one of them
        ({"any": ["clicked"]}, SendFacts("delivered", frozenset({"opened", "clicked"})), True),
        ({"not": ["opened", "read"]}, SendFacts("delivered", frozenset({"read"})), False),
        ({"not": ["opened"]}, SendFacts(None), True),  # no outcome yet: nothing holds
        ({"any": ["skipped"]}, SendFacts("skipped"), True),
        ({"any": ["failed", "bounced", "complained"]}, SendFacts("complained"), True),
    ]
    for test, facts, expected in cases:
        definition = workflow(
            {"ref": "a", "type": "send", "channel": "push"},
            {"type": "send", "channel": "email", "if": {"ref": "a", **test}},
        )
        step = advance(definition, RunState(1), {(0, PUSH): facts}, NOW)
        assert (step.sends == [(1, EMAIL)]) is expected, (test, facts)


def test_first_that_works_tries_the_next_channel_on_skipped_or_failure_only() -> None:
    definition = workflow({"type": "send", "channels": ["push", "sms", "email"], "mode": "first_that_works"})

    first = advance(definition, RunState(), {}, NOW)
    pending = advance(definition, first.state, {}, NOW + timedelta(seconds=30))
    second = advance(definition, first.state, {(0, PUSH): SendFacts("skipped")}, NOW + timedelta(minutes=1))
    third = advance(
        definition, second.state, {(0, PUSH): SendFacts("skipped"), (0, SMS): SendFacts("failed")}, NOW
    )
    worked = advance(
        definition,
        third.state,
        {(0, PUSH): SendFacts("skipped"), (0, SMS): SendFacts("failed"), (0, EMAIL): SendFacts("sent")},
        NOW,
    )

    assert (first.sends, first.state.trying, first.wake_at) == ([(0, PUSH)], 0, NOW + OUTCOME_CHECK)
    assert (pending.sends, pending.done) == ([], False)
    assert (second.sends, second.state.trying) == ([(0, SMS)], 1)
    assert (third.sends, third.state.trying) == ([(0, EMAIL)], 2)
    assert (worked.sends, worked.done, worked.records[-1].result) == ([], True, "sent")


def test_first_that_works_stops_at_the_first_that_worked_and_a_condition_reads_it() -> None:
    definition = workflow(
        {"ref": "any", "type": "send", "channels": ["push", "sms"], "mode": "first_that_works"},
        {"type": "send", "channel": "email", "if": {"ref": "any", "any": ["failed", "skipped"]}},
    )
    facts = {(0, PUSH): SendFacts("sent")}

    step = advance(definition, RunState(0, trying=0), facts, NOW)
    all_failed = advance(
        definition,
        RunState(0, trying=1),
        {(0, PUSH): SendFacts("skipped"), (0, SMS): SendFacts("failed")},
        NOW,
    )

    assert step.sends == []  # the push worked: no SMS, and the e-mail's condition is false
    assert step.done
    assert all_failed.sends == [(1, EMAIL)]  # the last channel failed: the step's outcome is failed
    assert all_failed.records[0] == StepRecord(0, "failed", channel=SMS)
