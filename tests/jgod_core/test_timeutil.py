"""Naive-UTC helpers: a naive time is read in the zone given, never in an assumed one."""

from __future__ import annotations

import datetime as dt

import pytest

from jgod_core.timeutil import end_of_local_day, local_stamp, to_utc_naive


def test_time_helpers_read_naive_times_in_the_given_zone():
    assert to_utc_naive(dt.datetime(2024, 1, 2, 9, 0), "Asia/Taipei") == dt.datetime(2024, 1, 2, 1, 0)
    assert to_utc_naive(dt.datetime(2024, 7, 1, 9, 0), "Europe/London") == dt.datetime(2024, 7, 1, 8, 0)
    assert to_utc_naive(dt.datetime(2024, 1, 2, 1, 0, tzinfo=dt.timezone.utc)) == dt.datetime(2024, 1, 2, 1, 0)
    with pytest.raises(ValueError, match="no time zone"):
        to_utc_naive(dt.datetime(2024, 1, 2, 9, 0))
    assert end_of_local_day(dt.date(2024, 1, 2), "Asia/Taipei") == dt.datetime(2024, 1, 2, 15, 59, 59)
    stamps = local_stamp(["2024-01-02", "2024-07-01"], dt.time(16, 15), "America/New_York")
    assert [str(s) for s in stamps] == ["2024-01-02T21:15:00.000000000", "2024-07-01T20:15:00.000000000"]
