"""F_Stat microstructure, daily version: volume spike, VWAP deviation and micro reversal on daily bars.

The intraday components (aggressive trades, book imbalance, spread, cancel rate, RCNC) need
ticks and the order book and come with the realtime engine; here they are reported missing.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from jgod_core import DataKind, Factor
from jgod_core.numerics import rolling_mean
from jgod_core.panel import FactorResult, Panel
from jgod_plugins.factors._common import (
    FactorParams,
    ResultBuilder,
    min_periods,
    typical_price_vwap,
    valid_inputs,
)

INTRADAY_ONLY = ("aggressive_flow", "book_imbalance", "spread_change", "cancel_rate", "intraday_cost_line")


class MicrostructureParams(FactorParams):
    spike_window: int = Field(20, ge=5, le=20, description="Previous bars whose mean volume a spike is compared with.")
    vwap_window: int = Field(20, ge=2, le=120, description="Days of the typical-price VWAP.")
    bar_size_window: int = Field(20, ge=5, le=120, description="Previous bars whose mean |body| is the typical size.")
    run_length: int = Field(3, ge=1, le=10, description="Small same-direction bars needed before the reversal bar.")
    small_ratio: float = Field(0.5, gt=0.0, le=2.0, description="A bar is small when |body| <= this × typical size.")
    large_ratio: float = Field(2.0, gt=0.0, le=10.0, description="A bar is large when |body| >= this × typical size.")

    @model_validator(mode="after")
    def _large_above_small(self) -> "MicrostructureParams":
        if self.large_ratio <= self.small_ratio:
            raise ValueError("large_ratio must exceed small_ratio")
        return self


class MicrostructureFactor(Factor[MicrostructureParams]):
    """F_Stat daily: volume spike, typical-price VWAP deviation, micro reversal.

    Components (adjusted prices, raw volume, valid days only):

    - ``volume_spike`` (n,t): ``V_t / mean(V_{t-w} .. V_{t-1})``, ``w = spike_window`` (today
      excluded from its own baseline); ``signed_volume_spike`` = ``sign(r_t) × log(volume_spike)``;
    - ``vwap_deviation`` (n,t): ``close / VWAP − 1`` with ``VWAP = Σ TP·V / Σ V`` over
      ``vwap_window`` days, ``TP = (H + L + C) / 3``;
    - ``micro_reversal`` (n,t): with body ``b = close / open − 1`` and typical size ``s_t`` = mean
      ``|b|`` of the ``bar_size_window`` bars before t: if the ``run_length`` bars before t are
      all small (``0 < |b| <= small_ratio × s_t``) with the same sign and bar t is large
      (``|b_t| >= large_ratio × s_t``) with the opposite sign, the value is ``b_t / s_t``
      (signed strength of the reversal), otherwise 0; NaN when any of those bars or ``s_t`` is.

    Score: mean of ``z(signed_volume_spike)``, ``−z(vwap_deviation)`` (reversion to the VWAP)
    and ``z(micro_reversal)``.
    """

    name = "f_stat"
    version = "1.0.0"
    Params = MicrostructureParams
    requires = frozenset({DataKind.DAILY_BARS})

    @classmethod
    def warmup_days(cls, params: MicrostructureParams) -> int:
        return max(params.spike_window, params.vwap_window - 1, params.bar_size_window)

    def compute(self, panel: Panel) -> FactorResult:
        p = self.params
        out = ResultBuilder(self.name, panel, p)
        open_, high, low, close, volume = valid_inputs(panel, "open", "high", "low", "close", "volume")

        spike, signed = volume_spike(volume, close, p.spike_window, min_periods(p.spike_window, p.min_valid_fraction))
        out.add("volume_spike", spike, p.spike_window)
        out.score_input(out.add("signed_volume_spike", signed, p.spike_window))

        vwap = typical_price_vwap(high, low, close, volume, p.vwap_window,
                                  min_periods(p.vwap_window, p.min_valid_fraction))
        out.score_input(out.add("vwap_deviation", close / vwap - 1.0, p.vwap_window - 1), sign=-1.0)

        with np.errstate(invalid="ignore", divide="ignore"):
            body = close / open_ - 1.0
        reversal = micro_reversal(body, p.bar_size_window, min_periods(p.bar_size_window, p.min_valid_fraction),
                                  p.run_length, p.small_ratio, p.large_ratio)
        out.score_input(out.add("micro_reversal", reversal, p.bar_size_window))

        for name in INTRADAY_ONLY:
            out.miss(name, "intraday component: needs ticks / order book, computed by the realtime engine")
        return out.build(self.warmup_days(p))


def volume_spike(volume: np.ndarray, close: np.ndarray, window: int, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """``V_t`` over the mean volume of the ``window`` bars before t, and ``sign(r_t) × log`` of it."""
    return _volume_spike_kernel(volume, close, rolling_mean(volume, window, min_count))


@njit(cache=True, nogil=True)
def _volume_spike_kernel(volume, close, mean_volume):
    n, t = volume.shape
    spike = np.full((n, t), np.nan)
    signed = np.full((n, t), np.nan)
    for i in range(n):
        for j in range(1, t):
            baseline = mean_volume[i, j - 1]  # the window ending the bar before t
            if baseline > 0.0:
                ratio = volume[i, j] / baseline
                spike[i, j] = ratio
                change = close[i, j] / close[i, j - 1] - 1.0
                if ratio > 0.0 and change == change:
                    signed[i, j] = np.sign(change) * np.log(ratio)
    return spike, signed


def micro_reversal(body: np.ndarray, size_window: int, min_count: int, run_length: int,
                   small_ratio: float, large_ratio: float) -> np.ndarray:
    """See :class:`MicrostructureFactor`; ``body`` is ``(n, t)`` close/open − 1."""
    size = rolling_mean(np.abs(body), size_window, min_count)  # read at t-1: the bars before t
    return _micro_reversal_kernel(np.ascontiguousarray(body), size, run_length, small_ratio, large_ratio)


@njit(cache=True, nogil=True)
def _micro_reversal_kernel(body, size, run_length, small_ratio, large_ratio):
    n, t = body.shape
    out = np.full((n, t), np.nan)
    for i in range(n):
        for j in range(max(run_length, 1), t):
            s = size[i, j - 1]
            b = body[i, j]
            if not (s > 0.0) or b != b:
                continue
            known = True
            run_sign = 0.0  # +1 / -1 while every run bar is small with the same sign, else 0
            for k in range(j - run_length, j):
                prev = body[i, k]
                if prev != prev:
                    known = False
                    break
                sign = 1.0 if prev > 0.0 else -1.0
                small = prev != 0.0 and abs(prev) <= small_ratio * s
                if k == j - run_length:
                    run_sign = sign if small else 0.0
                elif not small or sign != run_sign:
                    run_sign = 0.0
            if not known:
                continue
            opposite = run_sign != 0.0 and (b > 0.0) == (run_sign < 0.0) and b != 0.0
            out[i, j] = b / s if opposite and abs(b) >= large_ratio * s else 0.0
    return out
