"""Readers of the real intraday recordings shipped in ``jgod_plugins.data/sample_data/intraday``.

Each reader returns an :class:`~jgod_core.data.events.EventBatch` (ordered as recorded)
plus the symbol names its ``symbol`` column indexes:

- :func:`read_tx_bars`: TAIFEX TX near-month 1-minute bars of one trade date and session. A bar
  is stamped at its END (bar_start + 1 min): it is known only then. The recording has no receive
  time, so ``receive_ns`` equals ``exchange_ns``. ``seq`` is the bar's position in the session.
- :func:`read_tx_ticks`: the TX prints of the TAIFEX tick-file excerpt (cp950 raw or utf-8),
  through the data layer's parser; size = (B+S)//2 contracts, minimum 1 (one side of each
  print), side unknown.
- :func:`read_binance_book`: the Binance BTCUSDT 5-level book after each depth diff (exchange
  time = event time, receive time = local ns stamp, ``seq`` = final update id) and every trade
  (aggressor side from ``is_buyer_maker``; ``seq`` = trade id).
"""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from jgod_core.data.events import BAR, EventBatch
from jgod_core.errors import MissingDataError

TX_BARS_FILE = "taifex_tx_near_month_1min_2026-05-12_2026-06-23.csv.gz"
TX_TICKS_UTF8 = "taifex_tx_ticks_excerpt_2026-05-29_utf8.csv"
TX_TICKS_CP950 = "taifex_tx_ticks_excerpt_2026-05-29_raw_cp950.csv"
BINANCE_DIR = "binance_spot_btcusdt_2024-08-08_2354_to_2024-08-09_0005_utc"
MINUTE_NS = 60_000_000_000


def intraday_dir() -> Path:
    """The folder of the shipped intraday recordings."""
    return Path(str(files("jgod_plugins.data") / "sample_data" / "intraday"))


def _require(path: Path) -> Path:
    if not path.exists():
        raise MissingDataError(f"recording {path} is not installed")
    return path


def read_tx_bars(trade_date: dt.date, session: str = "day", symbol: str = "TX",
                 path: Path | None = None) -> tuple[EventBatch, list[str]]:
    """The TX 1-minute bars of ``trade_date`` (``session`` = day | night | both)."""
    path = _require(path or intraday_dir() / TX_BARS_FILE)
    df = pd.read_csv(path, dtype={"contract": str})
    df = df[df["trade_date"] == trade_date.isoformat()]
    if session != "both":
        df = df[df["session"] == session]
    if df.empty:
        available = sorted(pd.read_csv(path, usecols=["trade_date"])["trade_date"].unique())
        raise MissingDataError(f"no TX {session} bars for {trade_date} in {path.name}; recorded trade dates: "
                               f"{available[0]}..{available[-1]} ({len(available)} days)")
    start_ns = pd.to_datetime(df["bar_start"], utc=True).astype("int64").to_numpy()
    order = np.argsort(start_ns, kind="stable")
    df = df.iloc[order]
    start_ns = start_ns[order]
    batch = EventBatch.empty(len(df))
    batch.kind[:] = BAR
    batch.symbol[:] = 0
    batch.exchange_ns[:] = start_ns + MINUTE_NS
    batch.receive_ns[:] = batch.exchange_ns
    batch.open[:] = df["open"].to_numpy(float)
    batch.high[:] = df["high"].to_numpy(float)
    batch.low[:] = df["low"].to_numpy(float)
    batch.price[:] = df["close"].to_numpy(float)
    batch.size[:] = df["volume"].to_numpy(float)
    batch.seq[:] = np.arange(len(df))
    return batch, [symbol]


def read_tx_ticks(raw: bool = False, symbol: str = "TX", path: Path | None = None) -> tuple[EventBatch, list[str]]:
    """The TX prints of the TAIFEX tick excerpt (``raw`` reads the original cp950 bytes).

    Decoded by the data layer's parser (:func:`jgod_plugins.data.recordings.parse_taifex_ticks`,
    the rows the intraday store holds): the repeated night-open auction print is dropped once
    there, and the calendar-spread rows (product ``CAF``, contract ``202606/202607``, price =
    the spread) are another instrument, so they are not TX trades. ``seq`` is the print's
    position in exchange-time order (the file has no sequence number; the excerpt lists the
    day-open auction print last).
    """
    from jgod_core.storage.intraday import event_batch
    from jgod_plugins.data import recordings as data_recordings

    name, encoding = (TX_TICKS_CP950, "cp950") if raw else (TX_TICKS_UTF8, "utf-8")
    frame = data_recordings.parse_taifex_ticks(_require(path or intraday_dir() / name), encoding)
    tx = frame[frame["instrument"] == "tx"]
    tx = tx.iloc[np.lexsort((tx["seq"].to_numpy(np.int64), tx["exchange_ns"].to_numpy(np.int64)))].copy()
    tx["seq"] = np.arange(len(tx), dtype=np.int64)
    tx["receive_ns"] = tx["exchange_ns"]  # the file has no receive time
    return event_batch(ticks=tx), [symbol]


def read_binance_book(symbol: str = "BTCUSDT", directory: Path | None = None,
                      limit: int | None = None) -> tuple[EventBatch, list[str]]:
    """Books and trades of the Binance recording, merged on exchange time (the data layer's parsers,
    :mod:`jgod_plugins.data.recordings`; the same rows the intraday store holds)."""
    from jgod_core.storage.intraday import event_batch
    from jgod_plugins.data import recordings as data_recordings

    directory = _require(directory or intraday_dir() / BINANCE_DIR)
    books = data_recordings.read_binance_books(directory)
    trades = data_recordings.read_binance_trades(directory)
    if limit is not None:
        books, trades = books.head(limit), trades.head(limit)
    return event_batch(trades, books), [symbol]


def previous_day_close(trade_date: dt.date, path: Path | None = None) -> float | None:
    """Last day-session close of the recorded trade date before ``trade_date`` (None if none)."""
    path = _require(path or intraday_dir() / TX_BARS_FILE)
    df = pd.read_csv(path, usecols=["trade_date", "bar_start", "session", "close"])
    df = df[(df["session"] == "day") & (df["trade_date"] < trade_date.isoformat())]
    if df.empty:
        return None
    last_date = df["trade_date"].max()
    return float(df[df["trade_date"] == last_date].sort_values("bar_start")["close"].iloc[-1])
