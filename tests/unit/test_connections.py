"""The README's worst case of database connections, computed from the template (each function's reserved
concurrency) and the settings (the pool, the senders' writer connections): the table may not drift
from them, and its total stays under the max_connections it states."""

import re
from typing import Any

from notify.settings import Settings
from notify_dev.endpoints import ROOT
from notify_dev.intrinsics import Resolver
from notify_dev.template_lint import configuration
from notify_dev.translated import named_deployment, translated_template

SENDERS = ("SendEmailFunction", "SendSmsFunction", "SendPushFunction")


def readme_table() -> tuple[list[tuple[str, int, int, int]], int, int]:
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- connections:start -->")[1].split("<!-- connections:end -->")[0]
    rows = [
        (cells[0], int(cells[1]), int(cells[2]), int(cells[3]))
        for line in table.splitlines()
        if (cells := [c.strip() for c in line.strip("|").split("|")]) and cells[0] and cells[1].isdigit()
    ]
    total = int(re.search(r"\*\*all\*\* \| +\| +\| \*\*(\d+)\*\*", table).group(1))  # type: ignore[union-attr]
    stated = int(re.search(r"`max_connections` = ([\d,]+)", text).group(1).replace(",", ""))  # type: ignore[union-attr]
    return rows, total, stated


def computed() -> list[tuple[str, int, int, int]]:
    template = translated_template()
    resolver = Resolver(template, named_deployment(template, configuration("production")))
    settings = Settings()
    rows = []
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties: dict[str, Any] = resource["Properties"]
        name = str(resolver.resolve(properties["FunctionName"])).removeprefix("notify-")
        if logical == "MigrateFunction":
            each = 1  # notify.entrypoints.migrate: one connection, no pool
        else:
            writers = settings.messages_at_once if logical in SENDERS else 0
            each = settings.database_pool_max + writers
        environments = int(resolver.resolve(properties["ReservedConcurrentExecutions"]))
        rows.append((name, environments, each, environments * each))
    return rows


def test_the_readme_s_connection_table_is_the_template_s_worst_case() -> None:
    rows, total, stated = readme_table()
    expected = computed()

    assert sorted(rows) == sorted(expected)
    assert total == sum(row[3] for row in expected)
    assert total < stated
