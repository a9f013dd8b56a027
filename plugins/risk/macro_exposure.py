"""Macro systemic exposure: a score from futures basis, global beta, and VIX; exposure = clip(1 − score, 0, 1).

Terms (each from market series ending at the decision date; US series are already shifted to
the Taiwan date on which they were known):

- basis residual = (TX − TAIEX) − mean of that basis over ``basis_window`` updates;
  below ``basis_residual_points`` (−50) adds ``basis_penalty`` (0.4);
- global beta residual = last TX return − β·last S&P 500 futures return, β by OLS over
  ``beta_window`` (60) paired daily returns; above ``beta_residual`` (0.05) adds ``beta_penalty`` (0.3);
- VIX slope = mean of the last ``vix_slope_window`` (5) daily VIX changes; above ``vix_slope`` (0.5)
  adds ``vix_slope_penalty`` (0.3);
- VIX z = (VIX − mean) / std over ``vix_z_window`` (252) days, times ``vix_risk_beta`` (0.1–0.5).

A term whose series is missing contributes nothing and is named in the verdict with the reason.
Exposure-increasing orders are scaled by the exposure (whole lots); reducing orders pass.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from jgod_core import DataKind, Params, RiskRule
from jgod_core.execution.orders import Order, Verdict
from jgod_core.risk.engine import PARENT
from jgod_plugins.risk._common import floor_lots


class MacroExposureParams(Params):
    basis_residual_points: float = Field(-50.0, ge=-2000, le=0, description="Basis residual (index points) below "
                                                                            "which the basis term fires.")
    basis_penalty: float = Field(0.4, ge=0, le=1, description="Score added by the basis term.")
    basis_window: int = Field(120, ge=5, le=1000, description="Updates in the basis moving mean.")
    beta_residual: float = Field(0.05, gt=0, le=1, description="Global beta residual above which the term fires.")
    beta_penalty: float = Field(0.3, ge=0, le=1, description="Score added by the beta term.")
    beta_window: int = Field(60, ge=10, le=1000, description="Paired returns in the beta regression.")
    vix_slope: float = Field(0.5, gt=0, le=20, description="VIX slope above which the term fires.")
    vix_slope_penalty: float = Field(0.3, ge=0, le=1, description="Score added by the VIX-slope term.")
    vix_slope_window: int = Field(5, ge=2, le=60, description="Daily VIX changes averaged for the slope.")
    vix_risk_beta: float = Field(0.3, ge=0.1, le=0.5, description="Weight of the VIX z-score in the score.")
    vix_z_window: int = Field(252, ge=20, le=2000, description="Days in the VIX z-score.")
    futures_series: str = Field("es_close", description="US index futures series for the global beta.")


def _last_valid(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


def macro_terms(market, p: MacroExposureParams) -> tuple[dict[str, float], dict[str, str]]:
    """The score terms (name → value) and the missing inputs (name → reason) as of the view's date."""
    terms: dict[str, float] = {}
    missing: dict[str, str] = {}
    tx = market.series("tx_close", p.basis_window + p.beta_window + 1)
    taiex = market.series("taiex_close", p.basis_window)
    if tx is None or taiex is None:
        missing["basis_residual"] = market.why_missing("tx_close" if tx is None else "taiex_close")
    else:
        basis = _last_valid(tx[-p.basis_window:] - taiex)
        if basis.size >= p.basis_window // 2 and not np.isnan(tx[-1] - taiex[-1]):
            terms["basis_residual"] = float((tx[-1] - taiex[-1]) - basis.mean())
        else:
            missing["basis_residual"] = f"fewer than {p.basis_window // 2} basis values in the window"
    fut = market.series(p.futures_series, p.beta_window + 1)
    if tx is None or fut is None:
        missing["global_beta_residual"] = market.why_missing("tx_close" if tx is None else p.futures_series)
    else:
        pair = np.column_stack([tx[-(p.beta_window + 1):], fut])
        r = np.diff(np.log(pair), axis=0)
        ok = ~np.isnan(r).any(axis=1)
        if ok.sum() >= p.beta_window // 2 and ok[-1]:
            x, y = r[ok, 1], r[ok, 0]
            beta = float(np.cov(x, y, ddof=1)[0, 1] / np.var(x, ddof=1))
            terms["global_beta"] = beta
            terms["global_beta_residual"] = float(r[-1, 0] - beta * r[-1, 1])
        else:
            missing["global_beta_residual"] = "not enough paired TX/US-futures returns in the window"
    vix = market.series("vix_close", p.vix_z_window)
    if vix is None:
        missing["vix_slope"] = missing["vix_z"] = market.why_missing("vix_close")
    else:
        slope_values = _last_valid(vix[-(p.vix_slope_window + 1):])
        if slope_values.size == p.vix_slope_window + 1:
            terms["vix_slope"] = float(np.mean(np.diff(slope_values)))
        else:
            missing["vix_slope"] = "VIX values missing in the slope window"
        history = _last_valid(vix)
        if history.size >= 20 and not np.isnan(vix[-1]) and history.std(ddof=1) > 0:
            terms["vix_z"] = float((vix[-1] - history.mean()) / history.std(ddof=1))
        else:
            missing["vix_z"] = "fewer than 20 VIX values in the z-score window"
    return terms, missing


