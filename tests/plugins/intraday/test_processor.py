"""The fused numba processor: hand-computed cases, and agreement with the pure-Python one on real data."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jgod_core.data.events import EventBatch
from jgod_plugins.feeds.recordings import read_binance_book, read_tx_bars
from jgod_plugins.intraday.layout import BAR, BOOK, COMPONENTS, INDEX, TRADE
from jgod_plugins.intraday.processor import IntradayProcessor, ProcessorParams

# The test oracle (plain Python, no numba) lives beside this test, not in the runtime package.
_spec = importlib.util.spec_from_file_location("intraday_reference", Path(__file__).with_name("reference.py"))
_reference = sys.modules.setdefault("intraday_reference", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_reference)
PythonProcessor = _reference.PythonProcessor

SEC = 1_000_000_000
T0 = 1_780_000_000 * SEC  # a minute boundary


def _feed_reference(ref: PythonProcessor, batch: EventBatch) -> None:
    for i in range(len(batch)):
        k, s, t = int(batch.kind[i]), int(batch.symbol[i]), int(batch.exchange_ns[i])
        if k == TRADE:
            ref.on_trade(s, t, float(batch.price[i]), float(batch.size[i]), int(batch.side[i]))
        elif k == BOOK:
            ref.on_book(s, t, [float(x) for x in batch.book[i]])
        elif k == BAR:
            ref.on_bar(s, t, float(batch.open[i]), float(batch.high[i]), float(batch.low[i]),
                       float(batch.price[i]), float(batch.size[i]))
        elif k == INDEX:
            ref.on_index(s, t, float(batch.price[i]))


def _assert_same(numba_out: dict, python_out: dict) -> None:
    for name in COMPONENTS:
        np.testing.assert_allclose(numba_out[name], np.asarray(python_out[name], float), rtol=1e-9, atol=1e-12,
                                   equal_nan=True, err_msg=name)


def test_vwap_deviation_of_two_trades_is_hand_computed():
    proc = IntradayProcessor(["A"])
    proc.on_trade(0, T0, 100.0, 1.0)
    proc.on_trade(0, T0 + SEC, 103.0, 2.0)
    vwap = (100.0 * 1 + 103.0 * 2) / 3
    assert proc.component("vwap_deviation")[0] == pytest.approx(103.0 / vwap - 1)


def test_book_imbalance_and_spread_change_are_hand_computed():
    proc = IntradayProcessor(["A"])
    first = np.array([10.0, 9.9, 9.8, 9.7, 9.6, 5, 5, 5, 5, 5, 10.1, 10.2, 10.3, 10.4, 10.5, 1, 1, 1, 1, 1])
    proc.on_book(0, T0, first)
    assert proc.component("book_imbalance")[0] == pytest.approx((25 - 5) / 30)
    assert np.isnan(proc.component("spread_change")[0])  # no earlier spread to compare with
    wider = first.copy()
    wider[10] = 10.3
    proc.on_book(0, T0 + 10 * SEC, wider)
    assert proc.component("spread_change")[0] == pytest.approx((0.3 / 10.15) / (0.1 / 10.05) - 1)


def test_cancel_is_inferred_when_best_size_drops_without_trade_within_100ms():
    proc = IntradayProcessor(["A"])
    book = np.array([10.0, 9.9, 9.8, 9.7, 9.6, 10, 5, 5, 5, 5, 10.1, 10.2, 10.3, 10.4, 10.5, 10, 1, 1, 1, 1])
    proc.on_book(0, T0, book)
    dropped = book.copy()
    dropped[5] = 2.0  # best bid size 10 → 2 with no trade: a cancel
    proc.on_book(0, T0 + 50_000_000, dropped)
    assert proc.component("cancel_rate")[0] == 1.0
    proc.on_trade(0, T0 + 60_000_000, 10.0, 2.0, side=-1)  # sold into the bid: the drop is explained
    traded = dropped.copy()
    traded[5] = 0.5
    proc.on_book(0, T0 + 100_000_000, traded)
    assert proc.component("cancel_rate")[0] == pytest.approx(0.5)
    proc.on_book(0, T0 + 400_000_000, book)  # 300 ms later: not eligible, rate unchanged
    assert proc.component("cancel_rate")[0] == pytest.approx(0.5)


def test_basis_residual_needs_a_full_window_then_subtracts_its_mean():
    params = ProcessorParams(basis_window=3)
    proc = IntradayProcessor(["TX", "TAIEX"], params, futures_symbol="TX", index_symbol="TAIEX")
    proc.on_index(1, T0, 100.0)
    proc.on_trade(0, T0 + 1, 110.0, 1.0)  # basis 10
    assert np.isnan(proc.component("basis_residual")[0])
    proc.on_trade(0, T0 + 2, 112.0, 1.0)  # 12
    proc.on_index(1, T0 + 3, 98.0)  # 14
    assert proc.component("basis")[0] == 14.0
    assert proc.component("basis_residual")[0] == pytest.approx(14 - (10 + 12 + 14) / 3)


def test_micro_reversal_fires_on_a_large_bar_against_a_run_of_small_ones():
    params = ProcessorParams(run_length=3, return_window=4, small_mult=1.5, large_mult=3.0)
    proc = IntradayProcessor(["A"], params)
    closes = [100.0, 100.1, 100.2, 100.3, 100.4, 99.0]  # four small up-bars, then a large down-bar
    for i, c in enumerate(closes):
        proc.on_bar(0, T0 + (i + 1) * 60 * SEC, c, c, c, c, 10.0)
    assert proc.component("micro_reversal")[0] == -1.0


def test_volume_spike_is_current_bucket_over_mean_of_previous_ones():
    proc = IntradayProcessor(["A"], ProcessorParams(volume_window=5))
    volumes = [10, 20, 30, 40, 50, 300]
    for i, v in enumerate(volumes):
        proc.on_bar(0, T0 + (i + 1) * 60 * SEC, 10, 10, 10, 10, float(v))
    assert proc.component("volume_spike")[0] == pytest.approx(300 / 30)


def test_invalid_events_are_ignored_and_counted():
    proc = IntradayProcessor(["A"])
    assert not proc.on_trade(0, T0, float("nan"), 1.0)
    assert not proc.on_trade(0, T0, -1.0, 1.0)
    crossed = np.array([10.2] * 5 + [1] * 5 + [10.1] * 5 + [1] * 5)
    assert not proc.on_book(0, T0, crossed)
    assert proc.rejected == 3
    assert np.isnan(proc.out).all()


def test_batch_kernel_equals_pure_python_processor_on_the_real_binance_recording():
    batch, symbols = read_binance_book(limit=3000)
    proc = IntradayProcessor(symbols)
    proc.process(batch)
    ref = PythonProcessor(symbols)
    _feed_reference(ref, batch)
    _assert_same(proc.components(), ref.components())
    assert np.isfinite(proc.component("cancel_rate")[0])
    assert np.isfinite(proc.component("aggressive_imbalance")[0])


def test_batch_kernel_equals_streaming_calls_on_real_tx_bars():
    batch, symbols = read_tx_bars(dt.date(2026, 5, 28))
    whole = IntradayProcessor(symbols)
    whole.process(batch)
    stream = IntradayProcessor(symbols)
    for i in range(len(batch)):
        stream.on_bar(0, int(batch.exchange_ns[i]), batch.open[i], batch.high[i], batch.low[i], batch.price[i],
                      batch.size[i])
    np.testing.assert_array_equal(whole.out, stream.out)
    ref = PythonProcessor(symbols)
    _feed_reference(ref, batch)
    _assert_same(whole.components(), ref.components())


def test_vwap_and_volume_spike_match_pandas_on_real_tx_bars_at_every_bar():
    batch, symbols = read_tx_bars(dt.date(2026, 5, 28))
    proc = IntradayProcessor(symbols, ProcessorParams(volume_window=20))
    vwap_dev, spike = [], []
    for i in range(len(batch)):
        proc.process(batch.take(slice(i, i + 1)))
        vwap_dev.append(proc.component("vwap_deviation")[0])
        spike.append(proc.component("volume_spike")[0])
    bars = pd.DataFrame({"h": batch.high, "l": batch.low, "c": batch.price, "v": batch.size})
    typical = (bars.h + bars.l + bars.c) / 3
    expected_vwap = bars.c / ((typical * bars.v).cumsum() / bars.v.cumsum()) - 1
    expected_spike = bars.v / bars.v.shift(1).rolling(20, min_periods=5).mean()
    np.testing.assert_allclose(vwap_dev, expected_vwap, rtol=1e-10)
    np.testing.assert_allclose(spike, expected_spike, rtol=1e-10, equal_nan=True)


def test_fexec_components_match_pure_python_with_index_and_global_reference():
    # A small stated sequence (prices chosen by hand) exercises basis, beta and lead together.
    params = ProcessorParams(basis_window=4, beta_window=6, beta_min_samples=4, lead_samples=2)
    symbols = ["TX", "TAIEX", "ES"]
    proc = IntradayProcessor(symbols, params, futures_symbol="TX", index_symbol="TAIEX", global_symbol="ES")
    ref = PythonProcessor(symbols, params, futures_symbol="TX", index_symbol="TAIEX", global_symbol="ES")
    tx = [20000, 20010, 19990, 20030, 20050, 20020, 20060, 20100, 20080, 20120]
    idx = [19950, 19955, 19948, 19970, 19990, 19975, 19992, 20020, 20010, 20030]
    es = [5000, 5002, 4999, 5006, 5008, 5004, 5010, 5015, 5012, 5019]
    events = []
    for m in range(len(tx)):
        t = T0 + m * 60 * SEC
        events.append((INDEX, 2, t + 1, es[m]))
        events.append((INDEX, 1, t + 2, idx[m]))
        events.append((TRADE, 0, t + 3, tx[m]))
    batch = EventBatch.empty(len(events))
    for i, (k, s, t, px) in enumerate(events):
        batch.kind[i], batch.symbol[i], batch.exchange_ns[i], batch.price[i], batch.size[i] = k, s, t, px, 1.0
    proc.process(batch)
    _feed_reference(ref, batch)
    _assert_same(proc.components(), ref.components())
    out = proc.components()
    assert out["basis"][0] == 20120 - 20030
    assert np.isfinite(out["beta_residual"][0]) and np.isfinite(out["futures_lead"][0])
