"""The event generator: its data against the service's own models, determinism, pacing, retries."""

import io
import json
import random
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from notify.channels import EventType
from notify.events.models import DirectoryMovie, DirectoryUser, EventRequest
from notify_dev.generate import (
    PRIORITIES,
    ApiClient,
    ApiError,
    HttpAnswer,
    Options,
    Pacer,
    Progress,
    Run,
    build_catalog,
    build_movies,
    build_users,
    default_api_url,
    main,
    plan_events,
)

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


# ---- fakes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    timeout: float
    at: float


class FakeTransport:
    """Records every request; answers with `respond(sent)`: an HttpAnswer, or an exception to raise."""

    def __init__(
        self,
        respond: Callable[[Sent], HttpAnswer | Exception] | None = None,
        clock: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.sent: list[Sent] = []
        self._respond = respond or accept_everything
        self._clock = clock
        self._lock = threading.Lock()

    def __call__(self, request: urllib.request.Request, timeout: float) -> HttpAnswer:
        data = request.data
        assert data is None or isinstance(data, bytes)
        sent = Sent(
            method=request.get_method(),
            path=request.full_url.removeprefix("http://api.test"),
            headers={name.lower(): value for name, value in request.header_items()},
            body=json.loads(data) if data else None,
            timeout=timeout,
            at=self._clock(),
        )
        with self._lock:
            self.sent.append(sent)
        answer = self._respond(sent)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def posts(self) -> list[Sent]:
        return [s for s in self.sent if s.method == "POST"]

    def puts(self, path: str) -> list[Sent]:
        return [s for s in self.sent if s.method == "PUT" and s.path == path]


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpAnswer:
    return HttpAnswer(
        status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()
    )


def accept_everything(sent: Sent) -> HttpAnswer:
    if sent.method == "PUT":
        return json_answer(200, {"upserted": len(sent.body)})
    users = sent.body["payload"]["user"]
    return json_answer(
        202,
        {
            "event_id": "00000000-0000-4000-8000-000000000001",
            "status": "queued",
            "recipients": len(users),
            "notifications": 2 * len(users),
            "skipped_users": [],
            "schedule_id": None,
            "next_run_at": None,
        },
    )


class FakeClock:
    """Time that passes only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def client(transport: FakeTransport, sleeps: list[float] | None = None, **kwargs: Any) -> ApiClient:
    record = sleeps if sleeps is not None else []
    return ApiClient(
        "http://api.test/", transport=transport, sleep=record.append, jitter=random.Random(0), **kwargs
    )


# ---- the data -----------------------------------------------------------------------------------


def test_users_validate_against_the_directory_model_and_look_like_a_real_audience() -> None:
    users = build_users(random.Random(1), 600, today=TODAY)

    models = [DirectoryUser.model_validate(user) for user in users]

    assert len({model.user_id for model in models}) == 600
    emails = [m.email for m in models if m.email]
    assert len(emails) == len(set(emails))
    assert all(email.endswith(".example") for email in emails)  # never deliverable
    assert {m.locale for m in models} == {"ru", "en"}
    zones = Counter(m.timezone for m in models)
    assert {"Europe/Moscow", "Asia/Yekaterinburg", "Europe/Berlin", "America/New_York", "UTC"} <= set(zones)
    assert zones.most_common(1)[0][0] == "Europe/Moscow"
    with_email = sum(1 for m in models if m.email)
    with_phone = sum(1 for m in models if m.phone)
    with_push = sum(1 for m in models if m.push_token)
    with_none = sum(1 for m in models if not (m.email or m.phone or m.push_token))
    assert with_email > 0.8 * 600
    assert 0.2 * 600 < with_phone < 0.5 * 600
    assert 0.3 * 600 < with_push < 0.6 * 600
    assert 0 < with_none < 0.08 * 600
    russian = [m for m in models if m.locale == "ru"]
    assert all(m.first_name and "а" <= m.first_name[0].lower() <= "я" for m in russian)
    english = [m for m in models if m.locale == "en"]
    assert all(m.first_name and m.first_name.isascii() for m in english)
    assert all(m.phone.startswith("+7") for m in russian if m.phone)


def test_movies_validate_and_are_films_and_episodes_of_series() -> None:
    movies, series = build_movies(random.Random(2), 40, today=TODAY)

    models = [DirectoryMovie.model_validate(movie) for movie in movies]

    assert len({m.movie_id for m in models}) == 40
    episodes = [m for m in models if m.season is not None]
    films = [m for m in models if m.season is None]
    assert episodes
    assert films
    assert all(m.episode is not None and m.episode >= 1 for m in episodes)
    assert all(m.episode is None for m in films)
    assert all(m.release_date is not None and m.release_date <= TODAY for m in models)
    by_id = {str(m.movie_id): m for m in models}
    assert sum(len(s.episodes) for s in series) == len(episodes)
    for one in series:
        rows = [by_id[movie_id] for movie_id in one.episodes]
        assert {row.title for row in rows} == {one.title}
        order = [(row.season, row.episode) for row in rows]
        assert order == sorted(order, key=lambda pair: (pair[0] or 0, pair[1] or 0))
        dates = [row.release_date for row in rows]
        assert dates == sorted(dates, key=lambda d: d or TODAY)


def test_a_single_movie_is_an_episode_so_that_every_event_type_has_content() -> None:
    movies, series = build_movies(random.Random(3), 1, today=TODAY)

    assert len(movies) == 1
    assert movies[0]["season"] is not None
    assert series[0].episodes == (movies[0]["movie_id"],)


def test_events_validate_against_the_event_request_and_fit_their_type() -> None:
    catalog = build_catalog(5, 300, 30, today=TODAY)
    user_ids = set(catalog.user_ids)
    movie_ids = {movie["movie_id"] for movie in catalog.movies}
    episode_of = {movie_id: s for s in catalog.series for movie_id in s.episodes}

    events = list(plan_events(random.Random(6), catalog, 300, max_recipients=100))

    for event in events:
        body = event.body(NOW)
        request = EventRequest.model_validate(body)
        assert request.created_dt == NOW
        assert request.payload.user is not None
        assert request.priority in PRIORITIES[event.event_type]
        assert set(request.payload.user) <= user_ids
        assert len(set(request.payload.user)) == len(request.payload.user)
        assert len(request.payload.user) <= 100
        assert request.payload.content
        assert set(request.payload.content) <= movie_ids
        match event.event_type:
            case EventType.NEW_EPISODE:
                (episode,) = request.payload.content
                series = episode_of[episode]
                assert request.payload.user == catalog.followers(series, 100)
            case EventType.COMMENT_LIKED:
                assert len(request.payload.user) == 1
            case EventType.WATCH_LATER_REMINDER:
                assert 1 <= len(request.payload.user) <= 3
            case EventType.NEW_RELEASES_PROMO:
                assert len(request.payload.user) >= 50
                assert request.priority <= 2
    promos = [e for e in events if e.event_type == EventType.NEW_RELEASES_PROMO]
    assert max(len(e.users) for e in promos) == 100  # the --max-recipients cap


def test_followers_of_a_series_are_the_same_users_every_time() -> None:
    catalog = build_catalog(8, 500, 20, today=TODAY)
    series = catalog.series[0]

    first = catalog.followers(series, 10_000)

    assert first == catalog.followers(series, 10_000)
    assert catalog.followers(series, 5) == first[:5]
    assert 0.04 * 500 <= len(first) <= 0.41 * 500


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    one = build_catalog(11, 200, 25, today=TODAY)
    two = build_catalog(11, 200, 25, today=TODAY)
    other = build_catalog(12, 200, 25, today=TODAY)

    assert one.users == two.users
    assert one.movies == two.movies
    assert one.series == two.series
    assert one.users != other.users
    assert one.movies != other.movies
    stream_one = list(plan_events(random.Random("s"), one, 50, max_recipients=1000))
    stream_two = list(plan_events(random.Random("s"), two, 50, max_recipients=1000))
    assert stream_one == stream_two
    # More users do not move the movies (each comes from a stream of its own).
    assert build_catalog(11, 250, 25, today=TODAY).movies == one.movies


def test_all_four_event_types_appear_over_a_stream_the_first_four_one_of_each() -> None:
    catalog = build_catalog(1, 50, 10, today=TODAY)

    events = list(plan_events(random.Random(1), catalog, 400, max_recipients=1000))

    assert {e.event_type for e in events[:4]} == set(EventType)
    counts = Counter(e.event_type for e in events)
    assert set(counts) == set(EventType)
    assert counts.most_common(1)[0][0] == EventType.COMMENT_LIKED
    assert counts[EventType.NEW_RELEASES_PROMO] == min(counts.values())


# ---- pacing -------------------------------------------------------------------------------------


def test_pacer_spaces_calls_at_the_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(5, clock=clock, sleep=clock.sleep)
    moments = []

    for _ in range(10):
        pacer.wait()
        moments.append(clock.now)

    assert moments == pytest.approx([0.2 * n for n in range(10)])


def test_pacer_counts_time_spent_between_calls_and_catches_up_at_most_a_second() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 0.05  # the work took half an interval
    pacer.wait()
    assert clock.now == pytest.approx(0.1)

    clock.now += 5.0  # a long stall: no burst of 50 calls afterwards
    moments = []
    for _ in range(15):
        pacer.wait()
        moments.append(clock.now)
    assert sum(1 for m in moments if m == pytest.approx(5.1)) == 1
    assert moments[-1] == pytest.approx(5.1 + 1.4)


def test_rate_zero_does_not_pace() -> None:
    clock = FakeClock()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        pacer.wait()
    assert clock.sleeps == []


def test_a_run_posts_the_events_at_the_chosen_rate() -> None:
    clock = FakeClock()
    transport = FakeTransport(clock=clock)
    options = Options(api_url="http://api.test", users=20, movies=5, events=8, rate=4, concurrency=1)
    run = Run(options, client(transport), stderr=io.StringIO(), clock=clock, sleep=clock.sleep, today=TODAY)

    summary = run.execute()

    assert [s.at for s in transport.posts()] == pytest.approx([0.25 * n for n in range(8)])
    assert summary.posted == summary.accepted == 8
    assert summary.failed == 0
    assert summary.elapsed_s == summary.events_elapsed_s == pytest.approx(1.75)
    assert "(events 4.6/s)" in summary.line()


# ---- the client: retries ------------------------------------------------------------------------


def test_retries_a_503_with_the_same_idempotency_key_and_body() -> None:
    answers = iter([json_answer(503, {"errors": []}), json_answer(503, {"errors": []})])
    transport = FakeTransport(lambda sent: next(answers, None) or accept_everything(sent))
    sleeps: list[float] = []
    api = client(transport, sleeps, backoff_s=0.5)
    body = {"event_type": "comment_liked", "created_dt": NOW.isoformat(), "payload": {"user": ["u"]}}

    answer = api.post_event(body, "key-1")

    assert answer["status"] == "queued"
    assert len(transport.sent) == 3
    assert {s.headers["idempotency-key"] for s in transport.sent} == {"key-1"}
    assert all(s.body == body for s in transport.sent)
    assert all(s.headers["content-type"] == "application/json" for s in transport.sent)
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5  # exponential backoff with jitter
    assert 0.5 <= sleeps[1] <= 1.0
    assert api.retries == 2


def test_retries_connection_errors_and_timeouts_and_honours_retry_after() -> None:
    answers: Iterator[HttpAnswer | Exception] = iter(
        [
            urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
            TimeoutError("timed out"),
            json_answer(429, {"errors": []}, {"Retry-After": "3"}),
        ]
    )
    transport = FakeTransport(lambda sent: next(answers, None) or accept_everything(sent))
    sleeps: list[float] = []

    upserted = client(transport, sleeps, timeout_s=7).put_users([{"user_id": "x"}])

    assert upserted == 1
    assert len(transport.sent) == 4
    assert sleeps[2] == 3.0
    assert {s.timeout for s in transport.sent} == {7}


def test_gives_up_after_the_last_attempt() -> None:
    transport = FakeTransport(lambda sent: json_answer(502, {"message": "Bad Gateway"}))

    with pytest.raises(ApiError) as raised:
        client(transport, attempts=3).post_event({}, "key-2")

    assert len(transport.sent) == 3
    assert raised.value.status == 502
    assert "gave up after 3 attempts" in str(raised.value)
    assert "Bad Gateway" in str(raised.value)


def test_does_not_retry_a_422_and_reports_its_body() -> None:
    problem = {"errors": [{"loc": ["body", "payload", "content", 0], "msg": "unknown movie id x"}]}
    transport = FakeTransport(lambda sent: json_answer(422, problem))
    sleeps: list[float] = []

    with pytest.raises(ApiError) as raised:
        client(transport, sleeps).post_event({}, "key-3")

    assert len(transport.sent) == 1
    assert sleeps == []
    assert raised.value.status == 422
    assert "unknown movie id x" in str(raised.value)


def test_the_api_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        ApiClient("file:///etc/passwd")


# ---- progress -----------------------------------------------------------------------------------


def test_progress_draws_one_line_on_a_terminal_and_nothing_elsewhere() -> None:
    tty, pipe = FakeTty(), io.StringIO()
    clock = FakeClock()
    for stream in (tty, pipe):
        progress = Progress(stream, clock=clock, every_s=0)
        progress.start("events", 10)
        clock.now += 1
        progress.update(5, errors=1, extra="notifications 12")
        progress.note("error: something")
        progress.update(10, errors=1, force=True)
        progress.finish()

    assert pipe.getvalue() == "error: something\n"
    text = tty.getvalue()
    assert "\revents 5/10 [############............]  50% 5.0/s errors 1  notifications 12" in text
    assert "error: something\n" in text
    assert "events 10/10" in text
    assert text.endswith("\n")


# ---- the command line ---------------------------------------------------------------------------


def test_main_fills_the_directory_in_batches_posts_the_events_and_writes_the_answers(tmp_path: Path) -> None:
    transport = FakeTransport()
    out, err = io.StringIO(), io.StringIO()
    output = tmp_path / "answers.jsonl"
    argv = ["--api-url", "http://api.test", "--users", "25", "--movies", "6", "--events", "12"]
    argv += ["--rate", "0", "--batch-size", "10", "--output", str(output), "--seed", "3"]

    code = main(argv, transport=transport, stdout=out, stderr=err)

    assert code == 0
    user_puts = transport.puts("/directory/users")
    assert [len(s.body) for s in user_puts] == [10, 10, 5]
    assert [len(s.body) for s in transport.puts("/directory/movies")] == [6]
    users = [DirectoryUser.model_validate(row) for s in user_puts for row in s.body]
    assert len({u.user_id for u in users}) == 25
    posts = transport.posts()
    assert len(posts) == 12
    assert len({s.headers["idempotency-key"] for s in posts}) == 12
    for sent in posts:
        assert sent.path == "/events"
        EventRequest.model_validate(sent.body)
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(lines) == 12
    assert {line["event_type"] for line in lines} == set(EventType)
    notifications = sum(line["notifications"] for line in lines)
    assert out.getvalue().startswith(
        "users 25, movies 6, events posted 12, accepted 12, failed 0, "
        f"notifications {notifications}, retries 0,"
    )
    assert err.getvalue() == ""  # not a terminal: no progress bar


def test_main_counts_a_refused_event_prints_its_body_and_exits_1() -> None:
    def respond(sent: Sent) -> HttpAnswer:
        if sent.method == "POST" and sent.body["event_type"] == "new_releases_promo":
            return json_answer(422, {"errors": [{"loc": ["body", "priority"], "msg": "too low"}]})
        return accept_everything(sent)

    transport = FakeTransport(respond)
    out, err = io.StringIO(), io.StringIO()
    argv = ["--api-url", "http://api.test", "--users", "10", "--movies", "3", "--events", "4", "--rate", "0"]

    code = main(argv, transport=transport, stdout=out, stderr=err)

    assert code == 1
    assert len(transport.posts()) == 4  # one refusal does not stop the stream, nor is it retried
    assert "accepted 3, failed 1" in out.getvalue()
    assert "new_releases_promo: POST /events: HTTP 422" in err.getvalue()
    assert "too low" in err.getvalue()


def test_a_directory_failure_posts_no_events() -> None:
    transport = FakeTransport(lambda sent: json_answer(422, {"errors": [{"loc": ["body", 0], "msg": "bad"}]}))
    out, err = io.StringIO(), io.StringIO()

    code = main(
        ["--api-url", "http://api.test", "--events", "5"], transport=transport, stdout=out, stderr=err
    )

    assert code == 1
    assert transport.posts() == []
    assert len(transport.sent) == 1
    assert "PUT /directory/users: HTTP 422" in err.getvalue()


def test_skip_directory_posts_events_about_the_same_seeds_data() -> None:
    filled, skipped = FakeTransport(), FakeTransport()
    common = [
        "--api-url",
        "http://api.test",
        "--users",
        "40",
        "--movies",
        "8",
        "--events",
        "6",
        "--rate",
        "0",
    ]

    assert main([*common, "--concurrency", "1"], transport=filled, stdout=io.StringIO()) == 0
    assert main([*common, "--skip-directory"], transport=skipped, stdout=io.StringIO()) == 0

    assert skipped.puts("/directory/users") == []
    assert skipped.puts("/directory/movies") == []
    known_users = {row["user_id"] for s in filled.puts("/directory/users") for row in s.body}
    known_movies = {row["movie_id"] for s in filled.puts("/directory/movies") for row in s.body}
    for sent in skipped.posts():
        assert set(sent.body["payload"]["user"]) <= known_users
        assert set(sent.body["payload"]["content"]) <= known_movies


def test_the_api_url_defaults_to_the_local_endpoints_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_api_url() is None
    with pytest.raises(SystemExit) as raised:
        main(["--events", "0"], transport=FakeTransport(), stdout=io.StringIO(), stderr=io.StringIO())
    assert raised.value.code == 2

    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "endpoints.json").write_text(json.dumps({"api_url": "http://api.test/"}))
    transport = FakeTransport()

    code = main(["--users", "3", "--movies", "2", "--events", "0"], transport=transport, stdout=io.StringIO())

    assert code == 0
    assert [s.path for s in transport.sent] == ["/directory/users", "/directory/movies"]
