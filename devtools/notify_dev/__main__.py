"""The local stack's own commands (each one is a make target; `make help` lists them).

python -m notify_dev prepare-db             create the database if missing, migrate it (make migrate)
python -m notify_dev finish --stack notify  SES sender, endpoints.json, health, demo directory
python -m notify_dev api-url --stack notify the deployed stack's API URL (empty if none)
python -m notify_dev make-bucket NAME       the S3 bucket sam deploy uploads to, if missing
python -m notify_dev delete-stack           delete the stack and wait for it
python -m notify_dev demo                   one event of each type, then what was delivered (make demo)
python -m notify_dev latency --runs 20      POST → three deliveries, timed (make latency)
python -m notify_dev memory                 resident memory of LocalStack and the functions (make memory)
python -m notify_dev redrive                the DLQs' messages back to their queues (make redrive)
"""

from __future__ import annotations

import argparse
import json
import sys

from notify_dev.demo import demo
from notify_dev.deploy import api_url, delete_stack, finish, make_bucket, prepare_db
from notify_dev.latency import latency
from notify_dev.processes import memory
from notify_dev.redrive import redrive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    db_parser = commands.add_parser("prepare-db", help="create the database if missing, apply its migrations")
    db_parser.add_argument("--reset", action="store_true", help="drop the database first")
    db_parser.add_argument(
        "--create-only", action="store_true", help="leave the migrations (make up: the Migrate function)"
    )
    finish_parser = commands.add_parser("finish", help="after the deploy: SES sender, endpoints.json, data")
    finish_parser.add_argument("--stack", default="notify")
    url_parser = commands.add_parser("api-url", help="the deployed stack's API URL (empty if none)")
    url_parser.add_argument("--stack", default="notify")
    bucket_parser = commands.add_parser("make-bucket", help="the S3 bucket sam deploy uploads to, if missing")
    bucket_parser.add_argument("name")
    delete_parser = commands.add_parser("delete-stack", help="delete the stack and wait for it")
    delete_parser.add_argument("--stack", default="notify")
    demo_parser = commands.add_parser("demo", help="one event of each type, then what was delivered")
    demo_parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for deliveries")
    demo_parser.add_argument(
        "--own-events", action="store_true", help="post the built-in demo events, not the generator's"
    )
    latency_parser = commands.add_parser("latency", help="POST → e-mail, SMS and push in the stores, timed")
    latency_parser.add_argument("--runs", type=int, default=20)
    commands.add_parser("memory", help="resident memory of LocalStack and the function processes")
    redrive_parser = commands.add_parser("redrive", help="the DLQs' messages back to their queues")
    redrive_parser.add_argument("--broker", choices=["sqs", "rabbitmq"], default="sqs")
    redrive_parser.add_argument("--queue", help="only this queue's DLQ (e.g. notify-email-high)")
    args = parser.parse_args(argv)
    if args.command in {"latency", "memory"}:
        print(json.dumps(latency(args.runs) if args.command == "latency" else memory(), ensure_ascii=False))
        return 0
    if args.command == "redrive":
        print(json.dumps({"redriven": redrive(args.broker, args.queue)}))
        return 0
    if args.command == "prepare-db":
        prepare_db(reset=args.reset, migrate=not args.create_only)
        return 0
    if args.command == "make-bucket":
        make_bucket(args.name)
        return 0
    if args.command == "delete-stack":
        delete_stack(args.stack)
        return 0
    if args.command == "api-url":
        print(api_url(args.stack))
        return 0
    if args.command == "finish":
        finish(args.stack)
        return 0
    return demo(args.timeout, args.own_events)


if __name__ == "__main__":
    sys.exit(main())
