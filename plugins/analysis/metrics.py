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

Alphalens-style factor analytics (``factor_analytics``), on the run's decision dates:

- HAC t-stat of a daily series (IC, rank IC, quantile spread): Newey–West, Bartlett kernel,
  ``mean / √(S / T)`` with ``S = γ0 + 2 Σ_{l=1..L} (1 − l/(L+1)) γl``, ``γl`` the lag-``l``
  autocovariance with divisor ``T`` (no small-sample correction): statsmodels' OLS of the series
  on a constant with ``cov_type="HAC", cov_kwds={"maxlags": L}``. Dates without a value are
  dropped and the rest treated as consecutive. Lags ``L = max(⌊4 (T/100)^(2/9)⌋, h − 1)``
  (Newey & West 1994), ``h`` the forward horizon in days: an ``h``-day forward return overlaps
  its neighbours for ``h − 1`` days, so their ICs are autocorrelated at least that far;
- IC decay: rank IC (mean, plain and HAC t) against forward returns from the fill at ``t + lag``
  (the open of ``t + 1`` in the shipped pipeline) to the fill at ``t + lag + h``, ``h`` in
  ``DECAY_HORIZONS`` — the same no-look-ahead clock as the backtest: a score known at the close
  of ``t`` is judged only on prices from ``t + lag`` on;
- quantile analysis of the combined score: on each date the symbols with both a score and an
  ``h = QUANTILE_HORIZON``-day forward return are cut into ``QUANTILES`` buckets exactly like
  ``pandas.qcut(score, QUANTILES, labels=False)`` (linear-interpolated quantile edges, right
  edges inclusive; 1 = lowest score); per date the equal-weighted mean forward return of each
  bucket and the top-minus-bottom spread; dates with fewer than ``min_names`` such symbols are
  skipped. Mean, plain and HAC t of the spread;
