"""Parsers of the real intraday recordings in ``sample_data/intraday`` into intraday-store rows.

Each returns a frame shaped for :mod:`jgod_core.storage.intraday` (``instrument``,
``trade_date`` and the dataset's columns). Nothing is invented: fields a recording lacks are
left null.

- TAIFEX tick file (期貨每筆成交資料, the 2026-05-29 TX excerpt): cp950 or UTF-8, fields padded
  with spaces. ``成交日期`` + ``成交時間`` are Taipei wall-clock time; the trade date of a
  night-session print (15:00 onwards, or after midnight on a non-trading day) is the next
  trading day. ``size`` = 成交數量(B+S) // 2 contracts, at least 1 (one side of the print, the
  rule the 1-minute bars were built with); the aggressor side is not in the file (0);
  ``auction`` marks the opening-auction print; ``seq`` is the print's position in its trade
  date's rows. Calendar-spread rows (contract ``202606/202607``) keep their spread price. An
  opening auction prints once per session and contract, so a repeated auction row is dropped
  (the excerpt repeats the night open, row 1, as its second-to-last row).
- Binance spot BTCUSDT (hftbacktest recording): 5-level book after each depth diff (exchange
  time = event time, ``seq`` = final update id), trades (exchange time = trade time, ``seq`` =
  trade id, side from ``is_buyer_maker``: 1 → seller aggressed → −1) and bookTicker best
  bid/offer updates (no exchange time in that stream; ``seq`` = update id). Trade date = the
  Taipei calendar date of the event.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from jgod_core.errors import JGodError
from jgod_plugins.tw_market.timing import taifex_trade_dates

INTRADAY = "intraday"
TX_TICKS_CP950 = "taifex_tx_ticks_excerpt_2026-05-29_raw_cp950.csv"
TX_TICKS_UTF8 = "taifex_tx_ticks_excerpt_2026-05-29_utf8.csv"
BINANCE_DIR = "binance_spot_btcusdt_2024-08-08_2354_to_2024-08-09_0005_utc"
TAIFEX_COLUMNS = ("date", "product", "contract", "time", "price", "volume_bs", "near_px", "far_px", "auction")
TAIPEI = "Asia/Taipei"


class RecordingError(JGodError):
    """A recording file is missing or malformed (names the file)."""


def intraday_dir() -> Path:
    """The folder of the shipped intraday recordings."""
    return Path(str(resources.files("jgod_plugins.data") / "sample_data" / INTRADAY))


def parse_taifex_ticks(path: Path, encoding: str) -> pd.DataFrame:
    """Rows of a TAIFEX tick file (``encoding`` cp950 for the raw file, utf-8 for the transcoded one)."""
    try:
        raw = pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise RecordingError(f"{path.name}: cannot read as {encoding} CSV ({exc})") from None
    if len(raw.columns) != len(TAIFEX_COLUMNS):
        raise RecordingError(f"{path.name}: expected the {len(TAIFEX_COLUMNS)} TAIFEX tick-file columns, "
                             f"got {len(raw.columns)}: {list(raw.columns)}")
    raw.columns = list(TAIFEX_COLUMNS)
    raw = raw.apply(lambda column: column.str.strip())
    auction = raw["auction"] == "*"
    repeated_auction = auction & raw.duplicated(["date", "product", "contract", "time", "price", "volume_bs"])
    raw = raw[~repeated_auction].reset_index(drop=True)
    try:
        local = pd.to_datetime(raw["date"] + raw["time"].str.zfill(6), format="%Y%m%d%H%M%S")
        price = raw["price"].astype(float)
        volume_bs = raw["volume_bs"].astype("int64")
    except ValueError as exc:
        raise RecordingError(f"{path.name}: malformed date/time/price/volume ({exc})") from None
    trade_date = taifex_trade_dates(local)
    frame = pd.DataFrame({
        "instrument": raw["product"].str.lower(),
        "trade_date": trade_date,
        "exchange_ns": local.dt.tz_localize(TAIPEI).astype("int64"),
        "seq": raw.groupby(trade_date.astype(str)).cumcount().astype("int64"),
        "price": price,
        "size": np.maximum(volume_bs // 2, 1).astype(float),
        "side": 0,
        "contract": raw["contract"],
        "auction": raw["auction"] == "*",
        "source": "taifex",
    })
    return frame


def read_tx_tick_excerpt(raw: bool = True) -> pd.DataFrame:
    """The shipped TAIFEX tick excerpt; ``raw`` parses the original cp950 bytes."""
    name, encoding = (TX_TICKS_CP950, "cp950") if raw else (TX_TICKS_UTF8, "utf-8")
    return parse_taifex_ticks(_require(intraday_dir() / name), encoding)


def _taipei_dates(ns: pd.Series) -> pd.Series:
    return pd.to_datetime(ns, unit="ns", utc=True).dt.tz_convert(TAIPEI).dt.date


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(_require(path))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise RecordingError(f"{path.name}: {exc}") from None


def read_binance_books(directory: Path | None = None, instrument: str = "btcusdt") -> pd.DataFrame:
    """The 5-level book after each depth diff of the Binance recording."""
    book = _read((directory or intraday_dir() / BINANCE_DIR) / "spot_btcusdt_book5.csv.gz")
    exchange_ns = book["event_time_ms"].astype("int64") * 1_000_000
    frame = pd.DataFrame({
        "instrument": instrument, "trade_date": _taipei_dates(exchange_ns), "exchange_ns": exchange_ns,
        "receive_ns": book["recv_ts_ns"].astype("int64"), "seq": book["final_update_id"].astype("int64"),
        "first_seq": book["first_update_id"].astype("int64"), "source": "binance",
    })
    levels = [c for c in book.columns if c.startswith(("bid_", "ask_"))]
    return pd.concat([frame, book[levels].astype(float)], axis=1)


def read_binance_trades(directory: Path | None = None, instrument: str = "btcusdt") -> pd.DataFrame:
    """Every trade of the Binance recording (aggressor side from ``is_buyer_maker``)."""
    trades = _read((directory or intraday_dir() / BINANCE_DIR) / "spot_btcusdt_trades.csv.gz")
    exchange_ns = trades["trade_time_ms"].astype("int64") * 1_000_000
    return pd.DataFrame({
        "instrument": instrument, "trade_date": _taipei_dates(exchange_ns), "exchange_ns": exchange_ns,
        "receive_ns": trades["recv_ts_ns"].astype("int64"), "seq": trades["trade_id"].astype("int64"),
        "price": trades["price"].astype(float), "size": trades["qty"].astype(float),
        "side": np.where(trades["is_buyer_maker"].to_numpy() == 1, -1, 1).astype("int8"), "source": "binance",
    })


def read_binance_bbo(directory: Path | None = None, instrument: str = "btcusdt") -> pd.DataFrame:
    """Every best bid/offer change of the Binance recording (stamped on receive time only)."""
    bbo = _read((directory or intraday_dir() / BINANCE_DIR) / "spot_btcusdt_bookticker.csv.gz")
    receive_ns = bbo["recv_ts_ns"].astype("int64")
    return pd.DataFrame({
        "instrument": instrument, "trade_date": _taipei_dates(receive_ns), "receive_ns": receive_ns,
        "seq": bbo["update_id"].astype("int64"), "bid_px": bbo["bid_px"].astype(float),
        "bid_qty": bbo["bid_qty"].astype(float), "ask_px": bbo["ask_px"].astype(float),
        "ask_qty": bbo["ask_qty"].astype(float), "source": "binance",
    })


def _require(path: Path) -> Path:
    if not path.exists():
        raise RecordingError(f"recording {path} is not installed")
    return path
