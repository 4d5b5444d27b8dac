from datetime import UTC, datetime

import pytest

from notify.cron import check_cron, next_run


def test_next_run_reads_cron_in_the_given_timezone() -> None:
    after = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)  # 15:00 in Moscow (UTC+3)
    assert next_run("0 9 * * *", "Europe/Moscow", after) == datetime(2025, 1, 11, 6, 0, tzinfo=UTC)


def test_next_run_returns_utc() -> None:
    result = next_run("30 8 * * *", "America/New_York", datetime(2025, 1, 10, 0, 0, tzinfo=UTC))
    assert result.utcoffset() is not None
    assert result.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert result == datetime(2025, 1, 10, 13, 30, tzinfo=UTC)


def test_next_run_follows_the_spring_dst_change() -> None:
    # Berlin moves from CET (UTC+1) to CEST (UTC+2) on 2025-03-30: 09:00 local is 08:00Z, then 07:00Z.
    before = next_run("0 9 * * *", "Europe/Berlin", datetime(2025, 3, 29, 0, 0, tzinfo=UTC))
    after = next_run("0 9 * * *", "Europe/Berlin", before)
    assert before == datetime(2025, 3, 29, 8, 0, tzinfo=UTC)
    assert after == datetime(2025, 3, 30, 7, 0, tzinfo=UTC)


def test_next_run_follows_the_autumn_dst_change() -> None:
    # New York moves from EDT (UTC-4) to EST (UTC-5) on 2025-11-02.
    before = next_run("0 9 * * *", "America/New_York", datetime(2025, 11, 1, 0, 0, tzinfo=UTC))
    after = next_run("0 9 * * *", "America/New_York", before)
    assert before == datetime(2025, 11, 1, 13, 0, tzinfo=UTC)
    assert after == datetime(2025, 11, 2, 14, 0, tzinfo=UTC)


def test_next_run_is_strictly_after() -> None:
    moment = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    assert next_run("0 9 * * *", "UTC", moment) == datetime(2025, 3, 15, 9, 0, tzinfo=UTC)


def test_next_run_accepts_an_after_in_another_offset() -> None:
    from zoneinfo import ZoneInfo

    after = datetime(2025, 6, 1, 23, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # 14:30Z
    assert next_run("0 * * * *", "UTC", after) == datetime(2025, 6, 1, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["* * * * *", "0 9 * * 1-5", "*/15 0-6 1 1,7 *"])
def test_check_cron_accepts_five_field_expressions(expression: str) -> None:
    check_cron(expression)  # returns None; a bad one raises, see below
    assert next_run(expression, "UTC", datetime(2025, 1, 1, tzinfo=UTC)) > datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "count"), [("", 0), ("* * * *", 4), ("0 0 9 * * *", 6), ("@daily", 1)]
)
def test_check_cron_counts_fields(expression: str, count: int) -> None:
    with pytest.raises(
        ValueError, match=rf"must have 5 fields \(minute hour day month weekday\), got {count}"
    ):
        check_cron(expression)


@pytest.mark.parametrize("expression", ["61 * * * *", "* 25 * * *", "* * 32 * *", "* * * 13 *", "x * * * *"])
def test_check_cron_says_which_expression_is_invalid(expression: str) -> None:
    with pytest.raises(ValueError, match="is not a valid cron expression"):
        check_cron(expression)
