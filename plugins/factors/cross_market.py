"""F_Exec cross-market, daily version: futures basis and lead, global beta residual, ETF flow."""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from jgod_core import DataKind, Factor
from jgod_core.data.panel import FactorResult, Panel
from jgod_plugins.sdk.factors import (
    MarketMappedParams,
    ResultBuilder,
    beta_exposure,
    beta_zscore,
    factor_inputs,
    min_periods,
    simple_returns,
    stock_beta_to_taiex,
)
from jgod_plugins.sdk.numerics import rolling_beta, rolling_mean, rolling_zscore

NOT_IN_DAILY_DATA = {
    "options_put_call": "needs TAIFEX options data, which no built-in source loads",
    "options_gamma": "needs TAIFEX options data, which no built-in source loads",
    "sector_futures": "needs sector futures series, which are not loaded",
}


class CrossMarketParams(MarketMappedParams):
    basis_window: int = Field(120, ge=5, le=500, description="Days of the basis moving mean (basis residual).")
    global_beta_window: int = Field(60, ge=20, le=500, description="Days of the TX-on-US-futures return regression.")
    us_series: tuple[str, ...] = Field(
        ("es_close", "sp500_close"),
        min_length=1, max_length=5,
        description="US series for the global beta, first loaded one wins (already lagged to Taiwan dates).",
    )
    flow_etf: str = Field("0050", min_length=4, max_length=7, description="ETF whose volume z-score is the flow.")
    flow_window: int = Field(60, ge=5, le=500, description="Days of the ETF volume z-score.")

    @field_validator("flow_etf")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()


class CrossMarketFactor(Factor[CrossMarketParams]):
    """F_Exec daily: TX basis and lead over spot, TX residual to US futures, 0050 flow.

    Market-level components ``(t,)``:

    - ``basis`` = TX close − TAIEX close (index points; near-month TX, so it jumps at rolls);
      ``basis_residual`` = basis − its ``basis_window``-day rolling mean;
    - ``futures_lead`` = TX daily return − TAIEX daily return: what futures priced that spot did
      not (TX closes 15 minutes after the spot market);
    - ``global_beta_residual``: TX daily return minus the fit ``α + β r_US`` of a rolling OLS of
      TX returns on the US series' returns over ``global_beta_window`` days, estimated on the
      window ending at t (the US close is the one known before Taiwan's session);
    - ``etf_flow_volume_z``: rolling z-score of the ``flow_etf``'s raw volume over
      ``flow_window`` days, and ``etf_flow_signed`` = that × sign of the ETF's return.

    Per-symbol ``(n,t)``: ``market_beta`` (rolling beta of each stock to TAIEX) and one
    ``<signal>_exposure = z(beta) × clip(z(signal))`` per market signal (``beta_exposure``):
    futures premium, futures lead, local strength and ETF buying all lift high-beta stocks.
    Score: mean of the exposures.
    """

    name = "f_exec"
    version = "1.0.0"
    Params = CrossMarketParams
    requires = frozenset({DataKind.DAILY_BARS, DataKind.INDEX_DAILY, DataKind.FUTURES_DAILY, DataKind.US_MARKET_DAILY})

    @classmethod
    def warmup_days(cls, params: CrossMarketParams) -> int:
        return max(params.beta_window, params.basis_window - 1 + params.signal_z_window - 1,
                   params.global_beta_window + params.signal_z_window - 1, params.flow_window + params.signal_z_window - 1)

    def compute(self, panel: Panel) -> FactorResult:
        p = self.params
        out = ResultBuilder(self.name, panel, p)
        mp = p.min_valid_fraction
        inputs = factor_inputs(panel)
        signals: dict[str, tuple[np.ndarray, int]] = {}  # name -> (signal, warm-up)

        taiex = panel.series.get("taiex_close")
        tx = panel.series.get("tx_close")
        if taiex is None or tx is None:
            absent = "taiex_close" if taiex is None else "tx_close"
            reason = f"needs TX and TAIEX closes: {panel.why_missing(absent)}"
            for name in ("basis", "basis_residual", "futures_lead", "global_beta_residual"):
                out.miss(name, reason)
        else:
            basis = out.add("basis", tx - taiex, 0)
            residual = basis - rolling_mean(basis, p.basis_window, min_periods(p.basis_window, mp))
            signals["basis_residual"] = (out.add("basis_residual", residual, p.basis_window - 1), p.basis_window - 1)
            tx_returns = simple_returns(tx)
            signals["futures_lead"] = (out.add("futures_lead", tx_returns - simple_returns(taiex), 1), 1)
            us_name = next((s for s in p.us_series if panel.has_series(s)), None)
            if us_name is None:
                out.miss("global_beta_residual",
                         f"needs one of the US series {', '.join(p.us_series)}: {panel.why_missing(p.us_series[0])}")
            else:
                resid = regression_residual(tx_returns, simple_returns(panel.series[us_name]),
                                            p.global_beta_window, min_periods(p.global_beta_window, mp))
                signals["global_beta_residual"] = (out.add("global_beta_residual", resid, p.global_beta_window),
                                                   p.global_beta_window)

        if p.flow_etf in panel.symbols:
            row = panel.symbols.index(p.flow_etf)
            etf_volume = inputs.volume[row]
            flow_z = out.add("etf_flow_volume_z",
                             rolling_zscore(etf_volume, p.flow_window, min_periods(p.flow_window, mp)),
                             p.flow_window - 1)
            signed = out.add("etf_flow_signed", flow_z * np.sign(inputs.returns[row]), p.flow_window)
            signals["etf_flow_signed"] = (signed, p.flow_window)
        else:
            reason = f"the flow ETF {p.flow_etf} is not in the universe"
            out.miss("etf_flow_volume_z", reason)
            out.miss("etf_flow_signed", reason)

        for name, reason in NOT_IN_DAILY_DATA.items():
            out.miss(name, reason)

        if taiex is None:
            for name in ("market_beta", *(f"{s}_exposure" for s in signals)):
                out.miss(name, f"needs the TAIEX series for betas: {panel.why_missing('taiex_close')}")
            return out.build(self.warmup_days(p))
        out.add("market_beta", stock_beta_to_taiex(panel, p).copy(), p.beta_window)
        beta_z = beta_zscore(panel, p)
        for name, (signal, warmup) in signals.items():
            exposure = beta_exposure(beta_z, signal, p)
            out.exposure(out.add(f"{name}_exposure", exposure, max(p.beta_window, warmup + p.signal_z_window - 1)))
        return out.build(self.warmup_days(p))


def regression_residual(y: np.ndarray, x: np.ndarray, window: int, min_count: int) -> np.ndarray:
    """``y_t − (ȳ + β (x_t − x̄))`` of a rolling OLS of ``y`` on ``x`` over pairwise-valid dates."""
    both = ~np.isnan(y) & ~np.isnan(x)
    ym, xm = np.where(both, y, np.nan), np.where(both, x, np.nan)
    beta = rolling_beta(ym, xm, window, min_count)
    y_mean = rolling_mean(ym, window, min_count)
    x_mean = rolling_mean(xm, window, min_count)
    return y - (y_mean + beta * (x - x_mean))
