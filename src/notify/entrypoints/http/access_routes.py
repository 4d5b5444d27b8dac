"""/keys: API keys made, listed and revoked over HTTP (the admin scope; see access.py)."""

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from notify.access import (
    KEY_ID_PATTERN,
    ApiKeyRecord,
    IssuedKeyView,
    KeyList,
    KeyRequest,
    KeyView,
    issue_key,
    revoke,
)
from notify.bootstrap import services
from notify.logs import service_logger

logger = service_logger()
router = Router()  # type: ignore[no-untyped-call]


def _view(record: ApiKeyRecord) -> KeyView:
    return KeyView(
        id=record.key_id,
        name=record.name,
        scopes=sorted(record.scopes),
        rate_per_minute=record.rate_per_minute,
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )


@router.post("/keys", responses={201: {"description": "Created: `key` is shown this once"}})
def create_key(request: KeyRequest) -> Response[IssuedKeyView]:
    issued = issue_key(
        request.name,
        [str(scope) for scope in request.scopes],
        request.rate_per_minute,
        now=datetime.now(UTC),
        keys=services().known_keys,
    )
    logger.info("API key created", extra={"created_key_id": issued.record.key_id})
    view = IssuedKeyView(**_view(issued.record).model_dump(), key=issued.key)
    return Response(status_code=HTTPStatus.CREATED, content_type=content_types.APPLICATION_JSON, body=view)


@router.get("/keys")
def list_keys() -> KeyList:
    return KeyList(keys=[_view(record) for record in services().known_keys.list_keys()])


@router.delete("/keys/<key_id>", responses={204: {"description": "Revoked: it stops working within 60 s"}})
def delete_key(key_id: Annotated[str, Path(pattern=KEY_ID_PATTERN)]) -> Response[None]:
    revoke(key_id, keys=services().known_keys, now=datetime.now(UTC))
    logger.info("API key revoked", extra={"revoked_key_id": key_id})
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)
