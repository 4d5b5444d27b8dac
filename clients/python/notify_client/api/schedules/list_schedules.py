from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_list import ErrorList
from ...models.schedule_page import SchedulePage
from ...models.schedule_state import ScheduleState
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 100,
    cursor: None | str | Unset = UNSET,
    event_type: None | str | Unset = UNSET,
    state: None | ScheduleState | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    json_event_type: None | str | Unset
    if isinstance(event_type, Unset):
        json_event_type = UNSET
    else:
        json_event_type = event_type
    params["event_type"] = json_event_type

    json_state: None | str | Unset
    if isinstance(state, Unset):
        json_state = UNSET
    elif isinstance(state, ScheduleState):
        json_state = state.value
    else:
        json_state = state
    params["state"] = json_state

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/schedules",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorList | SchedulePage | None:
    if response.status_code == 200:
        response_200 = SchedulePage.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorList.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorList.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorList.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = ErrorList.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = ErrorList.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorList.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = ErrorList.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorList | SchedulePage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,
    cursor: None | str | Unset = UNSET,
    event_type: None | str | Unset = UNSET,
    state: None | ScheduleState | Unset = UNSET,
) -> Response[ErrorList | SchedulePage]:
    """GET /schedules

     Needs an API key with the scope `schedules:read` (or `admin`).

    Args:
        limit (int | Unset):  Default: 100.
        cursor (None | str | Unset):
        event_type (None | str | Unset):
        state (None | ScheduleState | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorList | SchedulePage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        event_type=event_type,
        state=state,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,
    cursor: None | str | Unset = UNSET,
    event_type: None | str | Unset = UNSET,
    state: None | ScheduleState | Unset = UNSET,
) -> ErrorList | SchedulePage | None:
    """GET /schedules

     Needs an API key with the scope `schedules:read` (or `admin`).

    Args:
        limit (int | Unset):  Default: 100.
        cursor (None | str | Unset):
        event_type (None | str | Unset):
        state (None | ScheduleState | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorList | SchedulePage
    """

    return sync_detailed(
        client=client,
        limit=limit,
        cursor=cursor,
        event_type=event_type,
        state=state,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,
    cursor: None | str | Unset = UNSET,
    event_type: None | str | Unset = UNSET,
    state: None | ScheduleState | Unset = UNSET,
) -> Response[ErrorList | SchedulePage]:
    """GET /schedules

     Needs an API key with the scope `schedules:read` (or `admin`).

    Args:
        limit (int | Unset):  Default: 100.
        cursor (None | str | Unset):
        event_type (None | str | Unset):
        state (None | ScheduleState | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorList | SchedulePage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        event_type=event_type,
        state=state,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 100,
    cursor: None | str | Unset = UNSET,
    event_type: None | str | Unset = UNSET,
    state: None | ScheduleState | Unset = UNSET,
) -> ErrorList | SchedulePage | None:
    """GET /schedules

     Needs an API key with the scope `schedules:read` (or `admin`).

    Args:
        limit (int | Unset):  Default: 100.
        cursor (None | str | Unset):
        event_type (None | str | Unset):
        state (None | ScheduleState | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorList | SchedulePage
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            cursor=cursor,
            event_type=event_type,
            state=state,
        )
    ).parsed
