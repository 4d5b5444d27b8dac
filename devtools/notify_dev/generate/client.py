"""The service's HTTP API over a transport, with timeouts, and retries with backoff."""

import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

USER_AGENT = "notify-generate/1.0"


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Transport(Protocol):
    """Sends a request and returns the answer, whatever its status; raises OSError (or an
    http.client.HTTPException) when there is no answer: refused, reset, timed out."""

    def __call__(self, request: urllib.request.Request, timeout: float) -> HttpAnswer: ...


def urllib_transport(request: urllib.request.Request, timeout: float) -> HttpAnswer:
    try:
        # The scheme was checked by ApiClient: http or https only.
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return HttpAnswer(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpAnswer(error.code, dict(error.headers.items()), error.read())


class ApiError(Exception):
    """A request that failed for good: a 4xx, or no success after every attempt."""

    def __init__(self, method: str, path: str, status: int | None, detail: str) -> None:
        self.status = status
        self.detail = detail
        where = f"{method} {path}"
        super().__init__(f"{where}: HTTP {status}: {detail}" if status else f"{where}: {detail}")


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class ApiClient:
    """The service's HTTP API over a Transport, with timeouts and retries with backoff."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        transport: Transport = urllib_transport,
        timeout_s: float = 30.0,
        attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: random.Random | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the API URL must be http:// or https://, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._transport = transport
        self._timeout_s = timeout_s
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._jitter = jitter or random.Random()
        self._lock = threading.Lock()
        self.retries = 0

    def put_users(self, users: Sequence[Mapping[str, Any]]) -> int:
        return int(self.request("PUT", "/directory/users", list(users))["upserted"])

    def put_movies(self, movies: Sequence[Mapping[str, Any]]) -> int:
        return int(self.request("PUT", "/directory/movies", list(movies))["upserted"])

    def post_event(self, body: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self.request("POST", "/events", body, headers={"Idempotency-Key": idempotency_key})

    def request(
        self, method: str, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Send (and re-send, unchanged) until an answer that is not worth retrying; its JSON."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        all_headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self._auth,
            **(headers or {}),
        }
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        problem = ""
        status: int | None = None
        for attempt in range(1, self._attempts + 1):
            # The scheme was checked in __init__: http or https only.
            request = urllib.request.Request(  # noqa: S310
                self.base_url + path, data=data, headers=all_headers, method=method
            )
            delay: float | None = None
            try:
                answer = self._transport(request, self._timeout_s)
            except (OSError, http.client.HTTPException) as error:
                status, problem = None, f"{type(error).__name__}: {error}"
            else:
                status = answer.status
                if 200 <= answer.status < 300:
                    return self._json(method, path, answer)
                if not _retryable(answer.status):
                    raise ApiError(method, path, answer.status, _short(answer.text))
                problem = f"HTTP {answer.status}: {_short(answer.text)}"
                delay = _retry_after(answer.headers)
            if attempt == self._attempts:
                break
            with self._lock:
                self.retries += 1
            self._sleep(delay if delay is not None else self._backoff(attempt))
        raise ApiError(method, path, status, f"gave up after {self._attempts} attempts; last: {problem}")

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._max_backoff_s, self._backoff_s * 2 ** (attempt - 1))
        with self._lock:
            return float(ceiling * self._jitter.uniform(0.5, 1.0))

    @staticmethod
    def _json(method: str, path: str, answer: HttpAnswer) -> dict[str, Any]:
        try:
            parsed = json.loads(answer.body) if answer.body else {}
        except ValueError:
            raise ApiError(method, path, answer.status, f"not JSON: {_short(answer.text)}") from None
        if not isinstance(parsed, dict):
            raise ApiError(method, path, answer.status, f"not a JSON object: {_short(answer.text)}")
        return parsed


def _short(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return min(60.0, max(0.0, float(value)))
            except ValueError:
                return None
    return None
