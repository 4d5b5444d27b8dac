"""The dead-letter queues on the real RabbitMQ (scratch queues) and, through moto, on SQS: their
depths for GET /health, and the redrive back into the main queue."""

from typing import Any

import pytest

from notify.adapters.rabbitmq.dead_letters import RabbitDeadLetters
from notify.adapters.rabbitmq.topology import declare_topology, delay_queue
from notify.channels import DEAD_LETTER_SUFFIX, all_queue_names
from notify.errors import BrokerUnavailable
from notify_dev.scratch import RABBITMQ_URL
from tests.integration.support import bodies

pytestmark = pytest.mark.integration


@pytest.fixture
def declared(amqp: Any, queue_prefix: str) -> Any:
    """The `amqp` channel, the scratch prefix's whole topology declared as the worker declares it."""
    declare_topology(amqp.connection, all_queue_names(queue_prefix))
    return amqp


def test_rabbitmq_dead_letters_are_counted_then_redriven_into_their_queue(
    declared: Any, queue_prefix: str
) -> None:
    amqp = declared
    queues = all_queue_names(queue_prefix)
    email_high = f"{queue_prefix}-email-high"
    for n in range(3):
        amqp.basic_publish("", email_high + DEAD_LETTER_SUFFIX, f'{{"n": {n}}}'.encode())
    dead_letters = RabbitDeadLetters(RABBITMQ_URL, queues)

    depths = dead_letters.depths()
    moved = dead_letters.redrive(email_high)

    assert depths == {queue + DEAD_LETTER_SUFFIX: (3 if queue == email_high else 0) for queue in queues}
    assert moved == 3
    assert dead_letters.depths()[email_high + DEAD_LETTER_SUFFIX] == 0
    assert bodies(amqp, email_high) == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']


def test_rabbitmq_dead_letters_refuse_an_unknown_queue_and_report_an_outage(queue_prefix: str) -> None:
    with pytest.raises(ValueError, match="no such queue"):
        RabbitDeadLetters(RABBITMQ_URL, all_queue_names(queue_prefix)).redrive("elsewhere")
    with pytest.raises(BrokerUnavailable):
        RabbitDeadLetters("amqp://guest:guest@127.0.0.1:1/%2F", all_queue_names(queue_prefix)).depths()


def test_rabbitmq_backlog_counts_a_queue_and_its_delay_queues(declared: Any, queue_prefix: str) -> None:
    amqp = declared
    queues = all_queue_names(queue_prefix)
    sms_low = f"{queue_prefix}-sms-low"
    amqp.basic_publish("", sms_low, b"waiting")
    amqp.basic_publish("", delay_queue(sms_low, 900), b"retried later")
    amqp.basic_publish("", sms_low + DEAD_LETTER_SUFFIX, b"dead")  # not a backlog

    backlog = RabbitDeadLetters(RABBITMQ_URL, queues).backlog()

    assert backlog == {queue: (2 if queue == sms_low else 0) for queue in queues}
