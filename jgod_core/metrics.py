"""Performance metrics of a backtest and information coefficients of factor scores.

Conventions (stated once, used everywhere):

- daily returns ``r_k = E_k / E_(k-1) − 1`` with ``E_(-1)`` the initial cash; 252 trading days
  a year; risk-free rate 0;
- CAGR ``(E_last / E_(-1))^(252 / N) − 1`` over ``N`` daily returns;
- annualised volatility ``std(r, ddof=1) · √252``; Sharpe ``mean(r) / std(r) · √252``; Sortino
  ``mean(r) · 252 / (√mean(min(r, 0)²) · √252)``;
- max drawdown: the largest fall from a running peak of equity, a negative fraction;
- turnover: one-way traded value a year as a multiple of mean equity,
  ``Σ|notional| / 2 / mean(E) · 252 / N``;
- hit rate: share of days with a positive return among days that started with a position;
- costs paid: commission + tax, NT$;
- IC on date ``t``: Pearson correlation across symbols of a factor score at ``t`` with the
  forward return from the fill at ``t + lag`` to the fill at ``t + lag + horizon`` (adjusted
  prices); rank IC: the same on ranks (Spearman). Dates with fewer than ``min_names`` valid
  pairs, or no dispersion, have no IC. t-stat ``mean / std(ddof=1) · √N_dates``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jgod_core.numerics import cross_sectional_rank
from jgod_core.panel import Panel

TRADING_DAYS_PER_YEAR = 252


def daily_returns(equity: pd.Series, initial_cash: float) -> pd.Series:
    """Daily returns of an equity curve, the first one against the initial cash."""
    prev = equity.shift(1)
    prev.iloc[:1] = initial_cash
    return equity / prev - 1.0


def max_drawdown(equity: pd.Series, initial_cash: float | None = None) -> float:
    """Largest peak-to-trough fall (≤ 0) of the equity curve, the initial cash counting as a peak."""
    values = equity.to_numpy(dtype=float)
    if initial_cash is not None:
        values = np.concatenate([[initial_cash], values])
    if values.size == 0:
        return float("nan")
    peak = np.maximum.accumulate(values)
    return float(np.min(values / peak - 1.0))


def drawdown_series(equity: pd.Series) -> pd.Series:
    """Equity over its running peak, minus 1."""
    return equity / equity.cummax() - 1.0


def performance(equity: pd.DataFrame, trades: pd.DataFrame, initial_cash: float) -> dict[str, float]:
    """Portfolio metrics from an ``equity`` frame (``date, equity, gross``) and its ``trades``."""
    curve = equity.set_index("date")["equity"].astype(float)
    n = len(curve)
    if n == 0:
        return {"days": 0}
    r = daily_returns(curve, initial_cash)
    years = n / TRADING_DAYS_PER_YEAR
    std = r.std(ddof=1) if n > 1 else float("nan")
    downside = np.sqrt(np.mean(np.minimum(r.to_numpy(), 0.0) ** 2))
    notional = (trades["shares"] * trades["price"]).abs().sum() if len(trades) else 0.0
    was_invested = equity["gross"].shift(1).fillna(0.0).to_numpy() > 0
    invested_r = r.to_numpy()[was_invested]
    costs = float(trades["commission"].sum() + trades["tax"].sum()) if len(trades) else 0.0
    return {
        "days": n,
        "start_equity": float(initial_cash),
        "end_equity": float(curve.iloc[-1]),
        "total_return": float(curve.iloc[-1] / initial_cash - 1.0),
        "cagr": float((curve.iloc[-1] / initial_cash) ** (1.0 / years) - 1.0),
        "annual_volatility": float(std * np.sqrt(TRADING_DAYS_PER_YEAR)),
        "sharpe": float(r.mean() / std * np.sqrt(TRADING_DAYS_PER_YEAR)) if std > 0 else float("nan"),
        "sortino": float(r.mean() * TRADING_DAYS_PER_YEAR / (downside * np.sqrt(TRADING_DAYS_PER_YEAR)))
        if downside > 0 else float("nan"),
        "max_drawdown": max_drawdown(curve, initial_cash),
        "turnover": float(notional / 2.0 / curve.mean() / years),
        "hit_rate": float(np.mean(invested_r > 0)) if invested_r.size else float("nan"),
        "costs_paid": costs,
        "commission_paid": float(trades["commission"].sum()) if len(trades) else 0.0,
        "tax_paid": float(trades["tax"].sum()) if len(trades) else 0.0,
        "trades": int(len(trades)),
        "mean_gross_exposure": float(equity["gross"].mean()),
    }


def forward_returns(panel: Panel, lag: int = 1, horizon: int = 1, price: str = "open") -> np.ndarray:
    """``(n, t)`` return from the fill at ``t + lag`` to the fill at ``t + lag + horizon`` (adjusted).

    This is the return a decision at the close of ``t`` could earn; it is NaN where either
    price is absent (halt, not listed) or beyond the panel. It reads the future by design:
    use it only to evaluate, never as an input to a decision.
    """
    px = panel.adjusted(price)
    n, t = px.shape
    out = np.full((n, t), np.nan)
    a, b = lag, lag + horizon
    if b < t:
        with np.errstate(all="ignore"):
            out[:, : t - b] = px[:, b:] / px[:, a: t - b + a] - 1.0
    return out


def _column_corr(x: np.ndarray, y: np.ndarray, min_names: int) -> np.ndarray:
    valid = np.isfinite(x) & np.isfinite(y)
    count = valid.sum(axis=0)
    xv = np.where(valid, x, 0.0)
    yv = np.where(valid, y, 0.0)
    with np.errstate(all="ignore"):
        mx = xv.sum(axis=0) / count
        my = yv.sum(axis=0) / count
        dx = np.where(valid, x - mx, 0.0)
        dy = np.where(valid, y - my, 0.0)
        sxy = (dx * dy).sum(axis=0)
        sxx = (dx * dx).sum(axis=0)
        syy = (dy * dy).sum(axis=0)
        corr = sxy / np.sqrt(sxx * syy)
    ok = (count >= min_names) & (sxx > 0) & (syy > 0)
    return np.where(ok, corr, np.nan)


def information_coefficients(
    scores: dict[str, np.ndarray], forward: np.ndarray, dates: np.ndarray, min_names: int = 5
) -> pd.DataFrame:
    """Per date and factor: ``date, factor, ic, rank_ic, names`` (pairwise-valid symbols only)."""
    d = pd.DatetimeIndex(np.asarray(dates).astype("datetime64[ns]"))
    frames = []
    for name, score in scores.items():
        score = np.asarray(score, dtype=float)
        valid = np.isfinite(score) & np.isfinite(forward)
        x = np.where(valid, score, np.nan)
        y = np.where(valid, forward, np.nan)
        ic = _column_corr(x, y, min_names)
        rank_ic = _column_corr(cross_sectional_rank(x), cross_sectional_rank(y), min_names)
        frames.append(pd.DataFrame({"date": d, "factor": name, "ic": ic, "rank_ic": rank_ic,
                                    "names": valid.sum(axis=0)}))
    if not frames:
        return pd.DataFrame(columns=["date", "factor", "ic", "rank_ic", "names"])
    return pd.concat(frames, ignore_index=True)


def _t_stat(values: pd.Series) -> float:
    v = values.dropna()
    if len(v) < 2 or v.std(ddof=1) == 0:
        return float("nan")
    return float(v.mean() / v.std(ddof=1) * np.sqrt(len(v)))


def ic_summary(ic: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per factor: mean and t-stat of IC and rank IC, and the number of dates with a value."""
    out = {}
    for name, group in ic.groupby("factor", sort=False):
        out[str(name)] = {
            "ic_mean": float(group["ic"].mean()) if group["ic"].notna().any() else float("nan"),
            "ic_t_stat": _t_stat(group["ic"]),
            "rank_ic_mean": float(group["rank_ic"].mean()) if group["rank_ic"].notna().any() else float("nan"),
            "rank_ic_t_stat": _t_stat(group["rank_ic"]),
            "dates": int(group["ic"].notna().sum()),
        }
    return out