def macro_score(terms: dict[str, float], p: MacroExposureParams) -> float:
    """SPEC §4 score: fired thresholds plus VIX z × vix_risk_beta."""
    score = 0.0
    if terms.get("basis_residual", 0.0) < p.basis_residual_points:
        score += p.basis_penalty
    if terms.get("global_beta_residual", 0.0) > p.beta_residual:
        score += p.beta_penalty
    if terms.get("vix_slope", 0.0) > p.vix_slope:
        score += p.vix_slope_penalty
    score += terms.get("vix_z", 0.0) * p.vix_risk_beta
    return score


class MacroExposureRule(RiskRule):
    """Scales exposure-increasing orders by clip(1 − macro score, 0, 1)."""

    name = "macro_exposure"
    version = "1.0.0"
    Params = MacroExposureParams
    requires = frozenset({DataKind.INDEX_DAILY, DataKind.FUTURES_DAILY, DataKind.US_MARKET_DAILY})
    stages = (PARENT,)

    @classmethod
    def warmup_days(cls, params: MacroExposureParams) -> int:
        return max(params.basis_window + params.beta_window, params.vix_z_window)

    def exposure(self, context) -> tuple[float, float, dict[str, float], dict[str, str]]:
        terms, missing = macro_terms(context.market, self.params)
        score = macro_score(terms, self.params)
        return float(np.clip(1.0 - score, 0.0, 1.0)), score, terms, missing

    def check(self, order: Order, context) -> Verdict:
        if not context.increases_exposure(order) or context.market is None:
            return Verdict.approve(self.name, order)
        exposure, score, terms, missing = self.exposure(context)
        quantity = floor_lots(order.quantity * exposure * context.rl_multiplier)
        numbers = {"exposure": exposure, "score": score, **terms, **{f"missing_{k}": v for k, v in missing.items()}}
        absent = "; missing " + ", ".join(f"{k} ({v})" for k, v in missing.items()) if missing else ""
        detail = ", ".join(f"{k} {v:+.3f}" for k, v in terms.items())
        if quantity >= order.quantity:
            return Verdict.approve(self.name, order,
                                   f"macro_exposure: score {score:.3f} → exposure {exposure:.2f} ({detail}){absent}",
                                   **numbers)
        return Verdict.reduce(self.name, quantity,
                              f"macro_exposure: score {score:.3f} → exposure {exposure:.2f} ({detail}){absent}; "
                              f"quantity {order.quantity} → {quantity}", **numbers)
