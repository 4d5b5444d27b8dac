"""What the route modules share: the time an invocation has left, and an HTML answer."""

from collections.abc import Callable
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext


def time_left(context: LambdaContext | None) -> Callable[[], float]:
    """Seconds the invocation has left (none without a Lambda context: nothing is done in the request)."""
    if context is None:
        return lambda: 0.0
    return lambda: context.get_remaining_time_in_millis() / 1000


def html_page(page: str) -> Response[str]:
    return Response(status_code=HTTPStatus.OK, content_type=content_types.TEXT_HTML, body=page)
