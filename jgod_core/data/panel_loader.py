"""Point-in-time panels from the store: ``load_panel(store, symbols, start, end, lookback_days, as_of)``.

What it builds (see :mod:`jgod_core.data.panel` for the conventions):

- the date grid: trading days on which the store holds bars of the requested symbols that were
  public at ``as_of``, from ``lookback_days`` such days before ``start`` through ``end``; days of
  the venue's calendar (:mod:`jgod_core.venue`; XTAI for ``tw``) without bars are reported in
  ``missing["calendar_gaps"]``;
- fields ``open, high, low, close`` (raw TWD), ``volume`` (shares), ``halted`` (1.0 on a day
  with no published price; its prices stay NaN, volume 0) and ``adj_factor`` when the store
  holds adjustment events (otherwise ``missing["adj_factor"]`` says so and prices stay raw);
- Taiwan market series on their own date: ``taiex_*``, ``tx_*`` (regular session);
- US and FX series by as-of join: the value on Taiwan date T is the latest observation
  published by the end of T in the venue's zone (Taipei), i.e. a US close of US date D appears
  on Taiwan dates after D only; observations older than ``US_STALENESS_DAYS`` are not carried
  forward;
- ``monthly_revenue`` (NT$): the latest monthly operating revenue published by the end of T.
  Companies file month M's revenue by the 10th of M+1 (MOPS rule), so a revenue month is stamped
  23:59:59 Taipei on the 10th of the next month (stamped so by the data source that loads it):
  it is visible from that date on, never earlier — conservative, since many file before the
  deadline. A value is carried until the next one is published, for at most
  ``REVENUE_STALENESS_DAYS``; NaN for symbols without stored revenue (the sample has 2330 only);
  ``missing["monthly_revenue"]`` when the store holds none for the panel's symbols. (Named
  apart from the ``revenue`` of a fundamentals statement, which pairs with net income.)
- attributes ``industry``, ``market`` (TWSE/TPEx), ``security_type`` from the security master.

``as_of`` defaults to the end of ``end``'s day in the venue's zone (23:59:59 Taipei); a naive
``as_of`` is wall-clock time there; nothing stamped after it is read.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from jgod_core.data.panel import Panel
from jgod_core.data.symbols import normalize_symbols
from jgod_core.errors import MissingDataError
from jgod_core.storage import models
from jgod_core.timeutil import END_OF_DAY, end_of_local_day, local_stamp, to_utc_naive
from jgod_core.venue import Venue, default_venue

PRICE_FIELDS = ("open", "high", "low", "close")
US_STALENESS_DAYS = 10
REVENUE_STALENESS_DAYS = 70  # two monthly filings may be 31 + 31 days apart; then the value is stale
TAIWAN_SERIES: dict[str, dict[str, str]] = {
    "taiex": {"open": "taiex_open", "high": "taiex_high", "low": "taiex_low", "close": "taiex_close"},
    "tx": {
        "open": "tx_open", "high": "tx_high", "low": "tx_low", "close": "tx_close",
        "volume": "tx_volume", "settlement": "tx_settlement", "open_interest": "tx_open_interest",
    },
}
US_SERIES: dict[str, dict[str, str]] = {
    "vix": {"open": "vix_open", "high": "vix_high", "low": "vix_low", "close": "vix_close"},
    "sp500": {"close": "sp500_close"},
    "nasdaq100": {"close": "nasdaq100_close"},
    "es": {"close": "es_close"},
    "nq": {"close": "nq_close"},
    "usdtwd": {"close": "usdtwd"},
}
DATASETS_NOT_IN_PANEL: dict[type[models.Base], str] = {
    models.InstitutionalFlow: "institutional_flows",
    models.MarginDaily: "margin",
    models.BrokerBranchDaily: "broker_branches",
}


def load_panel(
    store,
    symbols: Sequence[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    lookback_days: int = 0,
    as_of: dt.datetime | None = None,
    venue: Venue | None = None,
) -> Panel:
    """A :class:`Panel` of ``symbols`` (all stored symbols when None) as known at ``as_of``; ``venue``
    gives the calendar and zone (None: :func:`jgod_core.venue.default_venue`)."""
    if lookback_days < 0:
        raise ValueError("lookback_days must be >= 0")
    venue = venue if venue is not None else default_venue()
    tz = venue.timezone
    start, end = _as_date(start), _as_date(end)
    wanted = normalize_symbols(symbols) if symbols is not None else None
    if end is None:
        end = _last_bar_date(store, wanted, None if as_of is None else to_utc_naive(as_of, tz))
    cutoff = to_utc_naive(as_of, tz) if as_of is not None else end_of_local_day(end, tz)
    dates = _grid(store, wanted, start, end, lookback_days, cutoff)
    cutoff_utc = cutoff.replace(tzinfo=dt.timezone.utc)  # store readers read naive times as the venue's
    if len(dates) == 0:
        raise MissingDataError(
            f"no daily bars in the store for {'all symbols' if wanted is None else ','.join(wanted)} "
            f"between {start or 'the first day'} and {end} known as of {cutoff:%Y-%m-%d %H:%M} UTC "
            "(run `jgod data load sample` or `jgod data fetch`)"
        )
    first = dates[0].astype("datetime64[D]").item()
    bars = store.read_bars(wanted, first, end, cutoff_utc, columns=(*PRICE_FIELDS, "volume", "halted"))
    symbols_out = tuple(wanted) if wanted is not None else tuple(sorted(bars["symbol"].unique()))
    missing: dict[str, str] = {}
    absent = sorted(set(symbols_out) - set(bars["symbol"].unique()))
    if absent:
        missing["symbols"] = f"no daily bars for {','.join(absent)} in the panel's window"

    fields = _fields(bars, symbols_out, dates)
    _add_adjustment(store, fields, symbols_out, dates, cutoff_utc, missing)
    _add_monthly_revenue(store, fields, symbols_out, dates, cutoff_utc, missing, tz)
    series = _taiwan_series(store, dates, first, end, cutoff_utc, missing)
    series.update(_us_series(store, dates, first, end, cutoff_utc, missing, tz))
    attributes = _attributes(store, symbols_out, missing)
    _note_absent_datasets(store, symbols_out, first, end, cutoff, missing)
    _note_gaps(dates, missing, venue)
    return Panel(symbols_out, dates, fields, series, attributes, missing)


# -- grid and per-symbol fields -----------------------------------------------------------------


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    return pd.Timestamp(value).date()


def _last_bar_date(store, wanted, as_of_utc: dt.datetime | None) -> dt.date:
    t = models.DailyBar.__table__
    query = select(func.max(t.c.date))
    if wanted is not None:
        query = query.where(t.c.symbol.in_(wanted))
    if as_of_utc is not None:
        query = query.where(t.c.available_at <= as_of_utc)
    with store.engine.connect() as conn:
        last = conn.execute(query).scalar()
    if last is None:
        raise MissingDataError("the store holds no daily bars (run `jgod data load sample`)")
    return last


def _grid(store, wanted, start, end, lookback_days, cutoff) -> np.ndarray:
    t = models.DailyBar.__table__
    query = select(t.c.date).distinct().where(t.c.date <= end, t.c.available_at <= cutoff)
    if wanted is not None:
        query = query.where(t.c.symbol.in_(wanted))
    with store.engine.connect() as conn:
        days = sorted(row[0] for row in conn.execute(query))
    dates = np.array(days, dtype="datetime64[D]")
    if start is None:
        return dates
    first = int(np.searchsorted(dates, np.datetime64(start, "D")))
    return dates[max(first - lookback_days, 0):]


def _fields(bars: pd.DataFrame, symbols: tuple[str, ...], dates: np.ndarray) -> dict[str, np.ndarray]:
    n, t = len(symbols), len(dates)
    rows = pd.Index(symbols).get_indexer(bars["symbol"])
    cols = pd.DatetimeIndex(dates.astype("datetime64[ns]")).get_indexer(pd.to_datetime(bars["date"]))
    fields: dict[str, np.ndarray] = {}
    for name in (*PRICE_FIELDS, "volume", "halted"):
        arr = np.full((n, t), np.nan)
        arr[rows, cols] = bars[name].to_numpy(dtype=float, na_value=np.nan)
        fields[name] = arr
    return fields


def _add_adjustment(store, fields, symbols, dates, cutoff, missing) -> None:
    """Backward adjustment factors from the adjustment events public at the cutoff."""
    events = store.read_table(models.AdjustmentEvent, list(symbols), as_of=cutoff, date_column="ex_date")
    if events.empty:
        missing["adj_factor"] = (
            "the store holds no dividend/split adjustment events for these symbols (the embedded sample has no "
            "adjustment table); prices are raw — fetch adjustment data to get adjusted prices"
        )
        return
    n, t = len(symbols), len(dates)
    factor = np.ones((n, t))
    index = pd.Index(symbols)
    grid = dates.astype("datetime64[D]")
    for row in events.itertuples(index=False):
        i = index.get_loc(row.symbol)
        before_ex = grid < np.datetime64(row.ex_date, "D")
        factor[i, before_ex] *= row.price_ratio
    factor[np.isnan(fields["close"]) & ~(fields["halted"] == 1.0)] = np.nan
    fields["adj_factor"] = factor


def _add_monthly_revenue(store, fields, symbols, dates, cutoff, missing, tz: str) -> None:
    """``monthly_revenue``: per symbol and date, the latest revenue published by the end of that day in ``tz``."""
    rows = store.read_table(models.MonthlyRevenue, list(symbols), as_of=cutoff, date_column="month")
    if rows.empty:
        missing["monthly_revenue"] = "the store holds no monthly revenue for these symbols published by the as-of time"
        return
    known_by = np.minimum(local_stamp(dates, END_OF_DAY, tz), np.datetime64(to_utc_naive(cutoff), "ns"))
    grid = pd.DataFrame({
        "symbol": np.repeat(np.asarray(symbols, dtype=object), len(dates)),
        "known_by": np.tile(known_by, len(symbols)),
        "position": np.arange(len(symbols) * len(dates)),
    }).sort_values("known_by", kind="stable")
    published = rows.assign(available_at=pd.to_datetime(rows["available_at"]))[["symbol", "available_at", "revenue_twd"]]
    joined = pd.merge_asof(grid, published.sort_values("available_at"), left_on="known_by", right_on="available_at",
                           by="symbol", direction="backward", tolerance=pd.Timedelta(days=REVENUE_STALENESS_DAYS))
    fields["monthly_revenue"] = joined.sort_values("position")["revenue_twd"].to_numpy(dtype=float, na_value=np.nan).reshape(
        len(symbols), len(dates))


# -- market series --------------------------------------------------------------------------------


def _rows_per_instrument(frame: pd.DataFrame, spec: dict[str, dict[str, str]], missing: dict[str, str],
                         window: str) -> Iterator[tuple[dict[str, str], pd.DataFrame]]:
    """``(columns, rows)`` of each instrument of ``spec`` with rows in ``frame``; the series of an
    instrument without rows are reported in ``missing`` (``window`` says which dates were read)."""
    for instrument, columns in spec.items():
        rows = frame[frame["instrument"] == instrument]
        if rows.empty:
            for name in columns.values():
                missing[name] = f"the store has no {instrument} daily rows {window}"
            continue
        yield columns, rows


def _taiwan_series(store, dates, first, end, cutoff, missing) -> dict[str, np.ndarray]:
    frame = store.read_market(list(TAIWAN_SERIES), "regular", first, end, cutoff)
    grid = pd.DatetimeIndex(dates.astype("datetime64[ns]"))
    out: dict[str, np.ndarray] = {}
    for columns, rows in _rows_per_instrument(frame, TAIWAN_SERIES, missing, f"between {first} and {end}"):
        indexed = rows.set_index(pd.to_datetime(rows["date"]))
        for column, name in columns.items():
            out[name] = indexed[column].reindex(grid).to_numpy(dtype=float, na_value=np.nan)
    return out


def _us_series(store, dates, first, end, cutoff, missing, tz: str) -> dict[str, np.ndarray]:
    lookback_start = first - dt.timedelta(days=US_STALENESS_DAYS)
    frame = store.read_market(list(US_SERIES), "regular", lookback_start, end, cutoff)
    decision = pd.DataFrame({"known_by": pd.DatetimeIndex(local_stamp(dates, END_OF_DAY, tz))})
    decision["known_by"] = decision["known_by"].clip(upper=pd.Timestamp(to_utc_naive(cutoff)))
    out: dict[str, np.ndarray] = {}
    for columns, rows in _rows_per_instrument(frame, US_SERIES, missing, f"before {end}"):
        rows = rows.assign(available_at=pd.to_datetime(rows["available_at"])).sort_values("available_at")
        joined = pd.merge_asof(
            decision, rows, left_on="known_by", right_on="available_at", direction="backward",
            tolerance=pd.Timedelta(days=US_STALENESS_DAYS),
        )
        for column, name in columns.items():
            out[name] = joined[column].to_numpy(dtype=float, na_value=np.nan)
    return out


# -- attributes and what is absent ------------------------------------------------------------------


def _attributes(store, symbols, missing) -> dict[str, np.ndarray]:
    master = store.read_securities(list(symbols))
    if master.empty:
        missing["security_master"] = "the store has no security master rows for these symbols"
    unknown = sorted(set(symbols) - set(master.index))
    if unknown and not master.empty:
        missing["security_master"] = f"no security master row for {','.join(unknown)}"
    aligned = master.reindex(list(symbols))
    return {
        name: aligned[name].astype(object).where(aligned[name].notna(), None).to_numpy(dtype=object)
        for name in ("industry", "market", "security_type")
    }


def _note_absent_datasets(store, symbols, first, end, cutoff, missing) -> None:
    for model, name in DATASETS_NOT_IN_PANEL.items():
        t = model.__table__
        query = select(func.count()).select_from(t).where(
            t.c.symbol.in_(list(symbols)), t.c.date >= first, t.c.date <= end, t.c.available_at <= cutoff
        )
        with store.engine.connect() as conn:
            count = conn.execute(query).scalar_one()
        if count == 0:
            missing[name] = f"no {name.replace('_', ' ')} rows in the store for these symbols and dates"
        else:
            missing[name] = f"{count} {name.replace('_', ' ')} rows are stored; read them with store.read_table"
    missing.setdefault(
        "fundamentals",
        "quarterly statements (net income, total assets, equity) are not in the store; "
        "monthly revenue is the panel field monthly_revenue",
    )


def _note_gaps(dates: np.ndarray, missing, venue: Venue) -> None:
    calendar = venue.trading_days(dates[0].item(), dates[-1].item())
    gaps = np.setdiff1d(calendar, dates)
    if len(gaps):
        shown = ", ".join(str(d) for d in gaps[:10]) + (" …" if len(gaps) > 10 else "")
        missing["calendar_gaps"] = (f"{len(gaps)} trading day(s) of venue {venue.name!r} without bars in the store: "
                                    f"{shown}")
