"""Numerics kernels against pandas/scipy (to 1e-9) and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from jgod_plugins.sdk import numerics as nx


def _wide(values: np.ndarray) -> pd.DataFrame:
    """Symbol-major (n, t) → pandas frame with dates down the index (pandas rolls along rows)."""
    return pd.DataFrame(values.T)


@pytest.fixture(scope="module")
def gappy_panel() -> np.ndarray:
    rng = np.random.default_rng(7)
    x = 100.0 + np.cumsum(rng.normal(0.0, 1.0, size=(6, 400)), axis=1)
    x[rng.random(x.shape) < 0.05] = np.nan  # scattered halted days
    x[2, 100:130] = np.nan  # a long halt
    x[3, 200:260] = 55.5  # a flat stretch (zero variance)
    x[4] *= 1e6  # large magnitude (volume-like)
    return x


@pytest.mark.parametrize("window,min_periods", [(1, None), (5, None), (20, None), (20, 15), (60, 1), (60, 0)])
def test_rolling_mean_sum_std_equal_pandas_with_gaps(gappy_panel, window, min_periods):
    frame = _wide(gappy_panel).rolling(window, min_periods=min_periods)
    np.testing.assert_allclose(nx.rolling_mean(gappy_panel, window, min_periods), frame.mean().to_numpy().T,
                               rtol=1e-9, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(nx.rolling_sum(gappy_panel, window, min_periods), frame.sum().to_numpy().T,
                               rtol=1e-9, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(nx.rolling_std(gappy_panel, window, min_periods), frame.std().to_numpy().T,
                               rtol=1e-9, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("window,min_periods", [(20, None), (252, 200)])
def test_rolling_zscore_equals_pandas_and_zero_std_is_nan(gappy_panel, window, min_periods):
    frame = _wide(gappy_panel)
    roll = frame.rolling(window, min_periods=min_periods)
    expected = ((frame - roll.mean()) / roll.std()).replace([np.inf, -np.inf], np.nan).to_numpy().T
    got = nx.rolling_zscore(gappy_panel, window, min_periods)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9, equal_nan=True)
    if window == 20:
        assert np.isnan(got[3, 240])  # inside the flat stretch: std 0 → NaN, not inf


def test_rolling_mean_needs_full_window_of_valid_values_by_default():
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0])
    got = nx.rolling_mean(x, 3)
    expected = [np.nan, np.nan, np.nan, np.nan, np.nan, 5.0, 6.0]
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(nx.rolling_sum(x, 3, min_periods=2), [np.nan, 3.0, 3.0, 6.0, 9.0, 15.0, 18.0])


def test_rolling_std_hand_computed():
    x = np.array([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    got = nx.rolling_std(x, 4)
    # window [4,4,5,5]: mean 4.5, ss 1 → var 1/3
    assert got[5] == pytest.approx(np.sqrt(1.0 / 3.0), abs=1e-15)
    assert np.isnan(got[2])
    assert nx.rolling_std(x, 3)[3] == 0.0  # 4,4,4 is exactly zero


def test_rolling_kernels_read_nothing_after_t(gappy_panel):
    cut = 250
    perturbed = gappy_panel.copy()
    perturbed[:, cut + 1:] = np.random.default_rng(1).normal(size=perturbed[:, cut + 1:].shape) * 1e3
    for fn in (nx.rolling_mean, nx.rolling_std, nx.rolling_zscore, nx.rolling_sum):
        np.testing.assert_array_equal(fn(gappy_panel, 30)[:, : cut + 1], fn(perturbed, 30)[:, : cut + 1])


@pytest.mark.parametrize("rows", [1, 3, 5])
def test_rolling_kernels_give_each_row_its_own_result_for_odd_row_counts(gappy_panel, rows):
    """Kernels sweep symbols in pairs; an odd count pairs the last row with itself."""
    x = gappy_panel[:rows]
    market = np.nanmean(gappy_panel, axis=0)
    kernels = {
        "mean": lambda v: nx.rolling_mean(v, 20, 15),
        "sum": lambda v: nx.rolling_sum(v, 20, 15),
        "std": lambda v: nx.rolling_std(v, 20, 15),
        "zscore": lambda v: nx.rolling_zscore(v, 20, 15),
        "beta": lambda v: nx.rolling_beta(v, market, 20, 15),
        "vwap": lambda v: nx.rolling_vwap(v, np.abs(v[::-1]), 20, 15),
    }
    for name, fn in kernels.items():
        together = fn(x)
        for i in range(rows):
            alone = fn(x[i:i + 1]) if name != "vwap" else nx.rolling_vwap(x[i:i + 1], np.abs(x[::-1])[i:i + 1], 20, 15)
            np.testing.assert_array_equal(together[i], alone[0], err_msg=f"{name} row {i}")
        assert np.isfinite(together).any(), name


def test_rolling_beta_equals_pandas_pairwise(gappy_panel):
    rng = np.random.default_rng(3)
    market = rng.normal(0, 0.01, gappy_panel.shape[1])
    market[[5, 50, 51]] = np.nan
    y = np.diff(np.log(gappy_panel[:, :]), axis=1, prepend=np.nan) + 0.8 * market
    frame = _wide(y)
    mkt = pd.Series(market)
    for window, mp in [(60, None), (60, 40)]:
        expected = np.column_stack([
            (frame[c].rolling(window, min_periods=mp).cov(mkt)
             / mkt.where(frame[c].notna()).rolling(window, min_periods=mp).var()).to_numpy()
            for c in frame.columns
        ]).T
        got = nx.rolling_beta(y, market, window, mp)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_window_arguments_are_checked():
    with pytest.raises(ValueError, match="window"):
        nx.rolling_mean(np.ones(5), 0)
    with pytest.raises(ValueError, match="min_periods"):
        nx.rolling_mean(np.ones(5), 3, min_periods=4)


def test_cross_sectional_zscore_equals_pandas_and_clips():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(50, 120))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[0, 10] = 1e4  # an outlier to be clipped
    frame = pd.DataFrame(x)  # symbols down the index: per-date stats are column stats
    expected = ((frame - frame.mean(axis=0)) / frame.std(axis=0)).clip(-3.0, 3.0).to_numpy()
    got = nx.cross_sectional_zscore(x, winsor_sigma=3.0)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9, equal_nan=True)
    assert got[0, 10] == 3.0
    unclipped = nx.cross_sectional_zscore(x, winsor_sigma=0.0)
    assert unclipped[0, 10] > 3.0


def test_cross_sectional_zscore_hand_computed_and_degenerate_dates():
    x = np.array([[1.0, 5.0, np.nan], [2.0, 5.0, 1.0], [3.0, np.nan, np.nan]])
    got = nx.cross_sectional_zscore(x)
    np.testing.assert_allclose(got[:, 0], [-1.0, 0.0, 1.0])  # mean 2, std 1
    assert np.isnan(got[:, 1]).all()  # zero dispersion
    assert np.isnan(got[:, 2]).all()  # a single valid symbol


def test_cross_sectional_rank_equals_scipy_average_ranks(gappy_panel):
    x = np.round(np.diff(gappy_panel, axis=1), 0)  # rounding creates ties
    got = nx.cross_sectional_rank(x)
    for j in range(x.shape[1]):
        col = x[:, j]
        ok = ~np.isnan(col)
        m = ok.sum()
        expected = np.full(col.shape, np.nan)
        if m == 1:
            expected[ok] = 0.0
        elif m > 1:
            expected[ok] = 2.0 * (rankdata(col[ok], method="average") - 1.0) / (m - 1) - 1.0
        np.testing.assert_allclose(got[:, j], expected, rtol=0, atol=1e-12, equal_nan=True)


def test_cross_sectional_rank_hand_computed():
    x = np.array([[3.0], [1.0], [np.nan], [2.0], [2.0]])
    np.testing.assert_allclose(nx.cross_sectional_rank(x)[:, 0], [1.0, -1.0, np.nan, 0.0, 0.0])


def test_group_mean_equals_pandas_groupby(gappy_panel):
    codes = np.array([0, 1, 0, 2, 1, -1])
    got = nx.group_mean(gappy_panel, codes, 3)
    frame = pd.DataFrame(gappy_panel[:5])
    expected = frame.groupby(codes[:5]).mean().to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("window,min_periods", [(5, None), (60, 50)])
def test_rolling_vwap_equals_pandas_ratio_of_sums(gappy_panel, window, min_periods):
    rng = np.random.default_rng(2)
    volume = rng.integers(1, 1000, gappy_panel.shape).astype(float)
    volume[rng.random(volume.shape) < 0.03] = np.nan
    p, v = _wide(gappy_panel), _wide(volume)
    expected = ((p * v).rolling(window, min_periods=min_periods).sum()
                / v.where(p.notna()).rolling(window, min_periods=min_periods).sum()).to_numpy().T
    got = nx.rolling_vwap(gappy_panel, volume, window, min_periods)
    np.testing.assert_allclose(got, expected, rtol=1e-9, equal_nan=True)


def test_accumulate_valid_is_a_nan_skipping_mean():
    a = np.array([[1.0, np.nan, np.nan]])
    b = np.array([[3.0, 2.0, np.nan]])
    total, count = np.zeros_like(a), np.zeros_like(a)
    nx.accumulate_valid(total, count, a)
    nx.accumulate_valid(total, count, b, scale=-1.0)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(total / count, [[-1.0, -2.0, np.nan]])


def test_accumulated_cross_sectional_zscore_equals_zscore_then_accumulate():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 50))
    x[rng.random(x.shape) < 0.2] = np.nan
    fused_total, fused_count = np.zeros_like(x), np.zeros_like(x)
    nx.accumulate_cross_sectional_zscore(fused_total, fused_count, x, winsor_sigma=1.5, sign=-1.0)
    total, count = np.zeros_like(x), np.zeros_like(x)
    nx.accumulate_valid(total, count, nx.cross_sectional_zscore(x, winsor_sigma=1.5), scale=-1.0)
    np.testing.assert_array_equal(fused_total, total)
    np.testing.assert_array_equal(fused_count, count)
