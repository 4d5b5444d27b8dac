"""The models' shared vocabulary: the field types and rules every capability's models use (ids, time
zones, cron, topic names, single-line text, the stored integer range). Each capability keeps its
own models (API bodies, API answers, queue messages) in its package's models.py."""

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from notify.errors import FieldProblem
from notify.text import single_line

MAX_USERS_PER_EVENT = 100_000
E164_PATTERN = re.compile(r"\+[0-9]{8,15}")  # used with fullmatch: `$` would let a trailing newline through
TOPIC_PATTERN = re.compile(r"[a-z0-9:_-]{1,200}")
_UUID_SPELLING = re.compile(r"\{?[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}\}?")
TOPIC_RULE = "must be 1 to 200 characters of a-z, 0-9, ':', '_' and '-'"


def _uuid_text(value: str) -> str:
    """As given (echoed in skipped_users); uuid.UUID alone passes urn:uuid:… that PostgreSQL refuses."""
    if not _UUID_SPELLING.fullmatch(value):
        raise ValueError("is not a valid UUID")
    return value


def _topic_name(value: str) -> str:
    if not TOPIC_PATTERN.fullmatch(value):
        raise ValueError(TOPIC_RULE)
    return value


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


def _cron(value: str) -> str:
    # Imported here so that the models stay importable without the scheduling module's deps.
    from notify.cron import check_cron

    check_cron(value)
    return value


# Documented as a UUID (what a generated client sends); any spelling PostgreSQL reads is taken.
UuidText = Annotated[str, AfterValidator(_uuid_text), WithJsonSchema({"type": "string", "format": "uuid"})]
ZoneName = Annotated[str, AfterValidator(_zone_name)]
CronText = Annotated[str, AfterValidator(_cron)]
TopicName = Annotated[str, AfterValidator(_topic_name)]
SingleLine = Annotated[str, AfterValidator(single_line)]  # what may reach a message header


# The largest value a PostgreSQL integer column holds: a larger number is refused as input.
MAX_STORED_INT = 2**31 - 1


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(
        description='Where the problem is: ["body", "payload", "user", 0], ["path"], …'
    )
    msg: str


class ErrorList(BaseModel):
    """Why the request was refused, a problem per field."""

    errors: list[ErrorItem]

    @classmethod
    def of(cls, problems: list[FieldProblem]) -> "ErrorList":
        return cls(errors=[ErrorItem(loc=list(problem.loc), msg=problem.msg) for problem in problems])


def field_problems(errors: list[Any], prefix: tuple[str | int, ...] = ()) -> list[FieldProblem]:
    """Pydantic's errors (ValidationError.errors(), or the router's) as problems naming their fields."""
    return [FieldProblem((*prefix, *item.get("loc", ())), _readable(item)) for item in errors]


def _readable(item: dict[str, Any]) -> str:
    if item.get("type") == "json_invalid":
        return "the body is not valid JSON"
    return str(item.get("msg", "is invalid")).removeprefix("Value error, ")
