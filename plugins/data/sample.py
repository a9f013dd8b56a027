"""The embedded real sample (``sample_data/``, see its README for provenance and licenses).

:class:`SampleDataSource` loads it into the store: the TWSE/TPEx security master, 51 TWSE
securities' raw daily bars 2015–2025 (15 halted rows kept as halts), TAIEX, TAIFEX TX and CDF
near-month daily bars (both sessions; TX final-settlement days get the official final
settlement price), VIX, S&P 500, Nasdaq-100, ES and NQ futures, USD/TWD, TSMC monthly revenue
and TX one-minute bars into the database; the TAIFEX TX tick excerpt and the Binance BTCUSDT
5-level book, trades and best bid/offer recording into the Parquet intraday store. Every row is stamped with its publication time
(:mod:`jgod_plugins.tw_market.timing`). The whole load is one transaction and is idempotent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from typing import Callable

import numpy as np
import pandas as pd

from jgod_core.errors import JGodError
from jgod_core.plugin.components import DataKind, DataSource, Params, Phase
from jgod_core.storage import models
from jgod_plugins.tw_market import timing

SOURCE = "sample"
MARKET_PREFIXES = {"上市": "TWSE", "上櫃": "TPEx"}  # 上市臺灣創新板 is a TWSE board


def market_of(listing: str) -> str:
    """``TWSE`` / ``TPEx`` from the master's Chinese market name; other names are kept as they are."""
    for prefix, market in MARKET_PREFIXES.items():
        if listing.startswith(prefix):
            return market
    return listing


class SampleDataError(JGodError):
    """A sample file is missing or malformed (names the file)."""


def sample_dir():
    """The packaged ``sample_data`` directory (an importlib Traversable)."""
    return resources.files("jgod_plugins.data") / "sample_data"


def _read(relative: str, **kwargs) -> pd.DataFrame:
    path = sample_dir().joinpath(*relative.split("/"))
    try:
        with resources.as_file(path) as real:
            return pd.read_csv(real, **kwargs)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise SampleDataError(f"sample_data/{relative}: {exc}") from None


def _stamp(frame: pd.DataFrame, available_at: np.ndarray, now: dt.datetime) -> pd.DataFrame:
    frame = frame.copy()
    frame["source"] = SOURCE
    frame["available_at"] = available_at
    frame["updated_at"] = now
    return frame


# -- readers: one per file, each returning rows shaped like its table -----------------------------


