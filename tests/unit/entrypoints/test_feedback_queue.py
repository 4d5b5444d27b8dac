"""The feedback function, driven by SQS batches of SES events in SNS envelopes (events/)."""

import json
import uuid
from typing import Any

import pytest

from functions.feedback.app import lambda_handler
from notify.channels import Channel
from tests.fakes import FakeEventStore, FakeLambdaContext, Row
from tests.unit.api_calls import install_fakes
from tests.unit.builders import EVENTS_DIR, load_event

MESSAGE_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"


@pytest.fixture
def store() -> FakeEventStore:
    store = FakeEventStore()
    install_fakes(store)
    return store


def sent_row(store: FakeEventStore) -> Row:
    row = Row(status="sent", provider_id=MESSAGE_ID)
    store.rows[(uuid.uuid4(), Channel.EMAIL, uuid.uuid4())] = row
    return row


def with_record(body: str) -> dict[str, Any]:
    batch = load_event("sqs_feedback")
    batch["Records"] = [{**batch["Records"][1], "messageId": "m-extra", "body": body}]
    return batch


def call(event: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    return answer


def test_feedback_function_takes_the_topic_check_and_a_bounce(store: FakeEventStore) -> None:
    row = sent_row(store)

    answer = call(load_event("sqs_feedback"))

    assert answer == {"batchItemFailures": []}
    assert (row.status, row.reason) == ("bounced", "hard_bounce")
    assert ("email", "recipient@example.com") in store.suppressions


def test_feedback_function_twice_the_same_batch_changes_nothing_more(store: FakeEventStore) -> None:
    row = sent_row(store)
    call(load_event("sqs_feedback"))
    before = (row.status, row.reason, dict(store.suppressions), dict(store.feedback))

    call(load_event("sqs_feedback"))

    assert (row.status, row.reason, dict(store.suppressions), dict(store.feedback)) == before


def test_feedback_function_drops_a_body_that_is_no_ses_event(store: FakeEventStore) -> None:
    answer = call(with_record(json.dumps({"Type": "Notification", "Message": json.dumps({"hello": 1})})))

    assert answer == {"batchItemFailures": []}
    assert store.feedback == {}


def test_feedback_function_hands_back_the_record_when_storage_is_down(store: FakeEventStore) -> None:
    store.down = True
    bounce = (EVENTS_DIR / "ses" / "bounce.json").read_text()

    answer = call(with_record(json.dumps({"Type": "Notification", "Message": bounce})))

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-extra"}]}


def envelope(document: dict[str, Any]) -> str:
    return json.dumps({"Type": "Notification", "Message": json.dumps(document)})


def test_feedback_function_records_a_batch_with_one_write_per_kind(
    store: FakeEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery = json.loads((EVENTS_DIR / "ses" / "delivery.json").read_text())
    bounce = json.loads((EVENTS_DIR / "ses" / "bounce.json").read_text())
    rows, records = {}, []
    for n in range(40):
        message_id = f"ses-{n}"
        rows[message_id] = Row(status="sent", provider_id=message_id)
        store.rows[(uuid.uuid4(), Channel.EMAIL, uuid.uuid4())] = rows[message_id]
        document = bounce if n == 7 else delivery
        records.append(envelope({**document, "mail": {**document["mail"], "messageId": message_id}}))
    batch = load_event("sqs_feedback")
    batch["Records"] = [
        {**batch["Records"][1], "messageId": f"m-{n}", "body": body} for n, body in enumerate(records)
    ]
    writes: list[int] = []
    record_feedback = store.record_feedback

    def counted(items: Any, now: Any) -> int:
        writes.append(len(items))
        return record_feedback(items, now)

    monkeypatch.setattr(store, "record_feedback", counted)

    answer = call(batch)

    assert answer == {"batchItemFailures": []}
    assert sorted(writes) == [1, 39]  # the bounce, the deliveries: not one write per record
    assert {message_id: row.status for message_id, row in rows.items() if row.status != "delivered"} == {
        "ses-7": "bounced"
    }


def test_feedback_function_hands_back_every_record_with_feedback_when_storage_is_down(
    store: FakeEventStore,
) -> None:
    store.down = True
    batch = load_event("sqs_feedback")  # the topic check, then a bounce

    answer = call(batch)

    assert answer == {"batchItemFailures": [{"itemIdentifier": batch["Records"][1]["messageId"]}]}
