"""The event generator over real HTTP: a local server in front of the HTTP entry point on the test
database (the broker faked), the way API Gateway's proxy integration calls the function."""

import io
import json
import threading
import urllib.request
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
import pytest

from notify.channels import EventType
from notify.entrypoints.http import handle
from notify_dev.generate import HttpAnswer, build_catalog, main, urllib_transport
from tests.integration.conftest import Api
from tests.integration.support import CONTEXT, rest_event, table_counts

pytestmark = pytest.mark.integration

# The resolver keeps the current event on itself: one request at a time, as in one Lambda container.
_RESOLVE = threading.Lock()


class _GatewayHandler(BaseHTTPRequestHandler):
    """Turns an HTTP request into an API Gateway REST (v1) proxy event and answers with the result."""

    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query)) or None
        event = rest_event(
            self.command, parts.path, body=body, headers=dict(self.headers.items()), query=query
        )
        with _RESOLVE:
            answer = handle(event, CONTEXT)
        payload = (answer.get("body") or "").encode()
        self.send_response(answer["statusCode"])
        for name, value in (answer.get("headers") or {}).items():
            self.send_header(name, value)
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api_url(api: Api) -> Iterator[str]:
    """The API (services installed by the `api` fixture) on 127.0.0.1, an ephemeral port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GatewayHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-api-gateway", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def read_answers(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def directory(dsn: str) -> tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]:
    with psycopg.connect(dsn) as conn:
        users = conn.execute(
            "SELECT user_id::text, email IS NOT NULL, phone, push_token, locale, timezone"
            " FROM directory_users"
        ).fetchall()
        movies = conn.execute(
            "SELECT movie_id::text, title, season, episode FROM directory_movies"
        ).fetchall()
    return {row[0]: row[1:] for row in users}, {row[0]: row[1:] for row in movies}


def test_the_generator_fills_the_directory_and_posts_a_stream_of_events(
    api: Api, api_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "answers.jsonl"
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "--api-url",
        api_url,
        "--api-key",
        str(api.api_key),
        "--users",
        "200",
        "--movies",
        "20",
        "--events",
        "30",
        "--rate",
        "100",
    ]
    argv += ["--seed", "7", "--batch-size", "64", "--output", str(output)]

    code = main(argv, stdout=out, stderr=err)

    assert code == 0, err.getvalue()
    assert err.getvalue() == ""
    # (Birthdays count back from today, and e-mails may carry the year: only their presence is compared.)
    catalog = build_catalog(7, 200, 20, today=date.today())
    users, movies = directory(api.dsn)
    assert users == {
        u["user_id"]: (u["email"] is not None, u["phone"], u["push_token"], u["locale"], u["timezone"])
        for u in catalog.users
    }
    assert movies == {m["movie_id"]: (m["title"], m["season"], m["episode"]) for m in catalog.movies}

    counts = table_counts(api.dsn)
    answers = read_answers(output)
    assert counts["events"] == 30
    assert len(answers) == 30
    assert len({a["event_id"] for a in answers}) == 30
    assert {a["event_type"] for a in answers} == set(EventType)
    assert all(a["status"] == "queued" and a["skipped_users"] == [] for a in answers)
    notifications = sum(a["notifications"] for a in answers)
    assert notifications > 0
    assert notifications == counts["notifications"]
    assert api.publisher.published
    assert f"events posted 30, accepted 30, failed 0, notifications {notifications}," in out.getvalue()


def test_a_post_whose_answer_was_lost_is_sent_again_and_answered_from_the_first(
    api: Api, api_url: str, tmp_path: Path
) -> None:
    posts = 0

    def loses_the_third_answer(request: urllib.request.Request, timeout: float) -> HttpAnswer:
        nonlocal posts
        answer = urllib_transport(request, timeout)
        if request.get_method() == "POST":
            posts += 1
            if posts == 3:
                raise TimeoutError("the answer never came back")  # the server did store the event
        return answer

    output = tmp_path / "answers.jsonl"
    out = io.StringIO()
    argv = [
        "--api-url",
        api_url,
        "--api-key",
        str(api.api_key),
        "--users",
        "50",
        "--movies",
        "5",
        "--events",
        "8",
        "--rate",
        "0",
    ]
    argv += ["--concurrency", "1", "--output", str(output)]

    code = main(argv, transport=loses_the_third_answer, stdout=out, stderr=io.StringIO())

    assert code == 0
    assert posts == 9
    assert "retries 1," in out.getvalue()
    counts = table_counts(api.dsn)
    answers = read_answers(output)
    assert counts["events"] == 8  # not 9: the second POST of the same key was a replay
    assert len({a["event_id"] for a in answers}) == 8
    assert sum(a["notifications"] for a in answers) == counts["notifications"]


def test_the_generator_without_a_key_stops_at_the_first_401_and_says_so(
    api: Api, api_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NOTIFY_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .local/endpoints.json here
    out, err = io.StringIO(), io.StringIO()

    code = main(
        ["--api-url", api_url, "--users", "5", "--movies", "1", "--events", "0"], stdout=out, stderr=err
    )

    assert code != 0
    assert "HTTP 401" in err.getvalue() + out.getvalue()
    assert table_counts(api.dsn)["directory_users"] == 0
