"""F_Stat microstructure, daily version: volume spike, VWAP deviation and micro reversal on daily bars.

The intraday components (aggressive trades, book imbalance, spread, cancel rate, RCNC) need
ticks and the order book and come with the realtime engine; here they are reported missing.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from jgod_core import DataKind, Factor
from jgod_core.data.panel import FactorResult, Panel
from jgod_plugins.sdk.factors import (
    FactorParams,
    ResultBuilder,
    factor_inputs,
    min_periods,
    typical_price,
)
from jgod_plugins.sdk.numerics import (
    SUM_START,
    VWAP_START,
    sum_pop,
    sum_push,
    sum_value,
    vwap_pop,
    vwap_push,
    vwap_value,
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
        spike, signed, deviation, reversal = daily_components(panel, p)
        out.add("volume_spike", spike, p.spike_window)
        out.score_input(out.add("signed_volume_spike", signed, p.spike_window))
        out.score_input(out.add("vwap_deviation", deviation, p.vwap_window - 1), sign=-1.0)
        out.score_input(out.add("micro_reversal", reversal, p.bar_size_window))

        for name in INTRADAY_ONLY:
            out.miss(name, "intraday component: needs ticks / order book, computed by the realtime engine")
        return out.build(self.warmup_days(p))


def daily_components(panel: Panel, p: MicrostructureParams) -> tuple[np.ndarray, ...]:
    """``volume_spike, signed_volume_spike, vwap_deviation, micro_reversal`` in one sweep per symbol.

    Reads the shared masked inputs (close, volume, returns, typical price) and the raw open
    (adjusted on the fly); warm-ups are blanked. See :class:`MicrostructureFactor`.
    """
    inputs = factor_inputs(panel)
    factor = panel.fields.get("adj_factor")
    fraction = p.min_valid_fraction
    spike, signed, deviation, reversal = outputs = tuple(np.empty(panel.shape) for _ in range(4))
    _daily_kernel(
        inputs.close, inputs.volume, inputs.returns, typical_price(panel),
        np.ascontiguousarray(panel.field("open"), dtype=np.float64),
        np.empty((0, 0)) if factor is None else np.ascontiguousarray(factor), factor is not None,
        p.spike_window, min_periods(p.spike_window, fraction), p.vwap_window, min_periods(p.vwap_window, fraction),
        p.bar_size_window, min_periods(p.bar_size_window, fraction), p.run_length, p.small_ratio, p.large_ratio,
        spike, deviation, reversal,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log(spike, out=signed)  # numpy's vectorised log: several times faster than a scalar log per cell
    _apply_return_sign(signed, spike, inputs.returns)
    return outputs


@njit(cache=True, nogil=True)
def _daily_kernel(close, volume, returns, tp, open_, factor, has_factor, spike_window, spike_count,
                  vwap_window, vwap_count, size_window, size_count, run_length, small_ratio, large_ratio,
                  spike, deviation, reversal):
    n, t = close.shape
    body = np.empty(t)  # the current symbol's close / open - 1
    first_reversal = max(run_length, 1, size_window)
    for i in range(n):
        volume_mean = SUM_START  # mean volume of the bars before t
        cost = VWAP_START
        size = SUM_START  # mean |body| of the bars before t
        unknown_run = 0  # NaN bodies among the run_length bars before t
        for j in range(t):
            c = close[i, j]
            v = volume[i, j]
            ratio = np.nan
            if j >= spike_window:  # earlier dates are warm-up
                baseline = sum_value(volume_mean, spike_count, True)
                if baseline > 0.0:
                    ratio = v / baseline
            spike[i, j] = ratio
            volume_mean = sum_push(volume_mean, v)
            if j >= spike_window:
                volume_mean = sum_pop(volume_mean, volume[i, j - spike_window])

            cost = vwap_push(cost, tp[i, j], v)
            if j >= vwap_window:
                cost = vwap_pop(cost, tp[i, j - vwap_window], volume[i, j - vwap_window])
            deviation[i, j] = c / vwap_value(cost, vwap_count) - 1.0 if j >= vwap_window - 1 else np.nan

            b = c / (open_[i, j] * factor[i, j] if has_factor else open_[i, j]) - 1.0
            body[j] = b
            if j < first_reversal:
                reversal[i, j] = np.nan
            else:
                s = sum_value(size, size_count, True)
                if not (s > 0.0) or b != b or unknown_run > 0:
                    reversal[i, j] = np.nan
                elif abs(b) < large_ratio * s:  # not a large bar: no reversal, whatever the run
                    reversal[i, j] = 0.0
                else:
                    reversal[i, j] = _reversal_value(body, j, s, run_length, small_ratio, large_ratio)
            size = sum_push(size, abs(b))
            if j >= size_window:
                size = sum_pop(size, abs(body[j - size_window]))
            unknown_run += b != b
            if j >= run_length:
                unknown_run -= body[j - run_length] != body[j - run_length]


@njit(cache=True, nogil=True)
def _apply_return_sign(log_spike, spike, returns):
    """In place: ``sign(r_t) × log(spike)``; NaN where the spike is not positive or the return unknown."""
    n, t = spike.shape
    for i in range(n):
        for j in range(t):
            change = returns[i, j]
            if spike[i, j] > 0.0 and change == change:
                log_spike[i, j] *= np.sign(change)
            else:
                log_spike[i, j] = np.nan


@njit(cache=True, nogil=True, inline="always")
def _reversal_value(body, j, s, run_length, small_ratio, large_ratio):
    """Micro reversal at ``j`` from the bodies up to ``j`` and the typical size ``s`` of the bars before."""
    b = body[j]
    if not (s > 0.0) or b != b:
        return np.nan
    run_sign = 0.0  # +1 / -1 while every run bar is small with the same sign, else 0
    for k in range(j - run_length, j):
        prev = body[k]
        if prev != prev:
            return np.nan
        sign = 1.0 if prev > 0.0 else -1.0
        small = prev != 0.0 and abs(prev) <= small_ratio * s
        if k == j - run_length:
            run_sign = sign if small else 0.0
        elif not small or sign != run_sign:
            run_sign = 0.0
    opposite = run_sign != 0.0 and (b > 0.0) == (run_sign < 0.0) and b != 0.0
    return b / s if opposite and abs(b) >= large_ratio * s else 0.0
