"""What the store holds: per dataset and key (symbol / instrument), rows, first and last date,
gaps against the venue's trading calendar (:mod:`jgod_core.venue`; XTAI for ``tw``; data dated
on the venue's days only) and the last update time.

Intraday Parquet datasets (``intraday_ticks`` / ``intraday_books`` / ``intraday_bbo``) show their
first and last event time (UTC) instead of dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from jgod_core.storage import models
from jgod_core.venue import Venue, default_venue

TAIWAN_INSTRUMENTS = frozenset({"taiex", "tx", "cdf"})
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class DatasetStatus:
    """One line of ``jgod data status``. ``gaps`` is None where the venue's calendar does not apply."""

    dataset: str
    key: str
    rows: int
    first: dt.date | None
    last: dt.date | None
    gaps: int | None
    gap_days: tuple[dt.date, ...]
    last_update: dt.datetime | None


def _grouped(store, table, keys, date_column: str = "date", stamp: str = "updated_at") -> pd.DataFrame:
    t = table.__table__
    cols = [t.c[k] for k in keys]
    query = select(*cols, func.count().label("rows"), func.min(t.c[date_column]).label("first"),
                   func.max(t.c[date_column]).label("last"), func.max(t.c[stamp]).label("last_update")
                   ).group_by(*cols).order_by(*cols)
    with store.engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _dates_of(store, table, key_filter) -> np.ndarray:
    t = table.__table__
    query = select(t.c.date).where(*[t.c[k] == v for k, v in key_filter.items()])
    with store.engine.connect() as conn:
        return np.array(sorted(r[0] for r in conn.execute(query)), dtype="datetime64[D]")


def _gaps(store, table, key_filter, first, last, venue: Venue) -> tuple[int, tuple[dt.date, ...]]:
    expected = venue.trading_days(first, last)
    missing = np.setdiff1d(expected, _dates_of(store, table, key_filter))
    return len(missing), tuple(d.item() for d in missing)


def data_status(store, with_gaps: bool = True, venue: Venue | None = None) -> list[DatasetStatus]:
    """Status lines for every dataset that has rows; gaps against ``venue``'s calendar (None:
    :func:`jgod_core.venue.default_venue`)."""
    out: list[DatasetStatus] = []
    if with_gaps and venue is None:
        venue = default_venue()
    for row in _grouped(store, models.DailyBar, ["symbol"]).itertuples(index=False):
        gaps, days = (_gaps(store, models.DailyBar, {"symbol": row.symbol}, row.first, row.last, venue)
                      if with_gaps else (None, ()))
        out.append(DatasetStatus("daily_bars", row.symbol, row.rows, row.first, row.last, gaps, days, row.last_update))
    for row in _grouped(store, models.MarketDaily, ["instrument", "session"]).itertuples(index=False):
        key = f"{row.instrument} ({row.session})"
        gaps, days = None, ()
        if with_gaps and row.instrument in TAIWAN_INSTRUMENTS:
            gaps, days = _gaps(store, models.MarketDaily, {"instrument": row.instrument, "session": row.session},
                               row.first, row.last, venue)
        out.append(DatasetStatus("market_daily", key, row.rows, row.first, row.last, gaps, days, row.last_update))
    simple = [
        ("institutional_flows", models.InstitutionalFlow, ["symbol"], "date"),
        ("margin", models.MarginDaily, ["symbol"], "date"),
        ("broker_branches", models.BrokerBranchDaily, ["symbol"], "date"),
        ("monthly_revenue", models.MonthlyRevenue, ["symbol"], "month"),
        ("adjustment_events", models.AdjustmentEvent, ["symbol"], "ex_date"),
        ("intraday_bars", models.IntradayBar, ["instrument", "contract"], "trade_date"),
    ]
    for name, table, keys, date_column in simple:
        for row in _grouped(store, table, keys, date_column).itertuples(index=False):
            key = " ".join(str(getattr(row, k)) for k in keys)
            out.append(DatasetStatus(name, key, row.rows, row.first, row.last, None, (), row.last_update))
    for part in store.intraday.status():
        first, last = (None if ns is None else _EPOCH + dt.timedelta(microseconds=ns // 1000)
                       for ns in (part.first_ns, part.last_ns))
        out.append(DatasetStatus(f"intraday_{part.kind}", part.instrument, part.rows, first, last, None, (),
                                 part.last_update))
    master = _grouped(store, models.Security, ["market"], "listed_on")
    for row in master.itertuples(index=False):
        out.append(DatasetStatus("security_master", str(row.market), row.rows, row.first, row.last, None, (),
                                 row.last_update))
    return out
