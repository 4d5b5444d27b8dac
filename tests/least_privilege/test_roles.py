"""Least privilege on the deployed stack: every AWS call each function made during the run (recorded
by the functions, notify.adapters.aws.AWS_CALLS, into .local/aws-calls/), and every call Lambda makes with
the function's role (its SQS triggers, its logs), is allowed by that function's role as the translated
template grants it, resolved against the stack on LocalStack (which itself enforces no IAM).

The template judged is the working copy's, translated (what the next deploy sends to AWS); the stack
gives the names its resources were made with. `make e2e` runs it last, after the e2e tests, the fault
suite, the fuzzer and the benchmarks' smoke run, so that it judges all the calls they caused. Calls
recorded before the stack last changed are not judged: they were made under an older template.
"""

import os
from collections import defaultdict

import pytest

from notify_dev.endpoints import ROOT
from notify_dev.intrinsics import queue_name
from notify_dev.least_privilege import Call, Roles, judge, read_calls
from notify_dev.translated import deployed_stack, translated_template

pytestmark = pytest.mark.e2e
CALLS = ROOT / ".local" / "aws-calls"
# What a run of the suite must have made for the check to mean anything: one call of each kind the
# service depends on. Missing ones fail the test rather than pass it unjudged.
EXPECTED = {
    ("notify-ingest", "sqs", "SendMessageBatch"),
    ("notify-ingest", "sqs", "GetQueueAttributes"),
    ("notify-tick", "sqs", "GetQueueAttributes"),
    ("notify-send-email", "ses", "SendRawEmail"),
    ("notify-send-sms", "sns", "Publish"),
    ("notify-send-push", "sns", "CreatePlatformEndpoint"),
    ("notify-send-push", "sns", "Publish"),
}


# The fault suite's double-delivery scenario hands send-email a record from a scratch queue of its own
# through the Lambda API (tests/faults/test_faults.py), and the sender's backoff then names that queue:
# a call only the test rig can cause, on a queue no deployed stack has. Set aside by name, and counted.
SCRATCH_QUEUES = "notify-faults-"


def on_scratch_queue(call: Call) -> bool:
    named = (call.resource.get(key, "") for key in ("QueueUrl", "QueueName"))
    return call.service == "sqs" and any(
        queue_name(value).startswith(SCRATCH_QUEUES) for value in named if value
    )


def recorded_calls(since: float) -> list[Call]:
    lines = [line for path in sorted(CALLS.glob("*.jsonl")) for line in path.read_text().splitlines()]
    return read_calls(lines, since)


def test_every_call_each_function_made_is_allowed_by_its_role() -> None:
    try:
        deployment, changed_at = deployed_stack()
    except Exception as error:
        if os.environ.get("NOTIFY_E2E_REQUIRED") == "1":
            raise
        pytest.skip(f"no local stack: {error}")
    recorded = recorded_calls(changed_at)
    calls = [call for call in recorded if not on_scratch_queue(call)]
    made = {(call.function, call.service, call.operation) for call in calls}

    verdict = judge(Roles(translated_template(), deployment), calls)

    by_function: dict[str, set[str]] = defaultdict(set)
    for function, service, operation in sorted(made):
        by_function[function].add(f"{service}:{operation}")
    print("\nleast privilege: authorisations checked per function:", verdict.checked)
    print(f"  set aside: {len(recorded) - len(calls)} records on the fault suite's scratch queues")
    for function, operations in sorted(by_function.items()):
        print(f"  {function}: {', '.join(sorted(operations))}")
    assert EXPECTED - made == set(), "the run made none of these calls: nothing was judged for them"
    assert verdict.refused == []
    assert verdict.needless_wildcards == []
