"""Almgren–Chriss optimal execution trajectory (Almgren & Chriss 2000, "Optimal execution of portfolio
transactions", J. Risk 3(2)).

For ``X`` shares over horizon ``T`` in ``N`` intervals of length ``τ = T/N``, with volatility σ
(price units per √time), temporary impact η, permanent impact γ and risk aversion λ, the
mean-variance optimal holdings are

    x_j = sinh(κ (T − t_j)) / sinh(κ T) · X,        t_j = j τ,

where η̃ = η − γτ/2, κ̃² = λσ²/η̃ and κ solves 2 (cosh(κτ) − 1) / τ² = κ̃²; the trade list is
n_j = x_{j−1} − x_j. As λ → 0 the trajectory becomes linear (TWAP). σ defaults to the daily
close-to-close volatility of the last ``vol_days`` bars × the reference price (NT$/√day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from jgod_core import DataKind, MissingDataError, Params, Router
from jgod_core.execution.orders import ChildOrder
from jgod_plugins.execution._slices import (
    SESSION_MINUTES,
    cap_slices,
    effective_max_lots,
    make_children,
    split_by_weights,
)


class AlmgrenChrissParams(Params):
    risk_aversion: float = Field(1e-6, ge=0, le=1, description="λ, per NT$ of variance.")
    temporary_impact: float = Field(2.5e-6, gt=0, le=1, description="η, NT$ per share per (share/day).")
    permanent_impact: float = Field(2.5e-7, ge=0, le=1, description="γ, NT$ per share per share.")
    volatility: float | None = Field(None, gt=0, le=1e5, description="σ, NT$ per share per √day; default from bars.")
    horizon_days: float = Field(1.0, gt=0, le=20, description="T, trading days.")
    intervals: int = Field(9, ge=1, le=500, description="N, trading intervals.")
    vol_days: int = Field(20, ge=5, le=260, description="Daily bars for the default σ.")
    max_slice_lots: int = Field(50, ge=1, le=499, description="Largest child order, lots.")


@dataclass(frozen=True)
class Trajectory:
    holdings: np.ndarray  # x_0 … x_N
    trades: np.ndarray  # n_1 … n_N
    kappa: float
    kappa_tilde_sq: float
    eta_tilde: float


def almgren_chriss_trajectory(shares: float, horizon: float, intervals: int, sigma: float, eta: float,
                              gamma: float, risk_aversion: float) -> Trajectory:
    """Closed-form optimal holdings and trades (see the module docstring)."""
    tau = horizon / intervals
    eta_tilde = eta - 0.5 * gamma * tau
    if eta_tilde <= 0:
        raise ValueError("η − γτ/2 must be positive (temporary impact too small for this interval)")
    kappa_tilde_sq = risk_aversion * sigma**2 / eta_tilde
    t = np.arange(intervals + 1) * tau
    if kappa_tilde_sq == 0:
        holdings = shares * (1 - t / horizon)
        kappa = 0.0
    else:
        kappa = float(np.arccosh(1 + 0.5 * kappa_tilde_sq * tau**2) / tau)
        holdings = shares * np.sinh(kappa * (horizon - t)) / np.sinh(kappa * horizon)
    return Trajectory(holdings, holdings[:-1] - holdings[1:], kappa, kappa_tilde_sq, eta_tilde)


class AlmgrenChrissRouter(Router):
    """Front-loads the parent along the Almgren–Chriss trajectory (whole lots, largest-remainder rounding)."""

    name = "almgren_chriss"
    version = "1.0.0"
    Params = AlmgrenChrissParams
    requires = frozenset({DataKind.DAILY_BARS})

    def sigma(self, symbol: str, price: float, market) -> float:
        if self.params.volatility is not None:
            return self.params.volatility
        bars = market.bars(symbol, self.params.vol_days + 1) if market is not None else None
        closes = None if bars is None else bars["close"][~np.isnan(bars["close"])]
        if closes is None or closes.size < 3:
            raise MissingDataError(f"almgren_chriss: no daily closes for {symbol} to estimate σ")
        return float(np.std(np.diff(np.log(closes)), ddof=1) * price)

    def schedule(self, approved, market=None) -> list[ChildOrder]:
        p = self.params
        parent = approved.order
        sigma = self.sigma(parent.symbol, float(parent.reference_price), market)
        path = almgren_chriss_trajectory(parent.quantity, p.horizon_days, p.intervals, sigma, p.temporary_impact,
                                         p.permanent_impact, p.risk_aversion)
        lots = split_by_weights(parent.quantity // 1000, path.trades)
        span = SESSION_MINUTES * min(p.horizon_days, 1.0)
        edges = np.linspace(0.0, span, p.intervals + 1)
        max_lots = effective_max_lots(p.max_slice_lots, approved)
        pieces, windows = [], []
        for k, n in enumerate(lots):
            parts = cap_slices([n], max_lots) if n else []
            pieces.extend(parts)
            windows.extend([(float(edges[k]), float(edges[k + 1]))] * len(parts))
        return make_children(parent, pieces, windows)
