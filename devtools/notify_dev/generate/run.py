"""One run: fill the directory in batches, then post the events at the rate, in parallel."""

import json
import random
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from notify.channels import EventType
from notify_dev.generate.catalog import Catalog, build_catalog
from notify_dev.generate.client import ApiClient, ApiError
from notify_dev.generate.events import plan_events
from notify_dev.generate.progress import Pacer, Progress


@dataclass(frozen=True)
class Options:
    api_url: str
    users: int = 1000
    movies: int = 100
    events: int = 100
    rate: float = 10.0
    seed: int = 42
    max_recipients: int = 5000
    skip_directory: bool = False
    output: Path | None = None
    batch_size: int = 1000
    concurrency: int = 4
    timeout_s: float = 30.0


@dataclass
class Summary:
    users: int = 0
    movies: int = 0
    posted: int = 0
    accepted: int = 0
    failed: int = 0
    notifications: int = 0
    elapsed_s: float = 0.0
    events_elapsed_s: float = 0.0  # from the first event posted to the last answer
    directory_failed: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.directory_failed

    def line(self, retries: int = 0) -> str:
        rate = self.posted / self.events_elapsed_s if self.events_elapsed_s > 0 else 0.0
        return (
            f"users {self.users}, movies {self.movies}, events posted {self.posted}, "
            f"accepted {self.accepted}, failed {self.failed}, notifications {self.notifications}, "
            f"retries {retries}, elapsed {self.elapsed_s:.1f}s (events {rate:.1f}/s)"
        )


MAX_SHOWN_ERRORS = 20


class Run:
    """One generator run: fill the directory, then post the event stream."""

    def __init__(
        self,
        options: Options,
        client: ApiClient,
        *,
        stderr: TextIO = sys.stderr,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        today: date | None = None,
        new_key: Callable[[], str] = lambda: str(uuid.uuid4()),
        progress: Progress | None = None,
    ) -> None:
        self.options = options
        self.client = client
        self.summary = Summary()
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._today = today or date.today()
        self._new_key = new_key
        self._progress = progress or Progress(stderr, clock=clock)
        self._shown_errors = 0
        self._output: TextIO | None = None

    def execute(self) -> Summary:
        started = self._clock()
        opts = self.options
        catalog = build_catalog(opts.seed, opts.users, opts.movies, today=self._today)
        try:
            if opts.output is not None:
                self._output = opts.output.open("w", encoding="utf-8")
            if not opts.skip_directory:
                self._fill_directory(catalog)
            if not self.summary.directory_failed and opts.events > 0:
                self._post_events(catalog)
        finally:
            if self._output is not None:
                self._output.close()
            self.summary.elapsed_s = self._clock() - started
        return self.summary

    def _error(self, text: str) -> None:
        self._shown_errors += 1
        if self._shown_errors <= MAX_SHOWN_ERRORS:
            self._progress.note(f"error: {text}")
        elif self._shown_errors == MAX_SHOWN_ERRORS + 1:
            self._progress.note("error: … (further errors are counted, not shown)")

    def _fill_directory(self, catalog: Catalog) -> None:
        size = max(1, self.options.batch_size)
        for label, rows, put in (
            ("users", catalog.users, self.client.put_users),
            ("movies", catalog.movies, self.client.put_movies),
        ):
            self._progress.start(label, len(rows))
            done = 0
            for start in range(0, len(rows), size):
                try:
                    put(rows[start : start + size])
                except ApiError as error:
                    self._progress.finish()
                    self._error(f"{error} (directory not filled; no events posted)")
                    self.summary.directory_failed = True
                    return
                done += len(rows[start : start + size])
                self._progress.update(done, force=done == len(rows))
            self._progress.finish()
            if label == "users":
                self.summary.users = done
            else:
                self.summary.movies = done

    def _post_events(self, catalog: Catalog) -> None:
        opts = self.options
        if not catalog.users or not catalog.movies:
            self._error("events need at least one user and one movie")
            self.summary.failed = opts.events
            return
        if opts.skip_directory:
            self.summary.users, self.summary.movies = len(catalog.users), len(catalog.movies)
        plan = plan_events(
            random.Random(f"{opts.seed}:events"), catalog, opts.events, max_recipients=opts.max_recipients
        )
        pacer = Pacer(opts.rate, clock=self._clock, sleep=self._sleep)
        self._progress.start("events", opts.events)
        started = self._clock()
        pending: set[Future[dict[str, Any]]] = set()
        kinds: dict[Future[dict[str, Any]], EventType] = {}
        with ThreadPoolExecutor(max_workers=max(1, opts.concurrency)) as pool:
            try:
                for planned in plan:
                    while len(pending) >= max(1, opts.concurrency):
                        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                        self._record(finished, kinds)
                    pacer.wait()
                    body = planned.body(self._now())
                    future = pool.submit(self.client.post_event, body, self._new_key())
                    kinds[future] = planned.event_type
                    pending.add(future)
                    self.summary.posted += 1
                    finished = {f for f in pending if f.done()}
                    pending -= finished
                    self._record(finished, kinds)
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    self._record(finished, kinds)
            except KeyboardInterrupt:
                for future in pending:
                    future.cancel()
                self._progress.finish()
                self._error("interrupted")
                self.summary.failed += sum(1 for f in pending if f.cancelled())
                raise
        self.summary.events_elapsed_s = self._clock() - started
        self._draw(force=True)
        self._progress.finish()

    def _draw(self, *, force: bool = False) -> None:
        done = self.summary.accepted + self.summary.failed
        extra = f"notifications {self.summary.notifications}"
        self._progress.update(done, errors=self.summary.failed, extra=extra, force=force)

    def _record(
        self, finished: set[Future[dict[str, Any]]], kinds: dict[Future[dict[str, Any]], EventType]
    ) -> None:
        for future in finished:
            event_type = kinds.pop(future)
            try:
                answer = future.result()
            except ApiError as error:
                self.summary.failed += 1
                self._error(f"{event_type}: {error}")
            else:
                self.summary.accepted += 1
                self.summary.notifications += int(answer.get("notifications", 0))
                if self._output is not None:
                    line = json.dumps({**answer, "event_type": str(event_type)}, ensure_ascii=False)
                    self._output.write(line + "\n")
                    self._output.flush()
        self._draw()
