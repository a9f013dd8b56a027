"""Parsers of the shipped intraday recordings and their load into the Parquet store with the sample."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from typer.testing import CliRunner

from jgod_core.cli import _register_groups, app
from jgod_core.storage import models, open_store
from jgod_plugins.data import recordings
from jgod_plugins.tw_market.timing import taifex_trade_dates


def test_raw_cp950_tick_file_gives_exactly_the_rows_of_the_utf8_copy():
    raw = recordings.read_tx_tick_excerpt(raw=True)
    utf8 = recordings.read_tx_tick_excerpt(raw=False)
    pd.testing.assert_frame_equal(raw, utf8)
    assert len(raw) == 1003  # 1,004 rows, the night open's auction print repeated once


def test_tick_file_padding_is_stripped_and_fields_decoded():
    ticks = recordings.read_tx_tick_excerpt(raw=True)
    first = ticks.iloc[0]
    assert (first["instrument"], first["contract"], first["price"], first["size"], bool(first["auction"])) == (
        "tx", "202606", 43964.0, 73.0, True)  # size = 146 (B+S) // 2
    assert set(ticks["instrument"]) == {"tx", "caf"}
    assert set(ticks.loc[ticks["instrument"] == "caf", "contract"]) == {"202606/202607"}  # a calendar spread
    assert ticks["auction"].sum() == 2  # the night open (15:00, listed twice in the file) and the day open (08:45)


def test_night_session_prints_belong_to_the_next_trading_day():
    ticks = recordings.read_tx_tick_excerpt(raw=True)
    assert set(ticks["trade_date"]) == {dt.date(2026, 5, 29)}
    first = pd.Timestamp(int(ticks["exchange_ns"].iloc[0]), tz="UTC").tz_convert("Asia/Taipei")
    assert first == pd.Timestamp("2026-05-28 15:00:00", tz="Asia/Taipei")
    assert ticks["seq"].tolist() == list(range(1003))


def test_friday_night_and_saturday_morning_prints_trade_on_monday():
    local = pd.Series(pd.to_datetime(["2026-05-29 15:00:00", "2026-05-30 04:59:00", "2026-05-29 13:44:00"]))
    assert taifex_trade_dates(local).tolist() == [dt.date(2026, 6, 1), dt.date(2026, 6, 1),
                                                             dt.date(2026, 5, 29)]


def test_a_tick_file_with_the_wrong_layout_is_a_located_error(tmp_path):
    bad = tmp_path / "ticks.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(recordings.RecordingError, match="ticks.csv: expected the 9 TAIFEX tick-file columns"):
        recordings.parse_taifex_ticks(bad, "utf-8")


def test_binance_trades_take_the_aggressor_from_is_buyer_maker():
    trades = recordings.read_binance_trades()
    raw = pd.read_csv(recordings.intraday_dir() / recordings.BINANCE_DIR / "spot_btcusdt_trades.csv.gz")
    assert len(trades) == 19_904
    assert ((trades["side"] == -1) == (raw["is_buyer_maker"] == 1)).all()


def test_sample_load_fills_the_parquet_store_and_a_reload_writes_nothing(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'jgod.sqlite'}")
    written = store.load_sample(progress=False)
    assert (written["taifex_ticks"], written["binance_trades"], written["binance_books"], written["binance_bbo"]) == (
        1003, 19_904, 6_493, 73_174)
    assert store.count(models.IntradayBar) == 34_015
    assert set(store.load_sample(progress=False).values()) == {0}
    assert len(store.intraday.read_ticks("tx")) == 1001 and len(store.intraday.read_books("btcusdt")) == 6_493

    _register_groups()
    status = CliRunner().invoke(app, ["data", "status", "--store", f"sqlite:///{tmp_path / 'jgod.sqlite'}", "--no-gaps"])
    assert status.exit_code == 0, status.output
    for line in ("intraday_ticks", "intraday_books", "intraday_bbo", "2026-05-28 07:00:00.000Z", "73,174"):
        assert line in status.output
