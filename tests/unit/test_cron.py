from datetime import UTC, datetime, timedelta

import pytest

from notify.cron import check_cron, latest_run, next_run, upcoming_runs


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


# ---- latest_run, upcoming_runs and the daylight-saving rules, both ways ------------------------


def test_latest_run_includes_the_moment_itself() -> None:
    moment = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    assert latest_run("0 9 * * *", "UTC", moment) == moment
    assert latest_run("0 9 * * *", "UTC", moment - timedelta(microseconds=1)) == moment - timedelta(days=1)


def test_latest_run_is_the_most_recent_moment() -> None:
    assert latest_run("*/5 * * * *", "UTC", datetime(2025, 3, 10, 12, 23, 59, tzinfo=UTC)) == datetime(
        2025, 3, 10, 12, 20, tzinfo=UTC
    )
    # Mondays 18:30 in Moscow (UTC+3); 2025-03-13 is a Thursday.
    assert latest_run("30 18 * * 1", "Europe/Moscow", datetime(2025, 3, 13, tzinfo=UTC)) == datetime(
        2025, 3, 10, 15, 30, tzinfo=UTC
    )


def test_latest_run_skips_the_repeated_hour_for_a_fixed_hour_job() -> None:
    # Berlin 2025-10-26: 02:30 CEST (00:30Z) runs; 02:30 CET (01:30Z), the second pass, does not.
    for moment in (datetime(2025, 10, 26, 1, 45, tzinfo=UTC), datetime(2025, 10, 27, 0, 0, tzinfo=UTC)):
        assert latest_run("30 2 * * *", "Europe/Berlin", moment) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


def test_latest_run_keeps_the_repeated_hour_for_an_hourly_job() -> None:
    moment = datetime(2025, 10, 26, 1, 45, tzinfo=UTC)  # 02:45 CET, the second pass
    assert latest_run("*/30 * * * *", "Europe/Berlin", moment) == datetime(2025, 10, 26, 1, 30, tzinfo=UTC)


def test_next_run_in_the_spring_gap_runs_at_the_first_moment_that_exists() -> None:
    # Berlin 2025-03-30 jumps from 02:00 CET to 03:00 CEST: 02:30 is 03:00 CEST (01:00Z) that night.
    runs = upcoming_runs("30 2 * * *", "Europe/Berlin", datetime(2025, 3, 29, tzinfo=UTC), 3)
    assert runs == [
        datetime(2025, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
        datetime(2025, 3, 31, 0, 30, tzinfo=UTC),
    ]


def test_next_run_in_the_repeated_hour_runs_once_for_a_fixed_hour_job() -> None:
    runs = upcoming_runs("30 1 * * *", "America/New_York", datetime(2025, 11, 1, tzinfo=UTC), 3)
    assert runs == [
        datetime(2025, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2025, 11, 2, 5, 30, tzinfo=UTC),  # 01:30 EDT; 01:30 EST (06:30Z) is skipped
        datetime(2025, 11, 3, 6, 30, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("timezone", "night"),
    [
        ("Europe/Berlin", datetime(2025, 3, 29, 23, 0, tzinfo=UTC)),
        ("Europe/Berlin", datetime(2025, 10, 25, 23, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2025, 3, 9, 5, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2025, 11, 2, 4, 0, tzinfo=UTC)),
    ],
)
def test_next_run_half_hourly_keeps_its_real_time_rhythm_across_dst(timezone: str, night: datetime) -> None:
    runs = upcoming_runs("*/30 * * * *", timezone, night, 12)
    assert runs == [night + timedelta(minutes=30 * n) for n in range(1, 13)]


@pytest.mark.parametrize(
    "expression", ["30 2 * * *", "30 1 * * *", "0 9 * * *", "*/30 * * * *", "15 * * * 0"]
)
@pytest.mark.parametrize(
    ("timezone", "start"),
    [
        ("Europe/Berlin", datetime(2025, 3, 29, 22, 0, tzinfo=UTC)),
        ("Europe/Berlin", datetime(2025, 10, 25, 22, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2025, 3, 9, 4, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2025, 11, 2, 3, 0, tzinfo=UTC)),
    ],
)
def test_latest_run_and_next_run_name_the_same_moments(
    expression: str, timezone: str, start: datetime
) -> None:
    """Every 7 minutes through a DST night: the latest run is one next_run gives, and none is between."""
    for step in range(0, 6 * 60, 7):
        moment = start + timedelta(minutes=step)
        latest = latest_run(expression, timezone, moment)
        assert latest <= moment
        assert next_run(expression, timezone, latest - timedelta(microseconds=1)) == latest, moment
        assert next_run(expression, timezone, latest) > moment, moment


def test_upcoming_runs_are_consecutive_next_runs() -> None:
    after = datetime(2025, 3, 10, 12, 1, tzinfo=UTC)
    runs = upcoming_runs("*/5 * * * *", "UTC", after, 4)
    assert runs == [datetime(2025, 3, 10, 12, m, tzinfo=UTC) for m in (5, 10, 15, 20)]
    assert upcoming_runs("*/5 * * * *", "UTC", after, 0) == []
