"""Metrics against independent pandas / scipy implementations, on the real sample where data is needed."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from jgod_core.data.panel import Panel
from jgod_plugins.analysis import metrics

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


# -- factor analytics: Newey–West t, IC decay, quintiles, rank autocorrelation ---------------------


def _momentum(panel: Panel) -> np.ndarray:
    close = pd.DataFrame(panel.fields["close"].T)
    return (close / close.shift(20) - 1).to_numpy().T  # a real signal from real prices


def _statsmodels_hac_t(values: pd.Series, lags: int) -> float:
    import statsmodels.api as sm  # the dev extra's independent reference; missing = failure, not skip
    v = values.dropna().to_numpy()
    return float(sm.OLS(v, np.ones(len(v))).fit(cov_type="HAC", cov_kwds={"maxlags": lags}).tvalues[0])


def test_newey_west_lags_follow_the_rule_and_the_overlap_of_the_horizon():
    assert metrics.newey_west_lags(100) == 4  # floor(4 * 1^(2/9))
    assert metrics.newey_west_lags(1794) == 7  # floor(4 * 17.94^(2/9)) = floor(7.61)
    assert metrics.newey_west_lags(1794, horizon=5) == 7
    assert metrics.newey_west_lags(1794, horizon=20) == 19  # 20-day returns overlap 19 days


def test_hac_t_stat_without_lags_is_the_plain_t_on_the_biased_variance():
    v = pd.Series([0.03, -0.01, 0.02, 0.05, -0.02, 0.01, np.nan, 0.04])
    n = v.notna().sum()
    plain = stats.ttest_1samp(v.dropna(), 0.0).statistic
    assert metrics.hac_t_stat(v, lags=0) == pytest.approx(plain * np.sqrt(n / (n - 1)), rel=1e-12)


@pytest.mark.parametrize("horizon", [1, 5, 20])
def test_newey_west_ic_t_stat_matches_statsmodels_hac_on_the_real_sample(real_panel, horizon):
    forward = metrics.forward_returns(real_panel, lag=1, horizon=horizon)
    ic = metrics.information_coefficients({"mom": _momentum(real_panel)}, forward, real_panel.dates)
    got = metrics.ic_summary(ic, horizon=horizon)["mom"]
    lags = metrics.newey_west_lags(int(ic["ic"].notna().sum()), horizon)
    assert got["hac_lags"] == lags == max(metrics.newey_west_lags(got["dates"]), horizon - 1)
    assert got["ic_hac_t_stat"] == pytest.approx(_statsmodels_hac_t(ic["ic"], lags), abs=1e-9)
    assert got["rank_ic_hac_t_stat"] == pytest.approx(_statsmodels_hac_t(ic["rank_ic"], lags), abs=1e-9)


def test_ic_decay_is_the_rank_ic_of_returns_from_the_next_open_on_the_real_sample(real_panel):
    momentum = _momentum(real_panel)
    got = metrics.factor_analytics({"mom": momentum}, real_panel, slice(0, real_panel.shape[1]))
    assert list(got.decay["horizon"]) == list(metrics.DECAY_HORIZONS)
    score = pd.DataFrame(momentum.T)
    opens = pd.DataFrame(real_panel.fields["open"].T)
    for h in metrics.DECAY_HORIZONS:
        forward = opens.shift(-1 - h) / opens.shift(-1) - 1  # bought at the open of t+1, held h days
        rank_ic = score.corrwith(forward, axis=1, method="spearman")
        row = got.decay[got.decay["horizon"] == h].iloc[0]
        assert row["rank_ic_mean"] == pytest.approx(rank_ic.mean(), abs=1e-12)
        assert row["dates"] == rank_ic.notna().sum()
        assert row["rank_ic_hac_t_stat"] == pytest.approx(_statsmodels_hac_t(rank_ic, int(row["hac_lags"])), abs=1e-9)
    assert got.factor_summary("mom")["ic_decay"]["20d"]["hac_lags"] == 19


def test_quintiles_and_spread_match_pandas_qcut_on_the_real_sample(real_panel):
    momentum = _momentum(real_panel)
    forward = metrics.forward_returns(real_panel, lag=1, horizon=5)
    buckets = metrics.quantile_buckets(momentum, forward, quantiles=5, min_names=10)
    dates = pd.DatetimeIndex(real_panel.dates.astype("datetime64[ns]"))
    long = pd.DataFrame({"date": np.tile(dates, real_panel.shape[0]), "score": momentum.ravel(),
                         "fwd": forward.ravel(), "got": buckets.ravel()}).dropna(subset=["score", "fwd"])
    long = long[long.groupby("date")["score"].transform("size") >= 10]
    long["q"] = long.groupby("date")["score"].transform(lambda s: pd.qcut(s, 5, labels=False))
    assert len(long) > 10_000
    np.testing.assert_array_equal(long["got"].to_numpy(), long["q"].to_numpy())
    assert np.isnan(buckets[~np.isfinite(forward)]).all()

    expected = long.groupby(["date", "q"])["fwd"].mean().unstack()
    expected.columns = [f"q{int(c) + 1}" for c in expected.columns]
    expected["spread"] = expected["q5"] - expected["q1"]
    got = metrics.quantile_returns(buckets, forward, real_panel.dates, quantiles=5)
    pd.testing.assert_frame_equal(got, expected, check_names=False, rtol=0, atol=1e-15)
    summary = metrics.quantile_summary(got, horizon=5)
    assert summary["spread_mean"] == pytest.approx(expected["spread"].mean(), rel=1e-12)
    assert summary["spread_t_stat"] == pytest.approx(stats.ttest_1samp(expected["spread"], 0.0).statistic, rel=1e-10)
    assert summary["spread_hac_t_stat"] == pytest.approx(
        _statsmodels_hac_t(expected["spread"], summary["hac_lags"]), abs=1e-9)
    assert summary["mean_return_by_quantile"]["q3"] == pytest.approx(expected["q3"].mean(), rel=1e-12)


def test_quintiles_of_a_hand_cross_section():
    score = np.array([[5.0], [1.0], [4.0], [2.0], [3.0], [np.nan], [6.0], [7.0], [8.0], [9.0], [10.0]])
    forward = np.array([[0.05], [0.01], [0.04], [0.02], [0.03], [0.5], [0.06], [0.07], [0.08], [0.09], [np.nan]])
    got = metrics.quantile_buckets(score, forward, quantiles=5, min_names=5)
    # valid scores 1..9 (10 has no forward return): edges 1, 2.6, 4.2, 5.8, 7.4, 9
    np.testing.assert_array_equal(got[:, 0], [2, 0, 1, 0, 1, np.nan, 3, 3, 4, 4, np.nan])
    frame = metrics.quantile_returns(got, forward, np.array(["2024-01-02"], dtype="datetime64[D]"), quantiles=5)
    assert frame["q1"].iloc[0] == pytest.approx(0.015) and frame["spread"].iloc[0] == pytest.approx(0.085 - 0.015)
    assert np.isnan(metrics.quantile_buckets(score, forward, quantiles=5, min_names=10)).all()


def test_rank_autocorrelation_matches_scipy_spearman_on_the_real_sample(real_panel):
    momentum = _momentum(real_panel)
    got = metrics.rank_autocorrelation(momentum)
    assert np.isnan(got[0])
    checked = 0
    for j in range(25, real_panel.shape[1], 23):
        x, y = momentum[:, j - 1], momentum[:, j]
        ok = np.isfinite(x) & np.isfinite(y)
        assert got[j] == pytest.approx(stats.spearmanr(x[ok], y[ok]).statistic, abs=1e-12)
        checked += 1
    assert checked > 15
    assert 0.8 < np.nanmean(got) < 1.0  # 20-day momentum moves slowly
