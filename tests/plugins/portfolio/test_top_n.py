"""The top-N portfolio constructor: target weights, caps, rebalance days, eligibility."""

from __future__ import annotations

import numpy as np
import pytest

from jgod_core.data.panel import Combination, Panel
from jgod_plugins.portfolio.top_n import TopN, TopNParams, rebalance_days, target_weights


def one_day(values):
    return np.array(values, dtype=float)[:, None]


def test_long_only_holds_top_n_positive_scores_equally():
    w = target_weights(one_day([0.9, 0.1, -0.5, 0.6, 0.3]), TopNParams(top_n=2, max_weight=0.5, sector_cap=1.0),
                       np.array([True]))
    assert w[:, 0].tolist() == [0.5, 0.0, 0.0, 0.5, 0.0]


def test_max_weight_caps_each_name_and_leaves_cash():
    w = target_weights(one_day([0.9, 0.8]), TopNParams(top_n=2, max_weight=0.2), np.array([True]))
    assert w[:, 0].tolist() == [0.2, 0.2]


def test_sector_cap_limits_an_industry():
    w = target_weights(one_day([0.9, 0.8, 0.7, 0.1]),
                       TopNParams(top_n=3, max_weight=0.25, sector_cap=0.3, gross_exposure=0.75),
                       np.array([True]), industry=["semis", "semis", "semis", "banks"])
    assert w[:, 0].tolist() == pytest.approx([0.25, 0.05, 0.0, 0.25])


def test_long_short_splits_gross_between_sides():
    w = target_weights(one_day([0.9, -0.8, 0.2, -0.1]),
                       TopNParams(mode="long_short", top_n=1, max_weight=1.0, sector_cap=1.0),
                       np.array([True]))
    assert w[:, 0].tolist() == [0.5, -0.5, 0.0, 0.0]


def test_no_positive_score_means_all_cash_in_long_only():
    w = target_weights(one_day([-0.9, -0.1]), TopNParams(), np.array([True]))
    assert w[:, 0].tolist() == [0.0, 0.0]


def test_weights_only_on_rebalance_days_and_unscored_names_keep_their_target():
    score = np.tile(np.array([[1.0], [0.5], [np.nan]]), (1, 7))
    days = rebalance_days(7, 1, 6, 3)
    assert days.tolist() == [False, True, False, False, True, False, False]
    w = target_weights(score, TopNParams(top_n=1, max_weight=1.0, sector_cap=1.0), days)
    assert np.isnan(w[:, ~days]).all()
    assert w[:, 1].tolist()[:2] == [1.0, 0.0] and np.isnan(w[2, 1])


def test_ineligible_name_is_skipped_and_keeps_its_target():
    eligible = np.array([[False], [True], [True]])
    w = target_weights(one_day([0.9, 0.5, 0.1]), TopNParams(top_n=1, max_weight=1.0, sector_cap=1.0),
                       np.array([True]), eligible=eligible)
    assert np.isnan(w[0, 0]) and w[1, 0] == 1.0 and w[2, 0] == 0.0


def test_top_n_component_decides_on_rebalance_days_and_skips_halted_names():
    dates = np.arange("2024-01-01", "2024-01-07", dtype="datetime64[D]")
    close = np.full((3, 6), 10.0)
    halted = np.zeros((3, 6))
    halted[0, 1] = 1.0
    panel = Panel(("A", "B", "C"), dates, {"close": close, "halted": halted})
    score = np.tile(np.array([[1.0], [0.5], [0.1]]), (1, 6))
    combination = Combination(score, {}, {}, min_abs_score=0.2)
    w = TopN(TopNParams(top_n=1, max_weight=1.0, sector_cap=1.0, rebalance_days=2)).target_weights(
        combination, panel, 1, 4)
    assert np.isnan(w[:, [0, 2, 4, 5]]).all()
    assert np.isnan(w[0, 1]) and w[1:, 1].tolist() == [1.0, 0.0]  # A halted at the decision
    assert w[:, 3].tolist() == [1.0, 0.0, 0.0]  # C under min_abs_score
