"""API keys from the command line, straight on the database (so that the first admin key can be made):

    python -m notify.entrypoints.keys create --name NAME --scope events:write [--scope …]
                                             [--rate-per-minute N]
    python -m notify.entrypoints.keys list
    python -m notify.entrypoints.keys revoke ID

`make keys ARGS="…"` runs it with the project's settings (NOTIFY_DATABASE_URL). `create` prints the key
once, as JSON; nothing prints it again.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from notify.access import Scope, issue_key, revoke
from notify.bootstrap import services
from notify.errors import InvalidInput, NotFound


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notify.entrypoints.keys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="a new key, printed once")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="append", required=True, choices=[str(s) for s in Scope])
    create.add_argument("--rate-per-minute", type=int, default=None, help="none: no limit")
    commands.add_parser("list", help="every key, without secrets")
    revoke_parser = commands.add_parser("revoke", help="the key stops working within 60 s")
    revoke_parser.add_argument("key_id")
    args = parser.parse_args(argv)
    keys, now = services().api_keys, datetime.now(UTC)
    try:
        if args.command == "create":
            if args.rate_per_minute is not None and args.rate_per_minute < 1:
                parser.error("--rate-per-minute must be at least 1")
            issued = issue_key(args.name, args.scope, args.rate_per_minute, now=now, keys=keys)
            print(json.dumps({"id": issued.record.key_id, "key": issued.key, "name": args.name}))
        elif args.command == "list":
            for record in keys.list_keys():
                state = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "active"
                print(f"{record.key_id}  {record.name:<24} {','.join(sorted(record.scopes)):<40} {state}")
        else:
            revoke(args.key_id, keys=keys, now=now)
            print(f"revoked {args.key_id}")
    except (InvalidInput, NotFound) as error:
        print(f"keys: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
