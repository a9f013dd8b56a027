"""`jgod replay` on the real recordings: deterministic order list, parsers of the recorded formats."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from jgod_core.cli import main
from jgod_plugins.feeds.recordings import read_binance_book, read_tx_bars, read_tx_ticks


def test_replay_twice_gives_byte_identical_order_list_and_prints_its_sha256(tmp_path, capsys):
    args = ["replay", "pipelines/tw_intraday.yaml", "--date", "2026-05-28", "--out"]
    assert main(args + [str(tmp_path / "a")]) == 0
    first = capsys.readouterr().out
    assert main(args + [str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "orders.csv").read_bytes()
    b = (tmp_path / "b" / "orders.csv").read_bytes()
    assert a == b and len(a.splitlines()) > 1
    assert f"orders sha256 {hashlib.sha256(a).hexdigest()}" in first


def test_replay_of_a_date_without_recording_is_a_clear_error(tmp_path, capsys):
    assert main(["replay", "pipelines/tw_intraday.yaml", "--date", "2026-05-30", "--out", str(tmp_path)]) == 1
    assert "no TX day bars for 2026-05-30" in capsys.readouterr().err
    assert not (tmp_path / "orders.csv").exists()


def test_tx_bars_are_stamped_at_their_end_and_sorted():
    batch, symbols = read_tx_bars(dt.date(2026, 5, 28))
    assert symbols == ["TX"] and len(batch) == 301
    first = np.datetime64(int(batch.exchange_ns[0]), "ns")
    assert str(first) == "2026-05-28T00:46:00.000000000"  # 08:45 bar, known at 08:46 Taipei
    assert (np.diff(batch.exchange_ns) > 0).all()


def test_raw_cp950_tick_file_decodes_to_the_same_ticks_as_the_utf8_copy():
    raw, _ = read_tx_ticks(raw=True)
    utf8, _ = read_tx_ticks(raw=False)
    assert len(raw) == len(utf8)
    np.testing.assert_array_equal(raw.price, utf8.price)
    np.testing.assert_array_equal(raw.exchange_ns, utf8.exchange_ns)
    assert raw.price[0] == 43964 and raw.size[0] == 73  # 146 (B+S) // 2


def test_tx_ticks_drop_the_repeated_night_open_auction_and_the_calendar_spread_rows():
    batch, symbols = read_tx_ticks(raw=True)
    # 1,004 rows = 1,001 TX prints + the night-open auction repeated once + 2 CAF spread prints (0.6)
    assert symbols == ["TX"] and len(batch) == 1001
    assert batch.price.min() > 40_000  # no spread price among the TX trades
    night_open = int(pd.Timestamp("2026-05-28 15:00", tz="Asia/Taipei").value)
    assert int(np.sum((batch.exchange_ns == night_open) & (batch.price == 43964) & (batch.size == 73))) == 1
    assert (np.diff(batch.exchange_ns) >= 0).all()
    np.testing.assert_array_equal(batch.seq, np.arange(1001))  # contiguous in exchange-time order


def test_binance_recording_has_books_and_trades_with_aggressor_side():
    batch, _ = read_binance_book(limit=500)
    assert set(np.unique(batch.kind)) == {1, 2}
    trades = batch.kind == 1
    assert set(np.unique(batch.side[trades])) <= {-1, 1}
    assert (np.diff(batch.exchange_ns) >= 0).all()


def test_replay_through_the_live_loop_on_a_virtual_clock_gives_the_same_order_list(tmp_path, capsys):
    args = ["replay", "pipelines/tw_intraday.yaml", "--date", "2026-05-28", "--out"]
    assert main(args + [str(tmp_path / "replay")]) == 0
    assert main(args + [str(tmp_path / "live"), "--live-loop"]) == 0
    replayed = (tmp_path / "replay" / "orders.csv").read_bytes()
    assert (tmp_path / "live" / "orders.csv").read_bytes() == replayed and len(replayed.splitlines()) > 1


# The order list of the shipped pipeline on 2026-05-28, pinned. It changed from 0a014690… (15
# orders, all approved, 0 fills) when TX orders began to fill (paper futures mode): the first
# position now earns real P&L, the 5-minute Sharpe breaker halts at 08:55 and every later order
# row is a denial. Change it only when the orders are meant to change.
TW_INTRADAY_2026_05_28_ORDERS_SHA256 = "63e93444ef29dd276108a6f545aee1711c13ccbf99c9b3962d4de17eb3df6727"


def test_replay_fills_tx_orders_against_the_recorded_bars_with_hand_computed_costs(tmp_path, capsys):
    from jgod_plugins.feeds.recordings import TX_BARS_FILE, intraday_dir

    assert main(["replay", "pipelines/tw_intraday.yaml", "--date", "2026-05-28", "--out", str(tmp_path)]) == 0
    assert f"orders sha256 {TW_INTRADAY_2026_05_28_ORDERS_SHA256}" in capsys.readouterr().out
    orders = pd.read_csv(tmp_path / "orders.csv")
    fills = pd.read_csv(tmp_path / "fills.csv")
    assert len(fills) >= 2
    bars = pd.read_csv(intraday_dir() / TX_BARS_FILE)
    bars = bars[(bars["trade_date"] == "2026-05-28") & (bars["session"] == "day")]
    bars["start"] = pd.to_datetime(bars["bar_start"], utc=True).dt.tz_convert("Asia/Taipei").dt.tz_localize(None)
    for fill in fills.itertuples():
        parent = fill.client_order_id.removesuffix("-0")
        decided = orders.loc[orders["client_order_id"] == parent, "decision_time"]
        submitted = pd.Timestamp(decided.iloc[0]) if len(decided) else None
        # the first bar that opens at or after the submission (08:51 decision → the 08:51–08:52 bar)
        bar = bars[bars["start"] >= submitted].iloc[0] if submitted is not None else None
        if bar is not None:
            assert float(fill.price) == bar["open"]
        assert fill.multiplier == 200 and fill.quantity == 1
        assert fill.notional == pytest.approx(fill.price * 200)
        assert fill.tax == int(fill.price * 200 * 0.00002 + 0.5)  # futures tax 0.002 %, to the NT$
        assert fill.commission == 0  # the pipeline sets no broker fee
    first = fills.iloc[0]
    assert (first["side"], first["price"], first["tax"]) == ("buy", 45015.0, 180)  # 45,015 × 200 × 0.002 % = 180.06
