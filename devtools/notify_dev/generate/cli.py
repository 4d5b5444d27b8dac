"""The command line: `python -m notify_dev.generate`."""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from notify.models import MAX_USERS_PER_EVENT
from notify_dev.generate.client import ApiClient, Transport, urllib_transport
from notify_dev.generate.run import Options, Run

ENDPOINTS_FILE = Path(".local/endpoints.json")


def default_api_url(path: Path = ENDPOINTS_FILE) -> str | None:
    """The "api_url" of .local/endpoints.json (written by the local stack), if there is one."""
    return _endpoint(path, "api_url")


def default_api_key(path: Path = ENDPOINTS_FILE) -> str | None:
    """NOTIFY_API_KEY, else the "api_key" of .local/endpoints.json (the local admin key)."""
    return os.environ.get("NOTIFY_API_KEY") or _endpoint(path, "api_key")


def _endpoint(path: Path, name: str) -> str | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get(name)
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def _positive_or_zero(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _recipients(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_USERS_PER_EVENT:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_USERS_PER_EVENT}")
    return value


def parser() -> argparse.ArgumentParser:
    defaults = Options(api_url="")
    cli = argparse.ArgumentParser(
        prog="python -m notify_dev.generate",
        description="Fill the directory with users and movies and post a stream of events to the HTTP API.",
    )
    cli.add_argument(
        "--api-url",
        help=f'the API\'s base URL (default: "api_url" of {ENDPOINTS_FILE}, if present)',
    )
    cli.add_argument(
        "--api-key",
        help=f'sent as Authorization: Bearer (default: NOTIFY_API_KEY, else "api_key" of {ENDPOINTS_FILE})',
    )
    cli.add_argument("--users", type=_positive_or_zero, default=defaults.users, help="users (%(default)s)")
    cli.add_argument("--movies", type=_positive_or_zero, default=defaults.movies, help="movies (%(default)s)")
    cli.add_argument("--events", type=_positive_or_zero, default=defaults.events, help="events (%(default)s)")
    cli.add_argument(
        "--rate",
        type=float,
        default=defaults.rate,
        help="events per second, 0: as fast as possible (%(default)s)",
    )
    cli.add_argument("--seed", type=int, default=defaults.seed, help="random seed (%(default)s)")
    cli.add_argument(
        "--max-recipients",
        type=_recipients,
        default=defaults.max_recipients,
        help="most users in one event (%(default)s)",
    )
    cli.add_argument(
        "--skip-directory",
        action="store_true",
        help="do not upload users and movies (a run with the same --seed/--users/--movies did)",
    )
    cli.add_argument("--output", type=Path, help="write the accepted answers to this file, one JSON a line")
    cli.add_argument(
        "--batch-size", type=int, default=defaults.batch_size, help="directory rows per PUT (%(default)s)"
    )
    cli.add_argument(
        "--concurrency", type=int, default=defaults.concurrency, help="events in flight at most (%(default)s)"
    )
    cli.add_argument(
        "--timeout", type=float, default=defaults.timeout_s, help="seconds per request (%(default)s)"
    )
    return cli


def main(
    argv: Sequence[str] | None = None,
    *,
    transport: Transport = urllib_transport,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    cli = parser()
    args = cli.parse_args(argv)
    api_url = args.api_url or default_api_url()
    if not api_url:
        cli.error(f"no --api-url given and no api_url in {ENDPOINTS_FILE}")
    if args.events and (not args.users or not args.movies):
        cli.error("events need --users and --movies of at least 1")
    options = Options(
        api_url=api_url,
        users=args.users,
        movies=args.movies,
        events=args.events,
        rate=args.rate,
        seed=args.seed,
        max_recipients=args.max_recipients,
        skip_directory=args.skip_directory,
        output=args.output,
        batch_size=max(1, args.batch_size),
        concurrency=max(1, args.concurrency),
        timeout_s=args.timeout,
    )
    try:
        client = ApiClient(
            api_url,
            api_key=args.api_key or default_api_key(),
            transport=transport,
            timeout_s=options.timeout_s,
        )
    except ValueError as error:
        cli.error(str(error))
    run = Run(options, client, stderr=err)
    try:
        summary = run.execute()
    except KeyboardInterrupt:
        print(run.summary.line(client.retries), file=out)
        return 130
    print(summary.line(client.retries), file=out)
    return 0 if summary.ok else 1
