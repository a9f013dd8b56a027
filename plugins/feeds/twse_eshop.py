"""Parsers of the TWSE data e-shop intraday files: fixed-width ASCII records, one per line.

- ``dsp`` (揭示檔, H3 layout in force since 2020-03-23, 190 bytes): every 5-second display of a
  security: last trade price/volume, the 5-level book (prices TWD, volumes in lots), remark
  ``T`` = trial matching (indicative, before the open and during the closing call);
- ``mth`` (成交檔, 63 bytes): every trade, once per side (B and S rows share a trade number);
- ``odr`` (委託檔, 59 bytes): every order entry/change, with a signed changed volume.

Byte offsets below were derived from the real sample records and checked field by field
against the decoded flat CSVs shipped beside them (tests/plugins/feeds/test_twse_eshop.py).
Codes (trade type, order type, investor type, changed-trade code) are kept as recorded. A record
of the wrong length or with a non-numeric numeric field is a :class:`RecordFormatError` naming
the file, line and field; nothing is returned for a file with a bad record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from jgod_core.data.events import BOOK, BOOK_LEVELS, TRADE, EventBatch
from jgod_core.errors import JGodError

LOT = 1000  # shares per board lot (dsp volumes count lots)


class RecordFormatError(JGodError):
    """A record does not match its fixed-width layout (file, line and field named)."""


@dataclass(frozen=True)
class Field:
    """One field of a fixed-width record: bytes ``[start, end)`` decoded by ``parse``."""

    name: str
    start: int
    end: int
    parse: Callable[[str], object] = str


def _int(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{text!r} is not digits")
    return int(text)


def _implied_2dp(text: str) -> float:
    """9(n)V99: digits with two implied decimals (``019950`` → 199.50)."""
    return _int(text) / 100.0


def _decimal(text: str) -> float:
    """Digits with an explicit point (``0034.60``)."""
    whole, dot, frac = text.partition(".")
    if not (dot and whole.isdigit() and frac.isdigit()):
        raise ValueError(f"{text!r} is not a decimal")
    return float(text)


def _signed(text: str) -> int:
    if text[0] not in "+-":
        raise ValueError(f"{text!r} has no sign")
    return _int(text[1:]) * (-1 if text[0] == "-" else 1)


def _hhmmss_fraction(text: str) -> str:
    """``HHMMSS`` + fraction digits → ``HH:MM:SS.ffffff``."""
    _int(text)
    frac = text[6:].ljust(6, "0")
    return f"{text[0:2]}:{text[2:4]}:{text[4:6]}.{frac}"


def _date(text: str) -> str:
    _int(text)
    return f"{text[0:4]}-{text[4:6]}-{text[6:8]}"


def _levels(side: str, start: int) -> list[Field]:
    fields = []
    for level in range(1, BOOK_LEVELS + 1):
        at = start + (level - 1) * 14
        fields.append(Field(f"{side}_price_{level}", at, at + 6, _implied_2dp))
        fields.append(Field(f"{side}_volume_{level}", at + 6, at + 14, _int))
    return fields


DSP_WIDTH = 190
DSP_FIELDS = [
    Field("securities_code", 0, 6, str.strip),
    Field("display_time", 6, 18, _hhmmss_fraction),
    Field("remark", 18, 19),
    Field("trend_flag", 19, 20),
    Field("match_flag", 20, 21),
    Field("trade_upper_lower_limit", 21, 22),
    Field("trade_price", 22, 28, _implied_2dp),
    Field("transaction_volume", 28, 36, _int),
    Field("buy_tick_size", 36, 37, _int),  # number of bid levels shown
    Field("buy_upper_lower_limit", 37, 38),
    *_levels("bid", 38),
    Field("sell_tick_size", 108, 109, _int),  # number of ask levels shown
    Field("sell_upper_lower_limit", 109, 110),
    *_levels("ask", 110),
    Field("display_date", 180, 188, _date),
    Field("match_staff", 188, 190),
]

MTH_WIDTH = 63
MTH_FIELDS = [
    Field("trade_date", 0, 8, _date),
    Field("securities_code", 8, 14, str.strip),
    Field("buy_sell", 14, 15),
    Field("trade_type_code", 15, 16),
    Field("trade_time", 16, 24, _hhmmss_fraction),
    Field("trade_number", 24, 32),
    Field("order_number_ii", 32, 37),
    Field("trade_price", 37, 44, _decimal),
    Field("trade_volume", 44, 53, _int),  # shares
    Field("trading_report_print", 53, 57),
    Field("order_type_code", 57, 58),
    Field("type_of_investor", 58, 59),
    Field("order_number_i", 59, 63),
]

ODR_WIDTH = 59
ODR_FIELDS = [
    Field("order_date", 0, 8, _date),
    Field("securities_code", 8, 14, str.strip),
    Field("buy_sell", 14, 15),
    Field("trade_type_code", 15, 16),
    Field("order_time", 16, 24, _hhmmss_fraction),
    Field("order_number_ii", 24, 29),
    Field("changed_trade_code", 29, 30),
    Field("order_price", 30, 37, _decimal),
    Field("changed_trade_volume", 37, 48, _signed),  # shares, signed
    Field("order_type_code", 48, 49),
    Field("notes_investors_order_channel", 49, 50),
    Field("order_report_print", 50, 54),
    Field("type_of_investor", 54, 55),
    Field("order_number_i", 55, 59),
]


def parse_records(path: Path, width: int, fields: list[Field]) -> pd.DataFrame:
    """Every record of ``path`` decoded with ``fields`` (one column each, in layout order)."""
    rows = []
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            record = raw.rstrip(b"\r\n")
            if not record:
                continue
            if len(record) != width:
                raise RecordFormatError(f"{path}:{line_no}: record is {len(record)} bytes, expected {width}")
            try:
                text = record.decode("ascii")
            except UnicodeDecodeError as exc:
                raise RecordFormatError(f"{path}:{line_no}: byte {exc.start + 1} is not ASCII") from None
            row = {}
            for f in fields:
                try:
                    row[f.name] = f.parse(text[f.start:f.end])
                except ValueError as exc:
                    raise RecordFormatError(f"{path}:{line_no}: field {f.name} (bytes {f.start + 1}–{f.end}): "
                                            f"{exc}") from None
            rows.append(row)
    return pd.DataFrame(rows, columns=[f.name for f in fields])


def read_dsp(path: Path) -> pd.DataFrame:
    """The 5-level display records (揭示檔, 190-byte layout)."""
    return parse_records(path, DSP_WIDTH, DSP_FIELDS)


def read_mth(path: Path) -> pd.DataFrame:
    """The trade records (成交檔), one row per side of each trade."""
    return parse_records(path, MTH_WIDTH, MTH_FIELDS)


def read_odr(path: Path) -> pd.DataFrame:
    """The order records (委託檔)."""
    return parse_records(path, ODR_WIDTH, ODR_FIELDS)


def _events(kind: int, codes: pd.Series, dates: pd.Series, times: pd.Series, symbols: list[str]) -> EventBatch:
    """A batch of ``kind`` events, one per record, stamped at the record's Taipei time (received then too)."""
    row_of = {code: i for i, code in enumerate(symbols)}
    batch = EventBatch.empty(len(codes))
    batch.kind[:] = kind
    batch.symbol[:] = [row_of[code] for code in codes]
    stamps = pd.to_datetime(dates + " " + times, format="%Y-%m-%d %H:%M:%S.%f")
    batch.exchange_ns[:] = stamps.dt.tz_localize("Asia/Taipei").astype("int64").to_numpy()
    batch.receive_ns[:] = batch.exchange_ns
    return batch


