"""The benchmarks' arithmetic (notify_dev.benchmarks): percentiles, ratios, the quiet-hours-free zone,
and how lost and duplicated e-mails are counted. No benchmark is run here."""

import importlib.util
import json
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notify.delivery.controls import DEFAULT_QUIET_HOURS
from notify.entrypoints.http import access, api
from notify_dev.benchmarks import delivery_counts, percentile, quiet_free_timezone, ratio
from tests.fakes import FakeEventStore, FakePublisher
from tests.unit.api_calls import call, install_fakes

ROOT = Path(__file__).resolve().parents[2]


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(n) for n in range(1, 21)]  # 1 … 20
    assert percentile(values, 50) == pytest.approx(10.5)
    assert percentile(values, 99) == pytest.approx(19.81)
    assert percentile(values, 100) == 20
    assert percentile([3.0], 99) == 3.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_percentile_ignores_order() -> None:
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0


def test_ratio_rounds_and_survives_a_zero_baseline() -> None:
    assert ratio(80, 160) == 0.5
    assert ratio(1, 3) == 0.333
    assert ratio(5, 0) == 0.0


@pytest.mark.parametrize("hour", range(24))
def test_the_chosen_zone_is_out_of_the_default_quiet_hours_for_hours(hour: int) -> None:
    now = datetime(2026, 12, 1, hour, 30, tzinfo=UTC)
    local = now.astimezone(ZoneInfo(quiet_free_timezone(now)))
    assert local.hour == 12
    assert DEFAULT_QUIET_HOURS.end <= time(local.hour + 6) <= DEFAULT_QUIET_HOURS.start


def test_lost_duplicates_and_unrecorded_are_counted_per_recipient() -> None:
    address_of = {"a": "a@x", "b": "b@x", "c": "c@x", "d": "d@x", "e": "e@x"}
    statuses = {"a": "sent", "b": "sent", "c": "sending", "d": "unconfirmed", "e": "failed"}
    emails = Counter({"a@x": 1, "b@x": 3, "c@x": 1, "d@x": 1})
    assert delivery_counts(statuses, emails, address_of) == {"lost": 2, "duplicates": 2, "unrecorded": 1}


def test_auth_bench_baseline_lets_a_keyless_request_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/auth.py's open door patches api.check_access: it must still be what the router's gate
    calls, else the baseline measures 401s (or 500s) instead of the same work without the check."""
    spec = importlib.util.spec_from_file_location("bench_auth", ROOT / "bench" / "auth.py")
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    patch = bench.OPEN_HANDLER.split("from app import")[0]
    monkeypatch.setattr(api, "check_access", access.check_access)  # restored after the test
    exec(compile(patch, "bench_open_door.py", "exec"), {})  # noqa: S102 - the bench's own patch text
    install_fakes(FakeEventStore(), FakePublisher())

    status, _, body = call("POST", "/events", None, {})

    assert status == 422, json.dumps(body)  # through the gate: the body is what is refused, not the key
