"""No log line carries an e-mail address, a phone number or a push token in clear."""

import json

import pytest

from notify.logs import MASK, module_logger, redact, service_logger


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


def test_service_logger_writes_json_without_contacts(capsys: pytest.CaptureFixture[str]) -> None:
    logger = service_logger()
    child = module_logger()

    logger.info("delivered to ivan@example.com", extra={"phone": "+12025550123", "sent": 1})
    child.warning("retrying +12025550123")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    text = json.dumps(lines)
    assert "ivan@example.com" not in text
    assert "+12025550123" not in text
    assert lines[0]["message"] == f"delivered to {MASK}"
    assert lines[0]["sent"] == 1
    assert lines[-1]["message"] == f"retrying {MASK}"