_BOOK_COLUMNS = [f"{side}_{what}_{level}" for side in ("bid", "ask") for what in ("price", "volume")
                 for level in range(1, BOOK_LEVELS + 1)]  # the EventBatch.book layout
_BOOK_VOLUMES = [i for i, name in enumerate(_BOOK_COLUMNS) if "_volume_" in name]


def dsp_books(dsp: pd.DataFrame, symbols: list[str], include_trial: bool = False) -> EventBatch:
    """Book events of the display records (sizes in shares); trial-matching displays only on request."""
    rows = dsp if include_trial else dsp[dsp["remark"] != "T"]
    batch = _events(BOOK, rows["securities_code"], rows["display_date"], rows["display_time"], symbols)
    book = rows[_BOOK_COLUMNS].to_numpy(float)
    book[:, _BOOK_VOLUMES] *= LOT
    batch.book[:] = book
    return batch


def mth_trades(mth: pd.DataFrame, symbols: list[str]) -> EventBatch:
    """One trade event per trade number (the B and S rows of a trade are one print), in shares."""
    trades = mth.drop_duplicates(["securities_code", "trade_number"], keep="first")
    batch = _events(TRADE, trades["securities_code"], trades["trade_date"], trades["trade_time"], symbols)
    batch.price[:] = trades["trade_price"].to_numpy(float)
    batch.size[:] = trades["trade_volume"].to_numpy(float)
    batch.seq[:] = trades["trade_number"].astype(np.int64).to_numpy()
    return batch