def read_securities(now: dt.datetime) -> pd.DataFrame:
    """Security master rows of the TWSE and TPEx code lists (first listing of a code wins)."""
    frames = []
    for name in ("daily/twse_equities_codes.csv", "daily/tpex_equities_codes.csv"):
        raw = _read(name, dtype=str, keep_default_na=False)
        frames.append(
            pd.DataFrame(
                {
                    "symbol": raw["code"].str.strip(),
                    "name": raw["name"],
                    "security_type": raw["type"],
                    "market": raw["market"].map(market_of),
                    "industry": raw["group"].replace("", None),
                    "isin": raw["ISIN"],
                    "listed_on": pd.to_datetime(raw["start"], format="%Y/%m/%d", errors="coerce").dt.date,
                    "cfi": raw["CFI"].replace("", None),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True).drop_duplicates("symbol", keep="first")
    frame["source"] = SOURCE
    frame["updated_at"] = now
    return frame


def read_daily_bars(now: dt.datetime) -> pd.DataFrame:
    """Raw daily bars of the 51 TWSE securities, public at the TWSE close; no close and no volume is a halt."""
    raw = _read("daily/twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz", dtype={"symbol": str})
    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d")
    halted = raw["close"].isna() & (raw["volume"] == 0)
    frame = pd.DataFrame(
        {
            "symbol": raw["symbol"],
            "date": dates.dt.date,
            "open": raw["open"],
            "high": raw["high"],
            "low": raw["low"],
            "close": raw["close"],
            "volume": raw["volume"].astype("int64"),
            "halted": halted,
        }
    )
    return _stamp(frame, timing.taipei_stamp(dates, timing.TWSE_CLOSE), now)


def _ohlc(raw: pd.DataFrame, instrument: str, session: str | np.ndarray, available_at: np.ndarray, now: dt.datetime,
          **extra: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "instrument": instrument,
            "session": session,
            "date": pd.to_datetime(raw["date"], format="%Y-%m-%d").dt.date,
            **{c: raw[c] if c in raw else np.nan for c in ("open", "high", "low", "close", "volume")},
            **extra,
        }
    )
    return _stamp(frame, available_at, now)


def read_taifex(name: str, instrument: str, now: dt.datetime) -> pd.DataFrame:
    """``market_daily`` rows of a TAIFEX near-month daily file, both sessions, each public at its
    session's close (after-hours rows dated by their closing day); settlement 0 becomes NULL."""
    raw = _read(name, dtype={"contract_date": str})
    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d")
    regular = raw["trading_session"] == "position"
    settlement = raw["settlement_price"].where(raw["settlement_price"] > 0)
    open_interest = raw["open_interest"].where(regular)
    available = np.where(
        regular,
        timing.taipei_stamp(dates, timing.TAIFEX_REGULAR_CLOSE),
        timing.taipei_stamp(dates, timing.TAIFEX_AFTER_HOURS_CLOSE),
    )
    session = np.where(regular, "regular", "after_hours")
    return _ohlc(raw, instrument, session, available, now,
                 contract=raw["contract_date"], settlement=settlement, open_interest=open_interest)


def apply_final_settlement(tx: pd.DataFrame) -> pd.DataFrame:
    """Fill the TX regular-session settlement of final-settlement days (0 in the daily file)
    with TAIFEX's official final settlement price of that contract."""
    final = _read("daily/taifex_tx_final_settlement_prices.csv", dtype={"contract_date": str})
    final["date"] = pd.to_datetime(final["date"], format="%Y/%m/%d").dt.date
    price = final.set_index(["date", "contract_date"])["settle_price"].astype(float)
    key = pd.MultiIndex.from_arrays([tx["date"], tx["contract"]])
    official = pd.Series(price.reindex(key).to_numpy(), index=tx.index)
    fill = tx["settlement"].isna() & (tx["session"] == "regular")
    tx = tx.copy()
    tx.loc[fill, "settlement"] = official[fill]
    return tx


def read_us(name: str, instrument: str, close_time: dt.time, now: dt.datetime) -> pd.DataFrame:
    """``market_daily`` rows of a US or FX daily file, public at ``close_time`` New York on their date."""
    raw = _read(name)
    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d")
    return _ohlc(raw, instrument, "regular", timing.new_york_stamp(dates, close_time), now)


def read_market_daily(now: dt.datetime) -> pd.DataFrame:
    """Every ``market_daily`` row of the sample: TAIEX, TX (with final settlements), CDF, US series, USD/TWD."""
    taiex_raw = _read("daily/taiex_index_daily_2017-05-16_2025-09-17.csv")
    taiex = _ohlc(taiex_raw, "taiex", "regular",
                  timing.taipei_stamp(pd.to_datetime(taiex_raw["date"]), timing.TWSE_CLOSE), now)
    tx = apply_final_settlement(read_taifex("daily/taifex_tx_near_month_daily_2017-05-16_2025-09-17.csv.gz", "tx", now))
    cdf = read_taifex("daily/taifex_cdf_tsmc_stock_futures_near_month_daily_2017-05-16_2025-09-17.csv", "cdf", now)
    us = [
        read_us("daily/vix_daily_2010-01-04_2026-07-23.csv", "vix", timing.US_INDEX_CLOSE_NY, now),
        read_us("daily/sp500_index_daily_2010-01-04_2026-02-27.csv", "sp500", timing.US_INDEX_CLOSE_NY, now),
        read_us("daily/nasdaq100_index_daily_2010-01-04_2026-02-27.csv", "nasdaq100", timing.US_INDEX_CLOSE_NY, now),
        read_us("daily/es_futures_continuous_daily_2010-01-04_2026-02-23.csv", "es", timing.US_FUTURES_CLOSE_NY, now),
        read_us("daily/nq_futures_continuous_daily_2010-01-04_2026-02-23.csv", "nq", timing.US_FUTURES_CLOSE_NY, now),
        read_us("daily/usdtwd_fred_dextaus_daily_2010-01-04_2025-05-23.csv", "usdtwd", timing.FX_NOON_NY, now),
    ]
    return pd.concat([taiex, tx, cdf, *us], ignore_index=True)


def read_monthly_revenue(now: dt.datetime) -> pd.DataFrame:
    """Monthly revenue rows, each public from the MOPS filing deadline (:func:`timing.revenue_stamp`)."""
    raw = _read("fundamentals/tw_month_revenue_2330_2015-01_2025-12.csv", dtype={"symbol": str})
    months = pd.to_datetime(raw["month"], format="%Y-%m")
    frame = pd.DataFrame({"symbol": raw["symbol"], "month": months.dt.date, "revenue_twd": raw["revenue_twd"]})
    return _stamp(frame, timing.revenue_stamp(months), now)


def read_intraday_bars(now: dt.datetime) -> pd.DataFrame:
    """TAIFEX TX one-minute bars (both sessions) as ``intraday_bars`` rows, each public at the bar's end."""
    raw = _read("intraday/taifex_tx_near_month_1min_2026-05-12_2026-06-23.csv.gz", dtype={"contract": str})
    start = pd.to_datetime(raw["bar_start"], format="ISO8601", utc=True).dt.tz_localize(None)
    frame = pd.DataFrame(
        {
            "instrument": "tx",
            "contract": raw["contract"],
            "trade_date": pd.to_datetime(raw["trade_date"], format="%Y-%m-%d").dt.date,
            "session": raw["session"],
            "bar_start": start,
            "bar_minutes": 1,
            "open": raw["open"],
            "high": raw["high"],
            "low": raw["low"],
            "close": raw["close"],
            "volume": raw["volume"],
            "trades": raw["n_trades"],
        }
    )
    return _stamp(frame, (start + pd.Timedelta(minutes=1)).to_numpy(), now)


@dataclass(frozen=True)
class SampleDataset:
    """One dataset of the sample: its name, target table and reader."""

    name: str
    table: type[models.Base]
    read: Callable[[dt.datetime], pd.DataFrame]


DATASETS: tuple[SampleDataset, ...] = (
    SampleDataset("security_master", models.Security, read_securities),
    SampleDataset("daily_bars", models.DailyBar, read_daily_bars),
    SampleDataset("market_daily", models.MarketDaily, read_market_daily),
    SampleDataset("monthly_revenue", models.MonthlyRevenue, read_monthly_revenue),
    SampleDataset("intraday_bars", models.IntradayBar, read_intraday_bars),
)


@dataclass(frozen=True)
class IntradaySample:
    """One recording of the sample written to the Parquet intraday store (``kind``: ticks | books | bbo)."""

    name: str
    kind: str
    read: Callable[[], pd.DataFrame]


def _tx_ticks() -> pd.DataFrame:
    from jgod_plugins.data import recordings

    return recordings.read_tx_tick_excerpt(raw=True)


def _binance(reader: str) -> Callable[[], pd.DataFrame]:
    def read() -> pd.DataFrame:
        from jgod_plugins.data import recordings

        return getattr(recordings, reader)()

    return read


INTRADAY_DATASETS: tuple[IntradaySample, ...] = (
    IntradaySample("taifex_ticks", "ticks", _tx_ticks),
    IntradaySample("binance_trades", "ticks", _binance("read_binance_trades")),
    IntradaySample("binance_books", "books", _binance("read_binance_books")),
    IntradaySample("binance_bbo", "bbo", _binance("read_binance_bbo")),
)


def load_sample_into(store, progress: bool = True) -> dict[str, int]:
    """Read every sample file, then write them all in one transaction; rows written per dataset.

    Files are parsed before the transaction opens, so a malformed file changes nothing. The
    intraday recordings go to the Parquet store, staged inside the database transaction and
    renamed into place only after it committed.
    """
    from rich.progress import Progress

    now = timing.utc_now()
    written: dict[str, int] = {}
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("reading sample", total=(len(DATASETS) + len(INTRADAY_DATASETS)) * 2)
        frames = {}
        for ds in DATASETS:
            bar.update(task, description=f"reading {ds.name}")
            frames[ds.name] = ds.read(now)
            bar.advance(task)
        recordings = {}
        for rec in INTRADAY_DATASETS:
            bar.update(task, description=f"reading {rec.name}")
            recordings[rec.name] = rec.read()
            bar.advance(task)
        with store.intraday.transaction() as intraday, store.transaction() as conn:
            for ds in DATASETS:
                bar.update(task, description=f"writing {ds.name} ({len(frames[ds.name]):,} rows)")
                written[ds.name] = store.upsert(ds.table, frames[ds.name], conn=conn)
                store.record_load(conn, SOURCE, ds.name, written[ds.name], now)
                bar.advance(task)
            for rec in INTRADAY_DATASETS:
                bar.update(task, description=f"writing {rec.name} ({len(recordings[rec.name]):,} rows)")
                written[rec.name] = intraday.write(rec.kind, recordings[rec.name])
                store.record_load(conn, SOURCE, rec.name, written[rec.name], now)
                bar.advance(task)
    return written


class SampleParams(Params):
    """The embedded sample takes no options."""


class SampleDataSource(DataSource[SampleParams]):
    """The embedded real sample: TWSE 51 stocks 2015–2025, TAIEX, TX, US cross-market series, FX.

    Inputs: the packaged CSV files; no network, no account. Loads into the store once (the
    first run) and idempotently on ``jgod data load sample``. No lag or warm-up of its own.
    """

    name = "sample"
    version = "1.0.0"
    Params = SampleParams
    provides = frozenset({
        DataKind.DAILY_BARS, DataKind.INDEX_DAILY, DataKind.FUTURES_DAILY, DataKind.US_MARKET_DAILY,
        DataKind.FX_DAILY, DataKind.SECURITY_MASTER, DataKind.FUNDAMENTALS, DataKind.INTRADAY_BARS,
        DataKind.INTRADAY_TICKS, DataKind.ORDER_BOOK_5,
    })
    phases = frozenset({Phase.PRE_MARKET, Phase.POST_MARKET})

    def load(self, store, progress: bool = True) -> dict[str, int]:
        """Load the sample into ``store``; rows written per dataset."""
        return load_sample_into(store, progress=progress)

    def ensure_loaded(self, store, progress: bool = True) -> bool:
        """Load the sample when ``store`` holds no daily bars yet (a run's first use); True if it loaded."""
        return store.ensure_sample_loaded(progress=progress)