- rank autocorrelation: per date, the Spearman correlation of a factor's score at ``t − 1`` and
  ``t`` over symbols with both; its mean is a proxy for implied turnover (1 = the ranking never
  changes, 0 = a fresh ranking every day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from jgod_core.data.panel import Panel
from jgod_plugins.sdk.numerics import cross_sectional_rank

TRADING_DAYS_PER_YEAR = 252
DECAY_HORIZONS = (1, 5, 20)
QUANTILE_HORIZON = 5
QUANTILES = 5


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


def _pairwise(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x`` and ``y`` with NaN wherever either is absent, and the mask of pairs present."""
    valid = np.isfinite(x) & np.isfinite(y)
    return np.where(valid, x, np.nan), np.where(valid, y, np.nan), valid


def information_coefficients(
    scores: dict[str, np.ndarray], forward: np.ndarray, dates: np.ndarray, min_names: int = 5
) -> pd.DataFrame:
    """Per date and factor: ``date, factor, ic, rank_ic, names`` (pairwise-valid symbols only)."""
    d = pd.DatetimeIndex(np.asarray(dates).astype("datetime64[ns]"))
    frames = []
    for name, score in scores.items():
        x, y, valid = _pairwise(np.asarray(score, dtype=float), forward)
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


def newey_west_lags(n_obs: int, horizon: int = 1) -> int:
    """HAC lags for ``n_obs`` daily values of an ``horizon``-day statistic:
    ``max(⌊4 (n_obs/100)^(2/9)⌋, horizon − 1)``."""
    rule = int(np.floor(4.0 * (n_obs / 100.0) ** (2.0 / 9.0))) if n_obs > 0 else 0
    return max(rule, horizon - 1)


def hac_t_stat(values: Any, lags: int | None = None, horizon: int = 1) -> float:
    """Newey–West (Bartlett) t-stat of the mean of ``values`` (NaN dropped), ``lags`` by default
    from :func:`newey_west_lags`; equals statsmodels' ``OLS(v, 1).fit(cov_type="HAC",
    cov_kwds={"maxlags": lags}).tvalues[0]``."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    if n < 2:
        return float("nan")
    lags = min(newey_west_lags(n, horizon) if lags is None else int(lags), n - 1)
    e = v - v.mean()
    autocov = np.array([e[k:] @ e[: n - k] for k in range(lags + 1)]) / n  # one dot per lag
    bartlett = 1.0 - np.arange(1, lags + 1) / (lags + 1.0)
    long_run = autocov[0] + 2.0 * (bartlett @ autocov[1:])
    if not long_run > 0:
        return float("nan")
    return float(v.mean() / np.sqrt(long_run / n))


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if values.notna().any() else float("nan")


def ic_summary(ic: pd.DataFrame, horizon: int = 1) -> dict[str, dict[str, float]]:
    """Per factor: mean, t-stat and HAC t-stat of IC and rank IC, the HAC lags used, and the
    number of dates with a value (``horizon``: forward days of the IC, sets the minimum lags)."""
    out = {}
    for name, group in ic.groupby("factor", sort=False):
        dates = int(group["ic"].notna().sum())
        out[str(name)] = {
            "ic_mean": _mean(group["ic"]),
            "ic_t_stat": _t_stat(group["ic"]),
            "rank_ic_mean": _mean(group["rank_ic"]),
            "rank_ic_t_stat": _t_stat(group["rank_ic"]),
            "dates": dates,
            "ic_hac_t_stat": hac_t_stat(group["ic"], horizon=horizon),
            "rank_ic_hac_t_stat": hac_t_stat(group["rank_ic"], horizon=horizon),
            "hac_lags": newey_west_lags(dates, horizon),
        }
    return out


def rank_autocorrelation(score: np.ndarray, min_names: int = 5) -> np.ndarray:
    """``(t,)`` Spearman correlation across symbols of ``score`` at ``t − 1`` and at ``t`` (NaN on
    the first date and where fewer than ``min_names`` symbols have both)."""
    score = np.asarray(score, dtype=float)
    out = np.full(score.shape[1], np.nan)
    if score.shape[1] > 1:
        x, y, _ = _pairwise(score[:, 1:], score[:, :-1])
        out[1:] = _column_corr(cross_sectional_rank(x), cross_sectional_rank(y), min_names)
    return out


def quantile_buckets(score: np.ndarray, forward: np.ndarray, quantiles: int = QUANTILES,
                     min_names: int = 10) -> np.ndarray:
    """``(n, t)`` bucket 0 .. quantiles−1 of each symbol's score on each date, as
    ``pandas.qcut(score, quantiles, labels=False)`` over the symbols with both a score and a
    forward return; NaN elsewhere and on dates with fewer than ``min_names`` such symbols."""
    x, _, valid = _pairwise(np.asarray(score, dtype=float), forward)
    enough = valid.sum(axis=0) >= max(min_names, 1)
    buckets = np.full(x.shape, np.nan)
    if enough.any():
        cols = x[:, enough]
        # the percentile call pandas' qcut makes (quantile edges at linspace(0, 1, q+1) * 100)
        edges = np.nanpercentile(cols, np.linspace(0.0, 1.0, quantiles + 1) * 100.0, axis=0)
        above = (cols[None, :, :] > edges[1:-1, None, :]).sum(axis=0)  # interior edges strictly below
        buckets[:, enough] = np.where(np.isfinite(cols), above, np.nan)
    return buckets


def quantile_returns(buckets: np.ndarray, forward: np.ndarray, dates: np.ndarray,
                     quantiles: int = QUANTILES) -> pd.DataFrame:
    """Per date: equal-weighted mean forward return of each bucket (columns ``q1`` (lowest score)
    .. ``q<quantiles>``) and ``spread`` = top − bottom; dates without buckets are dropped."""
    fwd = np.where(np.isfinite(buckets), forward, np.nan)
    columns = {}
    with np.errstate(all="ignore"):
        for k in range(quantiles):  # one vectorised pass per bucket
            member = buckets == k
            columns[f"q{k + 1}"] = np.where(member, fwd, 0.0).sum(axis=0) / member.sum(axis=0)
    frame = pd.DataFrame(columns, index=pd.DatetimeIndex(np.asarray(dates).astype("datetime64[ns]"), name="date"))
    frame["spread"] = frame[f"q{quantiles}"] - frame["q1"]
    return frame[np.isfinite(buckets).any(axis=0)]


def quantile_summary(frame: pd.DataFrame, horizon: int) -> dict[str, Any]:
    """Mean return per bucket, and mean, t-stat and HAC t-stat of the top-minus-bottom spread."""
    spread = frame["spread"]
    dates = int(spread.notna().sum())
    return {
        "horizon_days": horizon,
        "quantiles": len(frame.columns) - 1,
        "mean_return_by_quantile": {c: _mean(frame[c]) for c in frame.columns if c != "spread"},
        "spread_mean": _mean(spread),
        "spread_t_stat": _t_stat(spread),
        "spread_hac_t_stat": hac_t_stat(spread, horizon=horizon),
        "hac_lags": newey_west_lags(dates, horizon),
        "dates": dates,
    }


@dataclass
class FactorAnalytics:
    """IC decay, rank autocorrelation and quantile analysis of a run (see the module docstring)."""

    decay: pd.DataFrame  # factor, horizon, rank_ic_mean, rank_ic_t_stat, rank_ic_hac_t_stat, hac_lags, dates
    rank_autocorrelation: dict[str, float]
    quantile_returns: pd.DataFrame  # per date: q1 .. qN, spread
    quantiles: dict[str, Any] = field(default_factory=dict)

    def factor_summary(self, name: str) -> dict[str, Any]:
        """The summary.json entries of one factor: ``rank_autocorrelation`` and ``ic_decay``."""
        rows = self.decay[self.decay["factor"] == name]
        return {
            "rank_autocorrelation": self.rank_autocorrelation.get(name, float("nan")),
            "ic_decay": {f"{int(r.horizon)}d": {"rank_ic_mean": r.rank_ic_mean, "rank_ic_t_stat": r.rank_ic_t_stat,
                                                "rank_ic_hac_t_stat": r.rank_ic_hac_t_stat,
                                                "hac_lags": int(r.hac_lags), "dates": int(r.dates)}
                         for r in rows.itertuples()},
        }


def factor_analytics(scores: dict[str, np.ndarray], panel: Panel, date_slice: slice, lag: int = 1,
                     price: str = "open", quantile_score: str | None = None,
                     horizons: tuple[int, ...] = DECAY_HORIZONS, quantile_horizon: int = QUANTILE_HORIZON,
                     quantiles: int = QUANTILES, min_names: int = 5) -> FactorAnalytics:
    """Analytics of ``scores`` (``(n, t)`` over the dates of ``date_slice``) against the panel's
    forward returns from the fill at ``t + lag``; quantiles of ``scores[quantile_score]``."""
    dates = panel.dates[date_slice]
    forward = {h: forward_returns(panel, lag=lag, horizon=h, price=price)[:, date_slice]
               for h in sorted({*horizons, quantile_horizon})}
    rows = []
    for h in horizons:
        stats = ic_summary(information_coefficients(scores, forward[h], dates, min_names), horizon=h)
        rows += [{"factor": name, "horizon": h, **{k: st[k] for k in
                  ("rank_ic_mean", "rank_ic_t_stat", "rank_ic_hac_t_stat", "hac_lags", "dates")}}
                 for name, st in stats.items()]
    decay = pd.DataFrame(rows, columns=["factor", "horizon", "rank_ic_mean", "rank_ic_t_stat",
                                        "rank_ic_hac_t_stat", "hac_lags", "dates"])
    autocorr = {name: _mean(pd.Series(rank_autocorrelation(s, min_names))) for name, s in scores.items()}
    q_frame = pd.DataFrame(columns=[*(f"q{k + 1}" for k in range(quantiles)), "spread"], dtype=float)
    if quantile_score in scores:
        buckets = quantile_buckets(scores[quantile_score], forward[quantile_horizon], quantiles, 2 * quantiles)
        q_frame = quantile_returns(buckets, forward[quantile_horizon], dates, quantiles)
    return FactorAnalytics(decay, autocorr, q_frame, quantile_summary(q_frame, quantile_horizon))
