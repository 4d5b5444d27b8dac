"""SES event publishing notifications (the SES documentation's examples, in events/ses/) → feedback."""

import json
from typing import Any

import pytest

from notify.errors import PermanentError
from notify.feedback.ses_events import HARD_BOUNCE, SOFT_BOUNCE, Feedback, FeedbackKind, parse_feedback
from tests.unit.builders import EVENTS_DIR, load_event

MESSAGE_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"


def ses_example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS_DIR / "ses" / f"{name}.json").read_text())
    return data


def in_sns_envelope(document: Any) -> str:
    message = document if isinstance(document, str) else json.dumps(document)
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:t", "Message": message})


@pytest.mark.parametrize("wrap", [in_sns_envelope, json.dumps], ids=["sns_envelope", "raw_delivery"])
def test_parse_feedback_reads_a_permanent_bounce_with_its_diagnostic(wrap: Any) -> None:
    [feedback] = parse_feedback(wrap(ses_example("bounce")))

    assert feedback == Feedback(
        MESSAGE_ID,
        FeedbackKind.BOUNCED,
        "recipient@example.com",
        feedback.occurred_at,
        HARD_BOUNCE,
        "smtp; 550 5.1.1 user unknown",
    )
    assert feedback.occurred_at is not None
    assert feedback.occurred_at.isoformat().startswith("2017-08-05T00:41:02")


def test_parse_feedback_reads_a_transient_bounce_as_soft() -> None:
    [feedback] = parse_feedback(in_sns_envelope(ses_example("bounce_transient")))

    assert (feedback.kind, feedback.reason) == (FeedbackKind.BOUNCED, SOFT_BOUNCE)


def test_parse_feedback_reads_a_complaint_and_a_delivery() -> None:
    [complaint] = parse_feedback(in_sns_envelope(ses_example("complaint")))
    [delivery] = parse_feedback(in_sns_envelope(ses_example("delivery")))

    assert (complaint.kind, complaint.address, complaint.reason) == (
        FeedbackKind.COMPLAINED,
        "recipient@example.com",
        "complaint",
    )
    assert (delivery.kind, delivery.provider_message_id) == (FeedbackKind.DELIVERED, MESSAGE_ID)


def test_parse_feedback_reads_a_reject() -> None:
    [reject] = parse_feedback(in_sns_envelope(ses_example("reject")))

    assert reject.kind == FeedbackKind.REJECTED


@pytest.mark.parametrize("name", ["send", "delivery_delay"])
def test_parse_feedback_ignores_events_that_change_nothing(name: str) -> None:
    assert parse_feedback(in_sns_envelope(ses_example(name))) == []


def test_parse_feedback_drops_the_topic_check_in_an_envelope_and_raw() -> None:
    check = "Successfully validated SNS topic for Amazon SES event publishing."
    batch = load_event("sqs_feedback")["Records"]

    assert parse_feedback(in_sns_envelope(check)) == []
    assert parse_feedback(check) == []
    assert parse_feedback(batch[0]["body"]) == []
    assert [f.kind for f in parse_feedback(batch[1]["body"])] == [FeedbackKind.BOUNCED]


def test_parse_feedback_tolerates_missing_and_extra_fields() -> None:
    minimal = {
        "eventType": "Bounce",
        "mail": {"messageId": "m-2", "destination": ["a@example.com", "b@example.com"]},
        "bounce": {"bounceType": "Permanent", "somethingNew": True},
        "unknownTopLevel": {"x": 1},
    }

    found = parse_feedback(in_sns_envelope(minimal))

    assert [(f.address, f.reason, f.diagnostic) for f in found] == [
        ("a@example.com", HARD_BOUNCE, None),
        ("b@example.com", HARD_BOUNCE, None),
    ]


def test_parse_feedback_reads_the_older_notification_type_spelling() -> None:
    legacy = {
        "notificationType": "Complaint",
        "mail": {"messageId": "m-3"},
        "complaint": {"complainedRecipients": [{"emailAddress": "c@example.com"}]},
    }

    [feedback] = parse_feedback(json.dumps(legacy))

    assert (feedback.kind, feedback.address) == (FeedbackKind.COMPLAINED, "c@example.com")


@pytest.mark.parametrize(
    "body",
    [
        json.dumps([1, 2]),
        json.dumps({"eventType": "Bounce"}),
        json.dumps({"eventType": "Bounce", "mail": {"messageId": ""}}),
        in_sns_envelope({"mail": {"messageId": "m"}}),
    ],
    ids=["a_list", "no_mail", "empty_message_id", "no_event_type"],
)
def test_parse_feedback_refuses_what_is_no_ses_event(body: str) -> None:
    with pytest.raises(PermanentError):
        parse_feedback(body)
