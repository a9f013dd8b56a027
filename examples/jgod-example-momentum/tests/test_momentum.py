"""PriceMomentum: hand-computed values, warm-up, halts, no look-ahead, params bounds."""

from __future__ import annotations

import numpy as np
import pytest
from jgod_example_momentum import PriceMomentum, PriceMomentumParams
from pydantic import ValidationError

from jgod_core import Panel


def make_panel(close: list[list[float]], adj_factor: list[list[float]] | None = None) -> Panel:
    close_arr = np.array(close, dtype=float)
    dates = np.datetime64("2024-01-01") + np.arange(close_arr.shape[1]).astype("timedelta64[D]")
    fields = {"close": close_arr}
    if adj_factor is not None:
        fields["adj_factor"] = np.array(adj_factor, dtype=float)
    return Panel(tuple(f"{1000 + i}" for i in range(close_arr.shape[0])), dates, fields)


def test_momentum_is_close_over_close_window_days_earlier_minus_one():
    panel = make_panel([[10, 11, 12, 15, 9], [100, 90, 81, 72.9, 100]])
    result = PriceMomentum(PriceMomentumParams(window_days=2)).compute(panel)
    expected = np.array([[np.nan, np.nan, 12 / 10 - 1, 15 / 11 - 1, 9 / 12 - 1],
                         [np.nan, np.nan, 81 / 100 - 1, 72.9 / 90 - 1, 100 / 81 - 1]])
    np.testing.assert_allclose(result.components["momentum"], expected, equal_nan=True)
    np.testing.assert_allclose(result.score, expected, equal_nan=True)


def test_skip_days_leaves_out_the_most_recent_closes():
    panel = make_panel([[10, 11, 12, 15, 9]])
    result = PriceMomentum(PriceMomentumParams(window_days=2, skip_days=1)).compute(panel)
    np.testing.assert_allclose(result.score, [[np.nan, np.nan, np.nan, 12 / 10 - 1, 15 / 11 - 1]], equal_nan=True)


def test_adjustment_factor_removes_a_split_jump():
    # 2-for-1 split on day 2: raw close halves, adjusted close (raw × factor) is continuous.
    panel = make_panel([[100, 100, 50, 50]], adj_factor=[[0.5, 0.5, 1.0, 1.0]])
    result = PriceMomentum(PriceMomentumParams(window_days=2)).compute(panel)
    np.testing.assert_allclose(result.score, [[np.nan, np.nan, 0.0, 0.0]], equal_nan=True)


def test_absent_close_gives_nan_not_a_made_up_value():
    panel = make_panel([[10, np.nan, 12, 13]])
    result = PriceMomentum(PriceMomentumParams(window_days=1)).compute(panel)
    np.testing.assert_allclose(result.score, [[np.nan, np.nan, np.nan, 13 / 12 - 1]], equal_nan=True)


def test_value_at_t_does_not_change_when_later_data_changes():
    base = [[10, 11, 12, 13, 14, 15]]
    later_changed = [[10, 11, 12, 13, 99, 1]]
    params = PriceMomentumParams(window_days=2)
    a = PriceMomentum(params).compute(make_panel(base)).score
    b = PriceMomentum(params).compute(make_panel(later_changed)).score
    np.testing.assert_array_equal(a[:, :4], b[:, :4])


def test_panel_shorter_than_warmup_is_all_nan():
    panel = make_panel([[10, 11, 12]])
    assert np.isnan(PriceMomentum(PriceMomentumParams(window_days=3)).compute(panel).score).all()


def test_warmup_is_window_plus_skip():
    assert PriceMomentum.warmup_days(PriceMomentumParams(window_days=60, skip_days=5)) == 65


@pytest.mark.parametrize("bad", [{"window_days": 0}, {"skip_days": -1}, {"window": 20}, {"window_days": 1e9}])
def test_params_out_of_bounds_or_unknown_are_rejected(bad):
    with pytest.raises(ValidationError):
        PriceMomentumParams(**bad)
