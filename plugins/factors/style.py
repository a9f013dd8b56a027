"""F_S style / sentiment: where money and mood are."""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field

from jgod_core import DataKind, Factor
from jgod_core.data.panel import FactorResult, Panel
from jgod_plugins.sdk.factors import (
    MarketMappedParams,
    ResultBuilder,
    beta_exposure,
    beta_zscore,
    factor_inputs,
    group_codes,
    min_periods,
    per_symbol,
    simple_returns,
    valid_inputs,
    why_absent,
)
from jgod_plugins.sdk.numerics import group_mean, rolling_mean, rolling_zscore

MARGIN_FIELD = "margin_balance"


class StyleParams(MarketMappedParams):
    vix_zscore_window: int = Field(252, ge=20, le=756, description="Trading days of the VIX z-score.")
    vix_slope_window: int = Field(5, ge=1, le=60, description="Days averaged in the VIX slope (mean daily change).")
    margin_change_window: int = Field(
        60, ge=10, le=252, description="Trading days of each stock's margin-balance-change z-score."
    )
    margin_abnormal_z: float = Field(
        2.0, ge=0.5, le=10.0, description="A stock's margin-balance change is abnormal above this z-score."
    )
    margin_breadth_window: int = Field(252, ge=20, le=756, description="Trading days of the margin-breadth z-score.")


class StyleFactor(Factor[StyleParams]):
    """F_S style/sentiment: sector strength, volume entropy, VIX level and slope, margin breadth.

    Components:

    - ``sector_strength`` (n,t): equal-weight mean daily return (adjusted) of the stock's TWSE
      industry group (attribute ``industry``) on the date, over members valid that day;
      stocks without an industry are NaN;
    - ``volume_entropy`` (t,): ``−Σ s_i log s_i / log N`` with ``s_i`` each valid stock's share
      of the day's total volume and ``N`` the number of stocks with positive volume (low =
      concentrated money, high = dispersed); NaN with fewer than two such stocks;
    - ``vix_zscore`` (t,): VIX rolling z-score over ``vix_zscore_window`` days; ``vix_slope``
      (t,): mean of the last ``vix_slope_window`` daily VIX changes (VIX is already lagged to
      the Taiwan date it was known on);
    - ``vix_exposure`` (n,t): ``−z(beta) × clip(z(VIX))``: high fear lowers high-beta stocks;
    - ``margin_breadth`` (t,): share of stocks whose daily margin-balance change has a rolling
      z-score above ``margin_abnormal_z``, and ``margin_breadth_z`` (t,) its rolling z-score;
      only with a ``margin_balance`` field, else missing;
    - ``news_sentiment``: missing (no news source is built in).

    Score: mean of ``z(sector_strength)`` and ``vix_exposure``. ``volume_entropy`` and the
    margin breadth are market-wide states reported for the combiner/report, not in the score.
    """

    name = "f_s"
    version = "1.0.0"
    Params = StyleParams
    requires = frozenset({DataKind.DAILY_BARS, DataKind.SECURITY_MASTER, DataKind.US_MARKET_DAILY})

    @classmethod
    def warmup_days(cls, params: StyleParams) -> int:
        return max(params.vix_zscore_window - 1, params.beta_window, params.signal_z_window - 1)

    def compute(self, panel: Panel) -> FactorResult:
        p = self.params
        out = ResultBuilder(self.name, panel, p)
        inputs = factor_inputs(panel)

        if "industry" in panel.attributes:
            codes, groups = group_codes(panel.attributes["industry"])
            by_group = group_mean(inputs.returns, codes, len(groups))
            strength = per_symbol(by_group, codes)
            out.score_input(out.add("sector_strength", strength, 1))
        else:
            out.miss("sector_strength", "needs the security master's industry attribute, which is not loaded")

        out.add("volume_entropy", volume_entropy(inputs.volume), 0)

        if panel.has_series("vix_close"):
            vix = panel.series["vix_close"]
            out.add(
                "vix_zscore",
                rolling_zscore(vix, p.vix_zscore_window, min_periods(p.vix_zscore_window, p.min_valid_fraction)),
                p.vix_zscore_window - 1,
            )
            change = np.concatenate([[np.nan], np.diff(vix)])
            slope = rolling_mean(change, p.vix_slope_window, min_periods(p.vix_slope_window, p.min_valid_fraction))
            out.add("vix_slope", slope, p.vix_slope_window)
            if panel.has_series("taiex_close"):
                exposure = beta_exposure(beta_zscore(panel, p), vix, p, sign=-1.0)
                out.exposure(out.add("vix_exposure", exposure, max(p.beta_window, p.signal_z_window - 1)))
            else:
                out.miss("vix_exposure", f"needs the TAIEX series for betas: {panel.why_missing('taiex_close')}")
        else:
            reason = f"needs the VIX series: {panel.why_missing('vix_close')}"
            for name in ("vix_zscore", "vix_slope", "vix_exposure"):
                out.miss(name, reason)

        if MARGIN_FIELD in panel.fields:
            breadth = margin_breadth(valid_inputs(panel, MARGIN_FIELD)[0], p)
            out.add("margin_breadth", breadth, p.margin_change_window)
            window = p.margin_breadth_window
            breadth_z = rolling_zscore(breadth, window, min_periods(window, p.min_valid_fraction))
            out.add("margin_breadth_z", breadth_z, p.margin_change_window + window - 1)
        else:
            reason = f"needs margin-financing balances: {why_absent(panel, MARGIN_FIELD, 'margin')}"
            out.miss("margin_breadth", reason)
            out.miss("margin_breadth_z", reason)
        out.miss("news_sentiment", "no news source is configured (none is built in)")
        return out.build(self.warmup_days(p))


