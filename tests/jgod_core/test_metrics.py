"""Metrics against independent pandas / scipy implementations, on the real sample where data is needed."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from jgod_core import metrics
from jgod_core.panel import Panel

SAMPLE = files("jgod_plugins.data") / "sample_data" / "daily" / "twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz"


@pytest.fixture(scope="module")
def real_panel() -> Panel:
    bars = pd.read_csv(SAMPLE, dtype={"symbol": str})
    bars = bars[(bars["date"] >= "2022-01-01") & (bars["date"] <= "2023-12-31")]
    return Panel.from_long(bars, ["open", "high", "low", "close", "volume"])


@pytest.fixture(scope="module")
def real_equity(real_panel) -> pd.DataFrame:
    """An equal-weight buy-and-hold NT$ curve of the real closes (a real, non-synthetic path)."""
    close = pd.DataFrame(real_panel.fields["close"].T, index=pd.DatetimeIndex(real_panel.dates)).ffill()
    curve = 1e7 * (close / close.iloc[0]).mean(axis=1)
    gross = pd.Series(1.0, index=curve.index)
    gross.iloc[::7] = 0.0
    return pd.DataFrame({"date": curve.index, "equity": curve.to_numpy(), "gross": gross.to_numpy()})


def test_performance_matches_independent_formulas(real_equity):
    trades = pd.DataFrame({"shares": [1000, 2000], "price": [50.0, 25.5], "commission": [71.0, 72.0],
                           "tax": [0.0, 153.0]})
    initial = 1e7
    got = metrics.performance(real_equity, trades, initial)
    curve = np.concatenate([[initial], real_equity["equity"].to_numpy()])
    r = curve[1:] / curve[:-1] - 1
    n = len(r)
    assert got["cagr"] == pytest.approx((curve[-1] / initial) ** (252 / n) - 1, rel=1e-12)
    assert got["annual_volatility"] == pytest.approx(np.std(r, ddof=1) * np.sqrt(252), rel=1e-12)
    assert got["sharpe"] == pytest.approx(np.mean(r) / np.std(r, ddof=1) * np.sqrt(252), rel=1e-12)
    downside = np.sqrt(np.mean(np.where(r < 0, r, 0) ** 2))
    assert got["sortino"] == pytest.approx(np.mean(r) * np.sqrt(252) / downside, rel=1e-12)
    peak, worst = -np.inf, 0.0
    for v in curve:
        peak = max(peak, v)
        worst = min(worst, v / peak - 1)
    assert got["max_drawdown"] == pytest.approx(worst, rel=1e-12)
    assert got["costs_paid"] == 71 + 72 + 153
    traded = 1000 * 50.0 + 2000 * 25.5
    assert got["turnover"] == pytest.approx(traded / 2 / real_equity["equity"].mean() * 252 / n, rel=1e-12)
    invested = np.concatenate([[False], real_equity["gross"].to_numpy()[:-1] > 0])
    assert got["hit_rate"] == pytest.approx(np.mean(r[invested] > 0), rel=1e-12)


def test_max_drawdown_of_a_hand_curve():
    assert metrics.max_drawdown(pd.Series([100.0, 120.0, 90.0, 130.0, 104.0])) == pytest.approx(-0.25)
    assert metrics.max_drawdown(pd.Series([90.0, 95.0]), initial_cash=100.0) == pytest.approx(-0.10)


def test_forward_returns_match_pandas_shift(real_panel):
    got = metrics.forward_returns(real_panel, lag=1, horizon=1, price="open")
    opens = pd.DataFrame(real_panel.fields["open"].T)
    expected = (opens.shift(-2) / opens.shift(-1) - 1).to_numpy().T
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15, equal_nan=True)


def test_ic_and_rank_ic_match_pandas_and_scipy_on_the_real_sample(real_panel):
    close = pd.DataFrame(real_panel.fields["close"].T)
    momentum = (close / close.shift(20) - 1).to_numpy().T  # a real signal from real prices
    forward = metrics.forward_returns(real_panel, lag=1, horizon=1)
    ic = metrics.information_coefficients({"mom": momentum}, forward, real_panel.dates, min_names=5)
    checked = 0
    for j in range(30, real_panel.shape[1] - 2, 17):
        x, y = momentum[:, j], forward[:, j]
        ok = np.isfinite(x) & np.isfinite(y)
        pearson = pd.Series(x[ok]).corr(pd.Series(y[ok]))
        spearman = stats.spearmanr(x[ok], y[ok]).statistic
        assert ic["ic"].iloc[j] == pytest.approx(pearson, abs=1e-12)
        assert ic["rank_ic"].iloc[j] == pytest.approx(spearman, abs=1e-12)
        checked += 1
    assert checked > 20
    summary = metrics.ic_summary(ic)["mom"]
    rank_ic = ic["rank_ic"].dropna()
    assert summary["rank_ic_mean"] == pytest.approx(rank_ic.mean(), rel=1e-12)
    assert summary["rank_ic_t_stat"] == pytest.approx(stats.ttest_1samp(rank_ic, 0.0).statistic, rel=1e-10)
    assert summary["ic_t_stat"] == pytest.approx(stats.ttest_1samp(ic["ic"].dropna(), 0.0).statistic, rel=1e-10)


def test_ic_is_absent_without_cross_sectional_dispersion():
    score = np.tile(np.arange(5.0), (8, 1))  # same value for every symbol on a date
    forward = np.arange(40.0).reshape(8, 5)
    ic = metrics.information_coefficients({"flat": score}, forward, np.arange(5).astype("datetime64[D]"))
    assert ic["ic"].isna().all() and ic["rank_ic"].isna().all()
