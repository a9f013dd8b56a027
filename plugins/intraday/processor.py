"""The intraday processor: per-symbol state in preallocated numpy arrays, updated by numba.

Two entry points over the same compiled code (:mod:`jgod_plugins.intraday.kernels`):

- :meth:`IntradayProcessor.process` takes an :class:`EventBatch` and runs one fused kernel
  over it (no Python per event);
- :meth:`IntradayProcessor.on_trade` / ``on_book`` / ``on_bar`` / ``on_index`` /
  :meth:`on_event` apply one event as it arrives (the streaming API).

Nothing is allocated after construction. Component definitions are in the kernels module;
components read only events already applied (no look-ahead). Warm-up: each component is NaN
until its window holds enough data (see :class:`ProcessorParams`).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from pydantic import Field

from jgod_core.data.events import EventBatch, MarketEvent
from jgod_core.plugin.components import Params
from jgod_plugins.intraday import kernels, layout
from jgod_plugins.intraday.factors import IntradayView

_NO_BOOK = np.full(layout.BOOK_WIDTH, np.nan)


class ProcessorParams(Params):
    """Windows and thresholds of the F_Stat and F_Exec components."""

    bucket_seconds: int = Field(60, ge=1, le=3600, description="Length of a volume/return bucket (a bar).")
    volume_window: int = Field(20, ge=5, le=240, description="Completed buckets in the volume-spike mean (5–20 per SPEC).")
    return_window: int = Field(20, ge=2, le=240, description="Completed buckets in the mean |return| of micro reversal.")
    run_length: int = Field(3, ge=1, le=20, description="Small buckets that must precede a micro reversal.")
    small_mult: float = Field(0.5, gt=0, le=10, description="A bucket is small when |r| ≤ this × mean |r|.")
    large_mult: float = Field(2.0, gt=0, le=50, description="A bucket is large when |r| ≥ this × mean |r|.")
    cost_window: int = Field(30, ge=1, le=480, description="Completed buckets in the intraday cost line (RCNC).")
    flow_window: int = Field(200, ge=1, le=100_000, description="Classified trades in the aggressive-flow window.")
    spread_window: int = Field(100, ge=1, le=100_000, description="Book updates in the mean relative spread.")
    cancel_window_ms: float = Field(100.0, gt=0, le=10_000, description="Max time between two books for a cancel.")
    cancel_drop_frac: float = Field(0.5, gt=0, lt=1, description="Unexplained best-size drop that counts as a cancel.")
    cancel_obs_window: int = Field(200, ge=1, le=100_000, description="Eligible book updates in the cancel rate.")
    basis_window: int = Field(120, ge=2, le=10_000, description="Basis updates in the basis moving mean.")
    beta_window: int = Field(60, ge=3, le=10_000, description="Futures samples in the global beta regression.")
    beta_min_samples: int = Field(30, ge=3, le=10_000, description="Samples needed before a beta residual.")
    lead_samples: int = Field(5, ge=1, le=1_000, description="Futures samples k in the futures-lead move.")


class IntradayProcessor:
    """F_Stat / F_Exec state for a fixed list of symbols.

    ``futures_symbol`` / ``index_symbol`` / ``global_symbol`` name the roles of F_Exec (e.g.
    TX, TAIEX, ES); a role left ``None`` leaves its components NaN.
    """

    def __init__(
        self,
        symbols: Sequence[str],
        params: ProcessorParams | None = None,
        *,
        futures_symbol: str | None = None,
        index_symbol: str | None = None,
        global_symbol: str | None = None,
    ) -> None:
        self.symbols = tuple(symbols)
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("processor symbols must be unique")
        self.index = {s: i for i, s in enumerate(self.symbols)}
        self.params = params or ProcessorParams()
        self.roles = {"futures": futures_symbol, "index": index_symbol, "global": global_symbol}
        for role, sym in self.roles.items():
            if sym is not None and sym not in self.index:
                raise ValueError(f"{role} symbol {sym!r} is not one of the processor's symbols")
        p = self.params
        vec = np.zeros(layout.N_PARAMS)
        vec[layout.P_BUCKET_NS] = p.bucket_seconds * 1_000_000_000
        vec[layout.P_VOLUME_WINDOW] = p.volume_window
        vec[layout.P_RETURN_WINDOW] = p.return_window
        vec[layout.P_RUN_LENGTH] = p.run_length
        vec[layout.P_SMALL_MULT] = p.small_mult
        vec[layout.P_LARGE_MULT] = p.large_mult
        vec[layout.P_COST_WINDOW] = p.cost_window
        vec[layout.P_FLOW_WINDOW] = p.flow_window
        vec[layout.P_SPREAD_WINDOW] = p.spread_window
        vec[layout.P_CANCEL_WINDOW_NS] = p.cancel_window_ms * 1_000_000
        vec[layout.P_CANCEL_DROP_FRAC] = p.cancel_drop_frac
        vec[layout.P_CANCEL_OBS_WINDOW] = p.cancel_obs_window
        vec[layout.P_BASIS_WINDOW] = p.basis_window
        vec[layout.P_BETA_WINDOW] = p.beta_window
        vec[layout.P_BETA_MIN] = min(p.beta_min_samples, p.beta_window)
        vec[layout.P_LEAD_SAMPLES] = p.lead_samples + 1
        vec[layout.P_FUTURES_SYM] = self.index.get(futures_symbol, -1) if futures_symbol else -1
        vec[layout.P_INDEX_SYM] = self.index.get(index_symbol, -1) if index_symbol else -1
        vec[layout.P_GLOBAL_SYM] = self.index.get(global_symbol, -1) if global_symbol else -1
        self._params = vec
        windows = [int(vec[w]) for w in layout.RING_WINDOW_PARAM.values()]
        n = len(self.symbols)
        self.state = np.zeros((n, layout.N_STATE))
        self.ring = np.zeros((n, layout.N_RINGS, max(windows)))
        self.out = np.zeros((n, layout.N_OUT))
        self.clock = np.zeros((n, layout.N_CLOCK), dtype=np.int64)
        self.rejected = 0
        self.reset()

    def reset(self) -> None:
        """Forget every event (a new session)."""
        self.state[:] = 0.0
        self.state[:, layout.S_BUCKET_ID] = -1.0
        for col in (layout.S_BUCKET_OPEN, layout.S_BUCKET_HIGH, layout.S_BUCKET_LOW, layout.S_BUCKET_CLOSE):
            self.state[:, col] = np.nan
        self.ring[:] = 0.0
        self.clock[:] = 0
        self.out[:] = np.nan
        self.rejected = 0

    # -- batch ----------------------------------------------------------------------------------

    def process(self, batch: EventBatch) -> int:
        """Apply every event of ``batch`` in order; return how many were invalid and ignored."""
        rejected = kernels.process_batch(
            self.state, self.clock, self.ring, self.out, self._params, batch.kind, batch.symbol, batch.exchange_ns,
            batch.price, batch.size, batch.side, batch.open, batch.high, batch.low, batch.book,
        )
        self.rejected += rejected
        return rejected

    # -- streaming ------------------------------------------------------------------------------

    def on_trade(self, symbol: int, exchange_ns: int, price: float, size: float, side: int = 0) -> bool:
        """Apply one trade of symbol position ``symbol``; False when it was invalid."""
        return self._apply(layout.TRADE, symbol, exchange_ns, price, size, side, np.nan, np.nan, np.nan, _NO_BOOK)

    def on_book(self, symbol: int, exchange_ns: int, book: np.ndarray) -> bool:
        """Apply one 5-level book (20 floats: bid px, bid qty, ask px, ask qty)."""
        return self._apply(layout.BOOK, symbol, exchange_ns, np.nan, 0.0, 0, np.nan, np.nan, np.nan, book)

    def on_bar(self, symbol: int, exchange_ns: int, open_: float, high: float, low: float, close: float,
               volume: float) -> bool:
        """Apply one completed bar stamped at its end."""
        return self._apply(layout.BAR, symbol, exchange_ns, close, volume, 0, open_, high, low, _NO_BOOK)

    def on_index(self, symbol: int, exchange_ns: int, price: float) -> bool:
        """Apply one index / reference price."""
        return self._apply(layout.INDEX, symbol, exchange_ns, price, 0.0, 0, np.nan, np.nan, np.nan, _NO_BOOK)

    def on_event(self, event: MarketEvent) -> bool:
        """Apply one :class:`MarketEvent` (its symbol must be one of the processor's)."""
        book = _NO_BOOK if event.book is None else np.asarray(event.book, dtype=np.float64)
        return self._apply(event.kind, self.index[event.symbol], event.exchange_ns, event.price, event.size,
                           event.side, event.open, event.high, event.low, book)

    def _apply(self, kind, symbol, exchange_ns, price, size, side, open_, high, low, book) -> bool:
        ok = kernels.apply_event(self.state, self.clock, self.ring, self.out, self._params, kind, symbol, exchange_ns,
                                 price, size, side, open_, high, low, book)
        if not ok:
            self.rejected += 1
        return ok

    # -- reading --------------------------------------------------------------------------------

    def components(self) -> dict[str, np.ndarray]:
        """Latest value of every component per symbol (copies, NaN = not computable yet)."""
        return {name: self.out[:, i].copy() for i, name in enumerate(layout.COMPONENTS)}

    def component(self, name: str) -> np.ndarray:
        """Latest value of component ``name`` per symbol (NaN while warming up)."""
        return self.out[:, layout.COMPONENTS.index(name)]

    def last_price(self) -> np.ndarray:
        """Last trade price or bar close per symbol (0.0 before the first)."""
        return self.state[:, layout.S_LAST_PX]

    def last_exchange_ns(self) -> np.ndarray:
        """Exchange time of the last valid event per symbol (0 = none yet)."""
        return self.clock[:, layout.C_LAST_EXCH_NS]

    def best_quote(self, symbol: int) -> tuple[float, float]:
        """Best bid and ask of the last book (0.0 when none)."""
        return float(self.state[symbol, layout.S_BID1]), float(self.state[symbol, layout.S_ASK1])

    def view(self, exchange_ns: int) -> IntradayView:
        """The components at decision time ``exchange_ns`` as the intraday factors read them, with
        why the components whose role has no symbol are absent."""
        return IntradayView(self.symbols, exchange_ns, self.components(), why_missing(self.roles))


def why_missing(roles: Mapping[str, str | None]) -> dict[str, str]:
    """Why components are absent when a feed role has no symbol (``roles``: role → symbol or None)."""
    why = {}
    if not roles.get("index"):
        for c in ("basis", "basis_residual", "futures_lead"):
            why[c] = f"{c}: no feed has role 'index' (an intraday TAIEX feed); none is recorded for this date"
    if not roles.get("global"):
        why["beta_residual"] = "beta_residual: no feed has role 'global' (e.g. Polygon S&P 500 futures)"
    if not roles.get("futures"):
        for c in layout.F_EXEC_COMPONENTS:
            why.setdefault(c, f"{c}: no feed has role 'futures'")
    why.setdefault("book_imbalance", "book_imbalance: no 5-level book feed for the traded symbols")
    return why