def volume_entropy(volume: np.ndarray) -> np.ndarray:
    """``(t,)`` Shannon entropy of the stocks' volume shares, normalised by ``log N``.

    Uses ``−Σ s log s = log T − Σ v log v / T`` (``T`` the day's total volume) so one pass over
    the symbol-major panel suffices; the logs come from numpy's vectorised ``log`` a block of
    rows at a time (the block stays in cache for the accumulating kernel).
    """
    volume = np.ascontiguousarray(volume, dtype=np.float64)
    n, t = volume.shape
    total, v_log_v, count = np.zeros(t), np.zeros(t), np.zeros(t)
    logs = np.empty((min(n, _ENTROPY_ROWS), t))
    for start in range(0, n, _ENTROPY_ROWS):
        block = volume[start:start + _ENTROPY_ROWS]
        with np.errstate(divide="ignore", invalid="ignore"):
            np.log(block, out=logs[: len(block)])
        _entropy_sums_kernel(block, logs[: len(block)], total, v_log_v, count)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count >= 2.0, (np.log(total) - v_log_v / total) / np.log(count), np.nan)


_ENTROPY_ROWS = 64  # rows per block: 64 × 2600 logs ≈ 1.3 MB


@njit(cache=True, nogil=True)
def _entropy_sums_kernel(volume, logs, total, v_log_v, count):
    n, t = volume.shape
    for i in range(n):
        for j in range(t):
            v = volume[i, j]
            if v > 0.0:
                total[j] += v
                v_log_v[j] += v * logs[i, j]
                count[j] += 1.0


def margin_breadth(balance: np.ndarray, p: StyleParams) -> np.ndarray:
    """``(t,)`` share of stocks with an abnormal margin-balance change (rolling z > threshold)."""
    change = simple_returns(balance)
    window = p.margin_change_window
    z = rolling_zscore(change, window, min_periods(window, p.min_valid_fraction))
    known = ~np.isnan(z)
    count = known.sum(axis=0)
    abnormal = (np.where(known, z, -np.inf) > p.margin_abnormal_z).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, abnormal / np.maximum(count, 1), np.nan)
