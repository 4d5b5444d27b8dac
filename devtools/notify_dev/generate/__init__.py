"""The event generator: a stand-in for the Auth API, the UGC API and the admin panel.

`python -m notify_dev.generate` fills the service's directory with N users and M movies through the
HTTP API (PUT /directory/users, PUT /directory/movies, in batches) and then posts K events of all
four types to POST /events at a chosen rate, with a progress bar on stderr and a summary line on
stdout. It serves `make demo` and load tests; it needs nothing beyond the standard library.

    python -m notify_dev.generate --api-url URL [--users N] [--movies M] [--events K] [--rate R]
        [--seed S] [--max-recipients X] [--skip-directory] [--output FILE]

- The data are made up but look real: Russian and English (also British and German) names,
  their locales and time zones, phones of the country (in fictional ranges where one exists),
  e-mail addresses on reserved `.example` domains (never deliverable), FCM-style push tokens;
  most users have an e-mail, some a phone, some a push token, a few nothing at all. Movies are
  films and episodes of series (season, episode, weekly release dates up to about today).
- Events: `new_episode` for the latest episode of a series to its followers (a fixed subset of
  the users per series), `comment_liked` to one user, `new_releases_promo` with the newest
  releases to many users at a low priority, `watch_later_reminder` to one to three users.
  The first four events of a stream are one of each type; after that the mix is weighted.
- The same --seed gives the same users, movies and event stream (release dates and birthdays
  are counted back from today); --skip-directory relies on that: run it with the --seed,
  --users and --movies of the run that filled the directory.
- Every event is sent with an Idempotency-Key of its own; a POST that timed out, met a
  connection error, a 5xx or a 429 is sent again, unchanged, with the same key and an
  exponential backoff (Retry-After is honoured). A 4xx is never retried: its body is printed
  and the event counted as failed. The exit code is 0 only if no event failed.
- --output FILE writes one JSON line per accepted event: the API's answer plus `event_type`.
"""

from notify_dev.generate.catalog import Catalog, Series, build_catalog, build_movies, build_users
from notify_dev.generate.cli import default_api_url, main, parser
from notify_dev.generate.client import ApiClient, ApiError, HttpAnswer, Transport, urllib_transport
from notify_dev.generate.events import EVENT_WEIGHTS, PRIORITIES, PlannedEvent, plan_event, plan_events
from notify_dev.generate.progress import Pacer, Progress
from notify_dev.generate.run import Options, Run, Summary

__all__ = [
    "EVENT_WEIGHTS",
    "PRIORITIES",
    "ApiClient",
    "ApiError",
    "Catalog",
    "HttpAnswer",
    "Options",
    "Pacer",
    "PlannedEvent",
    "Progress",
    "Run",
    "Series",
    "Summary",
    "Transport",
    "build_catalog",
    "build_movies",
    "build_users",
    "default_api_url",
    "main",
    "parser",
    "plan_event",
    "plan_events",
    "urllib_transport",
]
