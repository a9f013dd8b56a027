"""A plain-Python implementation of the intraday processor (same definitions, no numba).

It exists for two reasons: as the independent implementation the compiled kernels are checked
against in tests, and as the baseline the benchmarks measure the kernels against. It keeps
per-symbol state in dicts and ``collections.deque`` windows and recomputes window statistics
from the windows themselves (no running sums), so it shares no code path with the kernels.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Sequence

from jgod_plugins.intraday import layout
from jgod_plugins.intraday.kernels import VOLUME_MIN_BUCKETS
from jgod_plugins.intraday.processor import ProcessorParams

NAN = float("nan")


class _SymbolState:
    def __init__(self, p: ProcessorParams) -> None:
        self.cum_pv = 0.0
        self.cum_v = 0.0
        self.last_px = NAN
        self.bucket: int | None = None
        self.bucket_close = NAN
        self.bucket_vol = 0.0
        self.bucket_pv = 0.0
        self.prev_close = NAN
        self.volumes: deque[float] = deque(maxlen=p.volume_window)
        self.abs_returns: deque[float] = deque(maxlen=p.return_window)
        self.returns: deque[float] = deque(maxlen=p.run_length)
        self.cost: deque[tuple[float, float]] = deque(maxlen=p.cost_window)
        self.flow: deque[tuple[float, float]] = deque(maxlen=p.flow_window)
        self.spreads: deque[float] = deque(maxlen=p.spread_window)
        self.cancels: deque[float] = deque(maxlen=p.cancel_obs_window)
        self.basis: deque[float] = deque(maxlen=p.basis_window)
        self.beta: deque[tuple[float, float]] = deque(maxlen=p.beta_window)
        self.lead: deque[tuple[float, float]] = deque(maxlen=p.lead_samples + 1)
        self.sample_global_px = NAN
        self.best: tuple[float, float, float, float] | None = None  # bid, bid qty, ask, ask qty
        self.book_ns = 0
        self.traded_bid = 0.0
        self.traded_ask = 0.0
        self.out = {name: NAN for name in layout.COMPONENTS}


class PythonProcessor:
    """Same interface subset as :class:`IntradayProcessor`: ``on_*`` and ``components()``."""

    def __init__(self, symbols: Sequence[str], params: ProcessorParams | None = None, *,
                 futures_symbol: str | None = None, index_symbol: str | None = None,
                 global_symbol: str | None = None) -> None:
        self.symbols = tuple(symbols)
        self.params = params or ProcessorParams()
        self.sym = [_SymbolState(self.params) for _ in self.symbols]
        pos = {s: i for i, s in enumerate(self.symbols)}
        self.futures = pos.get(futures_symbol, -1) if futures_symbol else -1
        self.index = pos.get(index_symbol, -1) if index_symbol else -1
        self.glob = pos.get(global_symbol, -1) if global_symbol else -1
        self.bucket_ns = self.params.bucket_seconds * 1_000_000_000

    # -- helpers --------------------------------------------------------------------------------

    def _roll(self, i: int, bucket: int) -> None:
        st = self.sym[i]
        if st.bucket == bucket:
            return
        if st.bucket is not None and not math.isnan(st.bucket_close):
            st.volumes.append(st.bucket_vol)
            st.cost.append((st.bucket_pv, st.bucket_vol))
            ret = NAN
            if st.prev_close > 0:
                ret = st.bucket_close / st.prev_close - 1.0
                st.abs_returns.append(abs(ret))
                st.returns.append(ret)
            st.prev_close = st.bucket_close
            if i == self.futures:
                self._sample(i, ret, st.bucket_close)
        st.bucket = bucket
        st.bucket_close = NAN
        st.bucket_vol = 0.0
        st.bucket_pv = 0.0

    def _sample(self, i: int, ret: float, close: float) -> None:
        st = self.sym[i]
        p = self.params
        if self.glob >= 0:
            g_now = self.sym[self.glob].last_px
            if g_now > 0 and st.sample_global_px > 0 and not math.isnan(ret):
                x_new = g_now / st.sample_global_px - 1.0
                st.beta.append((x_new, ret))
                if len(st.beta) >= min(p.beta_min_samples, p.beta_window):
                    xs = [x for x, _ in st.beta]
                    ys = [y for _, y in st.beta]
                    mx = sum(xs) / len(xs)
                    my = sum(ys) / len(ys)
                    sxx = sum((x - mx) ** 2 for x in xs)
                    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
                    if sxx > 0:
                        beta = sxy / sxx
                        st.out["beta_residual"] = ret - (my - beta * mx) - beta * x_new
            if g_now > 0:
                st.sample_global_px = g_now
        if self.index >= 0:
            s_now = self.sym[self.index].last_px
            if s_now > 0 and close > 0:
                st.lead.append((math.log(close), math.log(s_now)))
                if len(st.lead) == p.lead_samples + 1:
                    (f0, s0), (f1, s1) = st.lead[0], st.lead[-1]
                    st.out["futures_lead"] = (f1 - f0) - (s1 - s0)

    def _price_outputs(self, i: int) -> None:
        st = self.sym[i]
        p = self.params
        px = st.last_px
        if st.cum_v > 0:
            st.out["vwap_deviation"] = px / (st.cum_pv / st.cum_v) - 1.0
        if len(st.volumes) >= VOLUME_MIN_BUCKETS:
            mean = sum(st.volumes) / len(st.volumes)
            if mean > 0:
                st.out["volume_spike"] = st.bucket_vol / mean
        cost_v = sum(v for _, v in st.cost) + st.bucket_vol
        if cost_v > 0:
            st.out["cost_line_deviation"] = px / ((sum(pv for pv, _ in st.cost) + st.bucket_pv) / cost_v) - 1.0
        if len(st.returns) == p.run_length and len(st.abs_returns) >= p.run_length and st.prev_close > 0:
            scale = sum(st.abs_returns) / len(st.abs_returns)
            current = px / st.prev_close - 1.0
            signal = 0.0
            if scale > 0 and abs(current) >= p.large_mult * scale:
                run_sum = sum(st.returns)
                if all(abs(r) <= p.small_mult * scale for r in st.returns) and run_sum != 0.0 \
                        and (current > 0) != (run_sum > 0):
                    signal = 1.0 if current > 0 else -1.0
            st.out["micro_reversal"] = signal

    def _basis(self) -> None:
        if self.futures < 0 or self.index < 0:
            return
        f, x = self.sym[self.futures], self.sym[self.index]
        if f.last_px > 0 and x.last_px > 0:
            basis = f.last_px - x.last_px
            f.basis.append(basis)
            f.out["basis"] = basis
            if len(f.basis) == self.params.basis_window:
                f.out["basis_residual"] = basis - sum(f.basis) / len(f.basis)

    # -- events ---------------------------------------------------------------------------------

    def on_trade(self, i: int, exchange_ns: int, price: float, size: float, side: int = 0) -> bool:
        if not (price > 0) or not (size >= 0) or math.isinf(price):
            return False
        st = self.sym[i]
        self._roll(i, exchange_ns // self.bucket_ns)
        st.bucket_close = price
        st.bucket_vol += size
        st.bucket_pv += price * size
        st.cum_pv += price * size
        st.cum_v += size
        if side == 0 and st.best is not None:
            side = 1 if price >= st.best[2] else (-1 if price <= st.best[0] else 0)
        if st.best is not None:
            if side == 1 and price >= st.best[2]:
                st.traded_ask += size
            elif side == -1 and price <= st.best[0]:
                st.traded_bid += size
        if side != 0:
            st.flow.append((size if side == 1 else 0.0, size if side == -1 else 0.0))
            buy = sum(b for b, _ in st.flow)
            sell = sum(s for _, s in st.flow)
            if buy + sell > 0:
                st.out["aggressive_imbalance"] = (buy - sell) / (buy + sell)
        st.last_px = price
        self._price_outputs(i)
        self._after_price(i)
        return True

    def on_bar(self, i: int, exchange_ns: int, open_: float, high: float, low: float, close: float,
               volume: float) -> bool:
        if not (close > 0) or not (volume >= 0) or not (low > 0 and high >= low):
            return False
        st = self.sym[i]
        self._roll(i, (exchange_ns - 1) // self.bucket_ns)
        typical = (high + low + close) / 3.0
        st.bucket_close = close
        st.bucket_vol += volume
        st.bucket_pv += typical * volume
        st.cum_pv += typical * volume
        st.cum_v += volume
        st.last_px = close
        self._price_outputs(i)
        self._after_price(i)
        return True

    def on_index(self, i: int, exchange_ns: int, price: float) -> bool:
        if not (price > 0) or math.isinf(price):
            return False
        self.sym[i].last_px = price
        self._after_price(i)
        return True

    def _after_price(self, i: int) -> None:
        if i in (self.futures, self.index):
            self._basis()

    def on_book(self, i: int, exchange_ns: int, book) -> bool:
        n = layout.BOOK_LEVELS
        bids, bid_q, asks, ask_q = book[:n], book[n:2 * n], book[2 * n:3 * n], book[3 * n:]
        if not (bids[0] > 0 and asks[0] > bids[0]):
            return False
        st = self.sym[i]
        depth_b = sum(q for px, q in zip(bids, bid_q) if px > 0)
        depth_a = sum(q for px, q in zip(asks, ask_q) if px > 0)
        if depth_b + depth_a > 0:
            st.out["book_imbalance"] = (depth_b - depth_a) / (depth_b + depth_a)
        spread = (asks[0] - bids[0]) / (0.5 * (asks[0] + bids[0]))
        if st.spreads:
            st.out["spread_change"] = spread / (sum(st.spreads) / len(st.spreads)) - 1.0
        st.spreads.append(spread)
        if st.best is not None and exchange_ns - st.book_ns <= self.params.cancel_window_ms * 1e6:
            frac = self.params.cancel_drop_frac
            pb, pbq, pa, paq = st.best
            cancelled = (bids[0] == pb and pbq > 0 and pbq - bid_q[0] - st.traded_bid > frac * pbq) or \
                        (asks[0] == pa and paq > 0 and paq - ask_q[0] - st.traded_ask > frac * paq)
            st.cancels.append(1.0 if cancelled else 0.0)
            st.out["cancel_rate"] = sum(st.cancels) / len(st.cancels)
        st.best = (float(bids[0]), float(bid_q[0]), float(asks[0]), float(ask_q[0]))
        st.book_ns = exchange_ns
        st.traded_bid = st.traded_ask = 0.0
        return True

    def components(self) -> dict[str, list[float]]:
        return {name: [st.out[name] for st in self.sym] for name in layout.COMPONENTS}
