"""The linear combiner and its signals against independent pandas/scipy computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from jgod_plugins.portfolio.linear_combiner import (
    LinearParams,
    combine,
    confidences,
    directions,
    signals_frame,
    standardize,
)

DATES = np.arange("2024-01-01", "2024-01-21", dtype="datetime64[D]")


def scores(seed: int = 7, n: int = 12, t: int = 20) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)  # synthetic inputs are allowed in tests of pure arithmetic
    out = {"f_c": rng.normal(size=(n, t)), "f_s": rng.standard_t(3, size=(n, t)), "f_d": rng.normal(size=(n, t))}
    out["f_d"][3, 5] = np.nan
    out["f_s"][:, 2] = np.nan
    return out


def pandas_zscore(values: np.ndarray, sigma: float) -> np.ndarray:
    frame = pd.DataFrame(values)  # rows symbols, columns dates
    z = (frame - frame.mean(axis=0)) / frame.std(axis=0, ddof=1)
    return z.clip(-sigma, sigma).to_numpy()


def test_linear_score_is_weighted_sum_of_winsorised_zscores_plus_interaction():
    s = scores()
    cfg = LinearParams(winsor_sigma=2.5, interactions=[{"term": "f_c*f_s", "weight": 0.4}])
    weights = {"f_c": 1.0, "f_s": -0.7, "f_d": 0.3}
    got = combine(s, weights, cfg).score
    z = {k: pandas_zscore(v, 2.5) for k, v in s.items()}
    terms = [weights[k] * pd.DataFrame(z[k]) for k in s] + [0.4 * pd.DataFrame(z["f_c"] * z["f_s"])]
    expected = sum(t.fillna(0.0) for t in terms).to_numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_rank_standardisation_matches_scipy_average_ranks():
    s = scores()["f_d"]
    got = standardize(s, "rank", 3.0)
    for j in range(s.shape[1]):
        valid = np.isfinite(s[:, j])
        r = rankdata(s[valid, j]) - 1
        np.testing.assert_allclose(got[valid, j], 2 * r / (valid.sum() - 1) - 1, atol=1e-12)
        assert np.isnan(got[~valid, j]).all()


def test_market_level_factor_shifts_scores_without_changing_ranking():
    s = scores()
    regime = np.linspace(-4, 4, 20)
    with_market = {**s, "regime": np.tile(regime, (12, 1))}
    cfg = LinearParams(winsor_sigma=3.0)
    base = combine(s, {}, cfg).score
    moved = combine(with_market, {"regime": 0.5}, cfg).score
    np.testing.assert_allclose(moved - base, np.tile(0.5 * np.clip(regime, -3, 3), (12, 1)), atol=1e-12)


def test_missing_factor_value_is_neutral_and_no_value_at_all_is_nan():
    s = {"a": np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan]]),
         "b": np.array([[np.nan, np.nan], [1.0, np.nan], [0.0, np.nan]])}
    got = combine(s, {"a": 1.0, "b": 1.0}, LinearParams(winsor_sigma=5)).score
    assert got[0, 0] == pytest.approx(-1.0)  # only a's z (-1); b absent for this name
    assert np.isnan(got[:, 1]).all()


def test_weights_come_from_yaml_steps(pipeline_from_yaml):
    text = """
    name: w
    data: {source: sample}
    phases:
      post_market:
        schedule: "14:00"
        steps:
          - {plugin: f_stat, weight: 0.25}
          - {plugin: f_c, weight: -1.5}
    combine:
      interactions: [{term: "f_c*f_stat", weight: 0.1}]
    """
    pipeline = pipeline_from_yaml(text)
    assert {s.name: s.weight for s in pipeline.factor_steps} == {"f_stat": 0.25, "f_c": -1.5}
    assert pipeline.combiner.entry.name == "linear" and pipeline.portfolio.entry.name == "top_n"
    assert pipeline.combiner.params.interactions[0].factors == ("f_c", "f_stat")


def test_direction_respects_min_abs_score():
    score = np.array([[0.5, -0.05, np.nan, -0.2]])
    assert directions(score, 0.1).tolist() == [[1, 0, 0, -1]]


def test_confidence_is_in_unit_interval_and_grows_with_abs_score():
    score = np.array([[0.1], [-0.5], [1.0], [2.0], [-3.0]])
    c = confidences(score)[:, 0]
    assert ((c >= 0) & (c < 1)).all()
    assert np.all(np.diff(c[np.argsort(np.abs(score[:, 0]))]) > 0)


def test_signal_reason_names_the_strongest_terms():
    s = {"f_c": np.array([[3.0], [0.0], [-3.0]]), "f_s": np.array([[0.1], [0.0], [-0.1]])}
    combo = combine(s, {"f_c": 2.0, "f_s": 0.1}, LinearParams())
    frame = signals_frame(combo, ["A", "B", "C"], DATES[:1], LinearParams())
    assert list(frame.columns) == ["date", "symbol", "score", "direction", "confidence", "reason"]
    assert frame.loc[frame.symbol == "A", "reason"].item().startswith("f_c +2.00")
    assert frame.loc[frame.symbol == "C", "reason"].item().startswith("f_c -2.00")
