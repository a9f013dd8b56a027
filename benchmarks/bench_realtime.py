"""Realtime processor figures, as ratios against baselines measured in the same run.

Batch: events/s of the fused numba kernel vs the pure-Python processor (same definitions), vs
a numba copy of the same bytes (memory-bandwidth floor) and vs a numba read of every byte once
(read floor: the kernel only reads its input). Streaming: per-event latency
p50/p99/p99.9 of ``IntradayProcessor.on_trade`` vs the pure-Python handler and vs the bare
call overhead of an empty numba function with the same arguments.

Input: the real BTCUSDT book + trades recording, tiled over ``--symbols`` symbols to size
(the tiling is the only synthetic part: sizes, not values). Run: python benchmarks/bench_realtime.py
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

from jgod_core.data.events import BOOK, TRADE, EventBatch
from jgod_plugins.feeds.recordings import read_binance_book
from jgod_plugins.intraday import kernels
from jgod_plugins.intraday.processor import IntradayProcessor

# The plain-Python baseline is the tests' oracle (tests/plugins/intraday/reference.py).
_REF = Path(__file__).resolve().parents[1] / "tests" / "plugins" / "intraday" / "reference.py"
_spec = importlib.util.spec_from_file_location("intraday_reference", _REF)
_reference = sys.modules.setdefault("intraday_reference", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_reference)
PythonProcessor = _reference.PythonProcessor


@njit(cache=True)
def _empty(state, clock, ring, out, params, kind, s, exch_ns, price, size, side, open_, high, low, book):
    return True


def _tile(batch: EventBatch, n_symbols: int) -> EventBatch:
    parts = []
    for s in range(n_symbols):
        part = batch.take(slice(None))
        part.symbol[:] = s
        parts.append(part)
    merged = EventBatch.concat(parts)
    assert len(np.unique(merged.symbol)) == n_symbols  # (take() once returned views: every part was symbol n-1)
    order = np.argsort(merged.exchange_ns, kind="stable")
    return merged.take(order)


def bench_batch(batch: EventBatch, symbols: list[str], python_events: int) -> None:
    proc = IntradayProcessor(symbols)
    proc.process(batch.take(slice(0, 10)))
    proc.reset()
    t = time.perf_counter()
    proc.process(batch)
    numba_s = time.perf_counter() - t
    outs = [np.empty_like(getattr(batch, f)) for f in ("kind", "symbol", "exchange_ns", "price", "size", "side",
                                                       "open", "high", "low", "book")]
    args = [batch.kind, batch.symbol, batch.exchange_ns, batch.price, batch.size, batch.side, batch.open, batch.high,
            batch.low, batch.book]
    kernels.copy_batch(*args, *outs)
    t = time.perf_counter()
    kernels.copy_batch(*args, *outs)
    copy_s = time.perf_counter() - t
    kernels.read_batch(*args)
    t = time.perf_counter()
    kernels.read_batch(*args)
    read_s = time.perf_counter() - t
    ref = PythonProcessor(symbols)
    sub = batch.take(slice(0, python_events))
    books = [list(map(float, row)) for row in sub.book]
    t = time.perf_counter()
    for i in range(len(sub)):
        k, s, ts = int(sub.kind[i]), int(sub.symbol[i]), int(sub.exchange_ns[i])
        if k == TRADE:
            ref.on_trade(s, ts, float(sub.price[i]), float(sub.size[i]), int(sub.side[i]))
        elif k == BOOK:
            ref.on_book(s, ts, books[i])
    py_s = (time.perf_counter() - t) * len(batch) / len(sub)
    n = len(batch)
    print(f"batch: {n:,} events ({batch.nbytes / 1e6:.1f} MB), {len(symbols)} symbols")
    print(f"  numba kernel   {n / numba_s / 1e6:8.2f} M events/s")
    print(f"  bandwidth floor{n / copy_s / 1e6:8.2f} M events/s (numba copy of the same bytes)")
    print(f"  read floor     {n / read_s / 1e6:8.2f} M events/s (numba read of every byte once)")
    print(f"  pure Python    {n / py_s / 1e6:8.3f} M events/s (extrapolated from {len(sub):,} events)")
    print(f"  kernel / copy floor time ratio {numba_s / copy_s:.2f}x; kernel / read floor {numba_s / read_s:.2f}x; "
          f"speed-up vs Python {py_s / numba_s:.0f}x")


def bench_stream(batch: EventBatch, events: int) -> None:
    trades = batch.take(np.flatnonzero(batch.kind == TRADE)[:events])
    proc = IntradayProcessor(["X"])
    ref = PythonProcessor(["X"])
    nob = np.full(20, np.nan)
    proc.on_trade(0, int(trades.exchange_ns[0]), 1.0, 1.0, 1)
    _empty(proc.state, proc.clock, proc.ring, proc.out, proc._params, 1, 0, 0, 1.0, 1.0, 1, np.nan, np.nan, np.nan, nob)
    proc.reset()
    ts, px, sz, sd = trades.exchange_ns.tolist(), trades.price.tolist(), trades.size.tolist(), trades.side.tolist()

    def measure(fn) -> np.ndarray:
        lat = np.empty(len(ts), dtype=np.int64)
        clock = time.perf_counter_ns
        for i in range(len(ts)):
            a = clock()
            fn(i)
            lat[i] = clock() - a
        return lat

    p = proc
    numba_lat = measure(lambda i: p.on_trade(0, ts[i], px[i], sz[i], sd[i]))
    py_lat = measure(lambda i: ref.on_trade(0, ts[i], px[i], sz[i], sd[i]))
    st, ck, rg, ot, pr = p.state, p.clock, p.ring, p.out, p._params
    bare_lat = measure(lambda i: _empty(st, ck, rg, ot, pr, 1, 0, ts[i], px[i], sz[i], sd[i], np.nan, np.nan,
                                        np.nan, nob))
    empty_lat = measure(lambda i: None)
    print(f"streaming: {len(ts):,} real trades, per-event latency in µs (timer overhead included in all rows)")
    for name, lat in (("numba on_trade", numba_lat), ("pure Python", py_lat), ("bare numba call", bare_lat),
                      ("empty lambda", empty_lat)):
        q = np.percentile(lat, [50, 99, 99.9]) / 1e3
        print(f"  {name:16s} p50 {q[0]:6.2f}  p99 {q[1]:6.2f}  p99.9 {q[2]:7.2f}")
    print(f"  p99 ratio numba/python {np.percentile(numba_lat, 99) / np.percentile(py_lat, 99):.2f}; "
          f"numba/bare call {np.percentile(numba_lat, 99) / np.percentile(bare_lat, 99):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--symbols", type=int, default=40)
    ap.add_argument("--python-events", type=int, default=100_000)
    ap.add_argument("--stream-events", type=int, default=19_000)
    a = ap.parse_args()
    batch, _ = read_binance_book()
    tiled = _tile(batch, a.symbols)
    bench_batch(tiled, [f"S{i}" for i in range(a.symbols)], a.python_events)
    bench_stream(batch, a.stream_events)


if __name__ == "__main__":
    main()
