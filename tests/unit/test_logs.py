"""No log line carries an e-mail address, a phone number or a push token in clear."""

import io
import json
import logging

from notify.logs import MASK, RedactingFormatter, module_logger, redact, service_logger


def test_redact_masks_contacts_in_text_and_under_contact_keys() -> None:
    record = {
        "message": "SES refused anna.k@example.ru, SMS to +79161234567 failed",
        "extra": {"push_token": "fcm:abc123", "email": "x@y.io", "count": 3, "ids": ["+4915112345678"]},
    }

    cleaned = redact(record)

    assert cleaned["message"] == f"SES refused {MASK}, SMS to {MASK} failed"
    assert cleaned["extra"] == {"push_token": MASK, "email": MASK, "count": 3, "ids": [MASK]}


def test_redact_keeps_ids_and_dates() -> None:
    text = "event 5c1e8a0e-7a54-4b43-a0b8-0b3a4c5ad0f1 at 2026-11-24T10:00:00+00:00, 12345678 rows"

    assert redact(text) == text


def test_redacting_formatter_writes_json_without_contacts() -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(RedactingFormatter())
    logger = logging.getLogger("notify.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("delivered to ivan@example.com", extra={"phone": "+12025550123", "sent": 1})
    finally:
        logger.removeHandler(handler)

    line = json.loads(buffer.getvalue())
    assert "ivan@example.com" not in buffer.getvalue()
    assert "+12025550123" not in buffer.getvalue()
    assert line["message"] == f"delivered to {MASK}"
    assert (line["phone"], line["sent"]) == (MASK, 1)


def test_every_logger_of_the_service_formats_through_redaction() -> None:
    assert isinstance(service_logger().registered_formatter, RedactingFormatter)
    assert module_logger().service == service_logger().service
