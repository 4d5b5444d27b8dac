#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ answer on 127.0.0.1; start them if installed but stopped.
set -euo pipefail
PGHOST=127.0.0.1 PGPORT=5432

postgres_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

# shellcheck source=../localstack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../localstack/lib.sh"

if ! postgres_up; then
  if command -v pg_ctlcluster >/dev/null; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  else
    echo "PostgreSQL is not running on 127.0.0.1:5432 and is not installed here; install it (apt-get install postgresql)" >&2
    exit 1
  fi
  wait_until 60 0.5 "" postgres_up || { echo "PostgreSQL did not come up" >&2; exit 1; }
fi

if ! rabbit_up; then
  if command -v rabbitmq-server >/dev/null; then
    echo "starting RabbitMQ"
    rabbitmq-server -detached || true
  else
    echo "RabbitMQ is not running on 127.0.0.1:5672 and is not installed here; install it (apt-get install rabbitmq-server)" >&2
    exit 1
  fi
  wait_until 90 0.5 "" rabbit_up || { echo "RabbitMQ did not come up" >&2; exit 1; }
fi
echo "PostgreSQL and RabbitMQ are up"
