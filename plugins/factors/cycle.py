"""F_C cycle / chips: holders' average cost (LAC) and the market regime."""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field

from jgod_core import DataKind, Factor
from jgod_core.data.panel import FactorResult, Panel
from jgod_plugins.sdk.factors import (
    MarketMappedParams,
    ResultBuilder,
    beta_zscore,
    factor_inputs,
    min_periods,
    scale_by_date,
    typical_price,
)
from jgod_plugins.sdk.numerics import (
    MOMENTS_START,
    VWAP_START,
    moments_pop,
    moments_push,
    moments_value,
    pair_row,
    rolling_mean,
    vwap_pop,
    vwap_push,
    vwap_value,
    zscore_of,
)


class CycleParams(MarketMappedParams):
    lac_window: int = Field(60, ge=5, le=250, description="Trading days of the volume-weighted average cost (LAC).")
    zscore_window: int = Field(252, ge=20, le=756, description="Trading days of the LAC-deviation z-score.")
    regime_ma_window: int = Field(60, ge=5, le=250, description="Trading days of TAIEX's moving average.")
    regime_band: float = Field(
        0.02, ge=0.0, le=0.2,
        description="TAIEX above MA×(1+band) is bull (+1), below MA×(1−band) bear (−1), else range (0).",
    )


class CycleFactor(Factor[CycleParams]):
    """F_C cycle/chips: LAC, its deviation and z-score, and the bull/bear/range regime.

    Components (adjusted prices, raw volume, valid days only; see ``_common``):

    - ``lac`` (n,t): ``Σ TP·V / Σ V`` over ``lac_window`` days, ``TP = (H + L + C) / 3``;
      first value after ``lac_window - 1`` dates;
    - ``lac_deviation`` (n,t): ``close − lac`` in TWD;
    - ``lac_deviation_z`` (n,t): rolling z-score of ``lac_deviation`` over ``zscore_window``
      days (> +2 distribution risk, < −2 trapped holders); first value after
      ``lac_window + zscore_window - 2`` dates;
    - ``regime`` (t,): +1 bull / −1 bear / 0 range from TAIEX close vs its ``regime_ma_window``
      moving average and ``regime_band``;
    - ``regime_exposure`` (n,t): ``regime × z(beta to TAIEX)`` (see ``beta_exposure``; the
      regime is used as is, not z-scored, since it is already on a −1/0/+1 scale).

    Score: mean of ``−z(lac_deviation_z)`` (contrarian: stretched above cost scores low) and
    ``regime_exposure``. Needs TAIEX for the regime; without it those two are missing.
    """

    name = "f_c"
    version = "1.0.0"
    Params = CycleParams
    requires = frozenset({DataKind.DAILY_BARS, DataKind.INDEX_DAILY})

    @classmethod
    def warmup_days(cls, params: CycleParams) -> int:
        return max(params.lac_window + params.zscore_window - 2, params.regime_ma_window - 1, params.beta_window)

    def compute(self, panel: Panel) -> FactorResult:
        p = self.params
        out = ResultBuilder(self.name, panel, p)
        inputs = factor_inputs(panel)
        lac, deviation, z = lac_components(typical_price(panel), inputs.volume, inputs.close, p)
        out.add("lac", lac, p.lac_window - 1)
        out.add("lac_deviation", deviation, p.lac_window - 1)
        out.score_input(out.add("lac_deviation_z", z, p.lac_window + p.zscore_window - 2), sign=-1.0)

        if not panel.has_series("taiex_close"):
            reason = f"needs the TAIEX series: {panel.why_missing('taiex_close')}"
            out.miss("regime", reason)
            out.miss("regime_exposure", reason)
        else:
            taiex = panel.series["taiex_close"]
            ma = rolling_mean(taiex, p.regime_ma_window, min_periods(p.regime_ma_window, p.min_valid_fraction))
            regime = np.where(taiex > ma * (1 + p.regime_band), 1.0, np.where(taiex < ma * (1 - p.regime_band), -1.0, 0.0))
            regime[np.isnan(ma) | np.isnan(taiex)] = np.nan
            regime = out.add("regime", regime, p.regime_ma_window - 1)
            exposure = out.add("regime_exposure", scale_by_date(beta_zscore(panel, p), regime),
                               max(p.beta_window, p.regime_ma_window - 1))
            out.exposure(exposure)
        return out.build(self.warmup_days(p))


def lac_components(tp: np.ndarray, volume: np.ndarray, close: np.ndarray,
                   p: CycleParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``lac``, ``lac_deviation`` and ``lac_deviation_z`` (warm-ups blanked) in one sweep per symbol."""
    outputs = np.empty(close.shape), np.empty(close.shape), np.empty(close.shape)
    _lac_kernel(tp, volume, close, p.lac_window, min_periods(p.lac_window, p.min_valid_fraction),
                p.zscore_window, min_periods(p.zscore_window, p.min_valid_fraction), *outputs)
    return outputs


@njit(cache=True, nogil=True)
def _lac_kernel(tp, volume, close, lac_window, lac_count, z_window, z_count, lac, deviation, z):
    n, t = close.shape
    lac_warmup = lac_window - 1
    z_warmup = lac_window + z_window - 2
    for a in range(0, n, 2):  # symbols a and b in lock-step (see jgod_plugins.sdk.numerics)
        b = pair_row(a, n)
        cost_a, cost_b = VWAP_START, VWAP_START
        moments_a, moments_b = MOMENTS_START, MOMENTS_START
        for j in range(t):
            cost_a = vwap_push(cost_a, tp[a, j], volume[a, j])
            cost_b = vwap_push(cost_b, tp[b, j], volume[b, j])
            if j >= lac_window:
                cost_a = vwap_pop(cost_a, tp[a, j - lac_window], volume[a, j - lac_window])
                cost_b = vwap_pop(cost_b, tp[b, j - lac_window], volume[b, j - lac_window])
            lac_a = vwap_value(cost_a, lac_count) if j >= lac_warmup else np.nan
            lac_b = vwap_value(cost_b, lac_count) if j >= lac_warmup else np.nan
            lac[a, j] = lac_a
            lac[b, j] = lac_b
            dev_a = close[a, j] - lac_a
            dev_b = close[b, j] - lac_b
            deviation[a, j] = dev_a
            deviation[b, j] = dev_b
            moments_a = moments_push(moments_a, dev_a)  # the z-score reads the blanked deviation, as stored
            moments_b = moments_push(moments_b, dev_b)
            if j >= z_window:
                moments_a = moments_pop(moments_a, deviation[a, j - z_window])
                moments_b = moments_pop(moments_b, deviation[b, j - z_window])
            mean, sd = moments_value(moments_a, z_count, 1)
            z[a, j] = zscore_of(dev_a, mean, sd) if j >= z_warmup else np.nan
            mean, sd = moments_value(moments_b, z_count, 1)
            z[b, j] = zscore_of(dev_b, mean, sd) if j >= z_warmup else np.nan
