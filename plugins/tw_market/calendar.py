"""The TWSE trading calendar (exchange_calendars ``XTAI``, Asia/Taipei)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd

CALENDAR_NAME = "XTAI"
TIMEZONE = "Asia/Taipei"
_FIRST = "2005-01-03"


@lru_cache(maxsize=1)
def xtai() -> xcals.ExchangeCalendar:
    """The XTAI calendar from 2005 to the library's last known session."""
    return xcals.get_calendar(CALENDAR_NAME, start=_FIRST)


def trading_days(start: dt.date | str, end: dt.date | str) -> np.ndarray:
    """TWSE trading days in ``[start, end]`` as ``datetime64[D]``."""
    cal = xtai()
    lo = max(pd.Timestamp(start), cal.first_session)
    hi = min(pd.Timestamp(end), cal.last_session)
    if lo > hi:
        return np.array([], dtype="datetime64[D]")
    return cal.sessions_in_range(lo, hi).values.astype("datetime64[D]")


def is_trading_day(day: dt.date | str) -> bool:
    """True when TWSE is open on ``day``."""
    cal = xtai()
    ts = pd.Timestamp(day)
    if ts < cal.first_session or ts > cal.last_session:
        raise ValueError(f"{ts.date()} is outside the XTAI calendar ({cal.first_session.date()}..{cal.last_session.date()})")
    return bool(cal.is_session(ts))


def next_trading_day(day: dt.date | str) -> dt.date:
    """The first trading day strictly after ``day``."""
    cal = xtai()
    return cal.date_to_session(pd.Timestamp(day) + pd.Timedelta(days=1), direction="next").date()
