"""Structured logs that never carry a contact in clear.

Every logger of the service formats through `RedactingFormatter`: values under contact
keys are masked whole, and anything shaped like an e-mail address or an E.164 phone number
is masked wherever it appears (a message, an exception text, a nested extra).
"""

import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

CONTACT_KEYS = frozenset({"email", "phone", "push_token", "address", "to", "token", "PhoneNumber", "Token"})
_EMAIL = re.compile(r"[\w.+-]+@([\w-]+\.)+[\w-]+")
_PHONE = re.compile(r"\+\d{8,15}\b")
MASK = "*****"


def redact(value: Any) -> Any:
    if isinstance(value, str):
        return _PHONE.sub(MASK, _EMAIL.sub(MASK, value))
    if isinstance(value, dict):
        return {key: MASK if key in CONTACT_KEYS and item else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(redact(log))


SERVICE = "notify"


def service_logger() -> Logger:
    """The logger an entry point owns (one per process); it decides the format."""
    return Logger(service=SERVICE, logger_formatter=RedactingFormatter())


def module_logger() -> Logger:
    """A module's logger; it writes through the entry point's logger and its formatter."""
    return Logger(service=SERVICE, child=True)
