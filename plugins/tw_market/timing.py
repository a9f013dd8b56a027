"""When each kind of data becomes public: the ``available_at`` stamps every reader filters on.

All stamps are naive UTC ``datetime64[ns]``. The rules are conservative (a little late rather
than early): a row is never visible before the market could have known it.

- TWSE daily bars and TAIEX of date D: the close, 13:30 Asia/Taipei on D.
- TAIFEX regular session of D: 13:45 Taipei on D; the after-hours row dated D closed 05:00 on D.
- Institutional flows (三大法人) of D: 17:00 Taipei; broker-branch reports: 18:00; margin: 21:30.
- US index closes of US date D: 16:15 America/New_York (VIX settles 16:15); CME E-mini daily
  bars: 17:00 New York (the Globex daily halt). Both fall after Taiwan's session of D ended,
  so they can only inform Taiwan dates after D.
- USD/TWD (FRED DEXTAUS, noon buying rate in New York) of D: 12:00 New York on D (= after
  midnight in Taipei, so it too informs Taiwan dates after D only).
- Monthly revenue of month M: companies file by the 10th of M+1; stamped 23:59 Taipei on that day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from jgod_core.timeutil import END_OF_DAY, local_stamp, utc_now  # noqa: F401 - END_OF_DAY, utc_now re-exported
from jgod_core.timeutil import to_utc_naive as _to_utc_naive

TAIPEI = ZoneInfo("Asia/Taipei")
NEW_YORK = "America/New_York"

TWSE_CLOSE = dt.time(13, 30)
TAIFEX_REGULAR_CLOSE = dt.time(13, 45)
TAIFEX_AFTER_HOURS_CLOSE = dt.time(5, 0)
INSTITUTIONAL_FLOWS_PUBLISHED = dt.time(17, 0)
BROKER_BRANCHES_PUBLISHED = dt.time(18, 0)
MARGIN_PUBLISHED = dt.time(21, 30)
US_INDEX_CLOSE_NY = dt.time(16, 15)
US_FUTURES_CLOSE_NY = dt.time(17, 0)
FX_NOON_NY = dt.time(12, 0)
REVENUE_FILING_DAY = 10
TAIFEX_NIGHT_SESSION_OPENS = dt.time(15, 0)


def taipei_stamp(dates, local_time: dt.time) -> np.ndarray:
    """UTC instants of ``local_time`` in Taipei on each of ``dates``."""
    return local_stamp(dates, local_time, "Asia/Taipei")


def new_york_stamp(dates, local_time: dt.time) -> np.ndarray:
    """UTC instants of ``local_time`` in New York on each of ``dates`` (daylight saving aware)."""
    return local_stamp(dates, local_time, NEW_YORK)


def revenue_stamp(months) -> np.ndarray:
    """Publication stamps of monthly revenue: the 10th of the following month, end of day, Taipei."""
    first = pd.DatetimeIndex(pd.to_datetime(months)).to_period("M").to_timestamp()
    filing = first + pd.offsets.MonthBegin(1) + pd.Timedelta(days=REVENUE_FILING_DAY - 1)
    return taipei_stamp(filing, END_OF_DAY)


def to_utc_naive(moment: dt.datetime) -> dt.datetime:
    """A datetime as naive UTC; a naive input is read as Asia/Taipei local time."""
    return _to_utc_naive(moment, TAIPEI)


def end_of_taipei_day(day: dt.date) -> dt.datetime:
    """Naive UTC instant of 23:59:59 Taipei on ``day``: the default as-of time for a date."""
    return to_utc_naive(dt.datetime.combine(day, END_OF_DAY, tzinfo=TAIPEI))


def taifex_trade_dates(local: pd.Series) -> pd.Series:
    """TAIFEX trade date of each Taipei wall-clock time: prints from 15:00 belong to the next
    trading day's night session, and so do after-midnight prints on a non-trading day."""
    from jgod_plugins.tw_market.calendar import is_trading_day, next_trading_day

    day = local.dt.normalize()
    night = local.dt.time >= TAIFEX_NIGHT_SESSION_OPENS
    keys = pd.DataFrame({"day": day.dt.date, "night": night})
    lookup = {}
    for calendar_day, is_night in keys.drop_duplicates().itertuples(index=False):
        lookup[(calendar_day, is_night)] = (next_trading_day(calendar_day) if is_night or not is_trading_day(calendar_day)
                                            else calendar_day)
    return pd.Series([lookup[k] for k in zip(keys["day"], keys["night"])], index=local.index, dtype=object)
