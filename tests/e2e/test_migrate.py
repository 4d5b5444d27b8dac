"""The deployed Migrate function, invoked through Lambda as a deploy to AWS invokes it: it applies what
the stack's database lacks, with yoyo from the layer, and a second invoke applies nothing."""

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from notify.adapters.postgres.migrations import shipped_migrations

pytestmark = pytest.mark.e2e


def invoke(aws: Callable[[str], Any], function: str) -> dict[str, Any]:
    answer = aws("lambda").invoke(FunctionName=function)
    assert "FunctionError" not in answer, answer["Payload"].read()
    report: dict[str, Any] = json.loads(answer["Payload"].read())
    return report


def test_the_migrate_function_applies_what_the_database_lacks_once(
    endpoints: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    function = endpoints["functions"]["migrate"]
    latest = shipped_migrations()[-1]
    # An older release's database: its latest migration not recorded (what it made exists already,
    # and every migration may be applied again over it).
    with psycopg.connect(endpoints["database_url"], autocommit=True) as conn:
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = %s", (latest,))

    first = invoke(aws, function)
    second = invoke(aws, function)

    assert first == {"applied": [latest], "shipped": list(shipped_migrations())}
    assert second == {"applied": [], "shipped": list(shipped_migrations())}
    with psycopg.connect(endpoints["database_url"]) as conn:
        recorded = [row[0] for row in conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY 1")]
    assert recorded == list(shipped_migrations())
