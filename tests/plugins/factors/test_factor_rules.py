"""Hand-computed cases, warm-up, no look-ahead, halts, missing inputs, registration and params."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from jgod_core import ComponentKind
from jgod_core.data.panel import Panel
from jgod_core.testing.contracts import check_factor
from jgod_plugins.factors import factor_classes
from jgod_plugins.factors.cross_market import CrossMarketFactor
from jgod_plugins.factors.cycle import CycleFactor
from jgod_plugins.factors.drive import DriveFactor
from jgod_plugins.factors.microstructure import MicrostructureFactor, MicrostructureParams
from jgod_plugins.factors.style import StyleFactor, volume_entropy
from jgod_plugins.sdk.factors import beta_zscore, factor_inputs, stock_beta_to_taiex, typical_price


def tiny_panel(close, volume=None, high=None, low=None, open_=None, series=None, industry=None, extra=None):
    close = np.atleast_2d(np.asarray(close, dtype=float))
    n, t = close.shape
    fields = {
        "close": close,
        "open": close if open_ is None else np.atleast_2d(np.asarray(open_, dtype=float)),
        "high": close if high is None else np.atleast_2d(np.asarray(high, dtype=float)),
        "low": close if low is None else np.atleast_2d(np.asarray(low, dtype=float)),
        "volume": np.ones((n, t)) if volume is None else np.atleast_2d(np.asarray(volume, dtype=float)),
        **(extra or {}),
    }
    symbols = tuple(f"{1101 + i}" for i in range(n))
    dates = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + t)
    attrs = {"industry": np.array(industry or ["半導體業"] * n, dtype=object)}
    return Panel(symbols, dates, fields, {k: np.asarray(v, float) for k, v in (series or {}).items()}, attrs,
                 {"taiex_close": "not in this test panel"})


# -- hand-computed cases ---------------------------------------------------------------------


def test_lac_is_volume_weighted_typical_price_hand_computed():
    typical = np.array([10.0, 11.0, 12.0, 13.0, 14.0])
    panel = tiny_panel(close=typical, high=typical + 1, low=typical - 1, volume=[1, 1, 1, 1, 4])
    result = CycleFactor(CycleFactor.Params(lac_window=5, min_valid_fraction=1.0)).compute(panel)
    assert np.isnan(result.components["lac"][0, :4]).all()
    assert result.components["lac"][0, 4] == pytest.approx(102.0 / 8.0, abs=1e-12)
    assert result.components["lac_deviation"][0, 4] == pytest.approx(14.0 - 12.75, abs=1e-12)


def test_volume_spike_compares_with_previous_bars_only_hand_computed():
    panel = tiny_panel(close=np.full(7, 50.0), volume=[10, 10, 10, 10, 10, 30, 5])
    spike = MicrostructureFactor(MicrostructureParams(spike_window=5, min_valid_fraction=1.0)).compute(panel)
    np.testing.assert_allclose(spike.components["volume_spike"][0, 5:], [3.0, 5.0 / 14.0])


def test_halted_day_zero_volume_is_not_a_traded_volume():
    close = np.full(8, 50.0)
    close[3] = np.nan
    volume = np.array([10, 10, 10, 0, 10, 10, 10, 20.0])
    halted = np.where(np.isnan(close), 1.0, 0.0)
    panel = tiny_panel(close=close, volume=volume, extra={"halted": np.atleast_2d(halted)})
    params = MicrostructureParams(spike_window=5, min_valid_fraction=0.8)
    spike = MicrostructureFactor(params).compute(panel).components["volume_spike"]
    assert spike[0, 7] == pytest.approx(2.0)  # baseline mean(10,10,10,10), the halted 0 skipped
    strict = MicrostructureFactor(params.model_copy(update={"min_valid_fraction": 1.0})).compute(panel)
    assert np.isnan(strict.components["volume_spike"][0, 7])  # a full valid window is required


def test_micro_reversal_hand_computed():
    bodies = np.array([0.01, -0.01, 0.01, 0.004, 0.004, 0.004, -0.03])
    params = MicrostructureParams(bar_size_window=5, run_length=3, small_ratio=1.0, large_ratio=2.0,
                                  min_valid_fraction=1.0)
    panel = tiny_panel(close=100.0 * (1 + bodies), open_=np.full(7, 100.0), high=np.full(7, 101.0),
                       low=np.full(7, 96.0))
    reversal = MicrostructureFactor(params).compute(panel).components["micro_reversal"][0]
    assert reversal[6] == pytest.approx(-0.03 / 0.0064, rel=1e-9)
    same_direction = tiny_panel(close=100.0 * (1 + np.r_[bodies[:6], 0.03]), open_=np.full(7, 100.0))
    assert MicrostructureFactor(params).compute(same_direction).components["micro_reversal"][0, 6] == 0.0


def test_regime_is_bull_above_band_bear_below_range_inside():
    taiex = np.r_[np.full(5, 100.0), 110.0, 100.0, 90.0]
    panel = tiny_panel(close=np.ones((2, 8)), series={"taiex_close": taiex})
    params = CycleFactor.Params(regime_ma_window=5, regime_band=0.02, min_valid_fraction=1.0)
    regime = CycleFactor(params).compute(panel).components["regime"]
    # MAs at positions 5, 6, 7: 102, 102, 100 → 110 bull, 100 range, 90 bear
    np.testing.assert_array_equal(regime[4:], [0.0, 1.0, 0.0, -1.0])
    assert np.isnan(regime[:4]).all()


def test_volume_entropy_hand_computed():
    volume = np.array([[1.0, 5.0, 7.0], [1.0, 5.0, 0.0], [2.0, 5.0, np.nan]])
    entropy = volume_entropy(volume)
    expected0 = -(2 * 0.25 * np.log(0.25) + 0.5 * np.log(0.5)) / np.log(3)
    np.testing.assert_allclose(entropy, [expected0, 1.0, np.nan], equal_nan=True)


def test_basis_is_tx_minus_taiex_and_lead_is_return_gap():
    taiex = np.array([100.0, 101.0, 102.0])
    tx = np.array([99.0, 101.5, 102.0])
    panel = tiny_panel(close=np.ones((2, 3)), series={"taiex_close": taiex, "tx_close": tx})
    comps = CrossMarketFactor().compute(panel).components
    np.testing.assert_allclose(comps["basis"], [-1.0, 0.5, 0.0])
    np.testing.assert_allclose(comps["futures_lead"][1:], [101.5 / 99 - 101 / 100, 102 / 101.5 - 102 / 101])


def test_dupont_roe_is_net_income_over_equity_when_fundamentals_present():
    ones = np.ones((2, 3))
    fundamentals = {"net_income": 10 * ones, "revenue": 100 * ones, "total_assets": 200 * ones,
                    "equity": np.array([[50.0] * 3, [-5.0] * 3])}
    comps = DriveFactor().compute(tiny_panel(close=ones, extra=fundamentals)).components
    np.testing.assert_allclose(comps["dupont_roe"][0], 0.2)
    assert np.isnan(comps["dupont_roe"][1]).all()  # negative equity: undefined, not a number
    np.testing.assert_allclose(comps["equity_multiplier"][0], 4.0)


def test_margin_breadth_counts_abnormal_changes_when_margin_data_present():
    rng = np.random.default_rng(5)  # hand-built margin balances (no margin data in the sample)
    balance = 1000 * np.cumprod(1 + rng.normal(0, 0.01, size=(4, 40)), axis=1)
    balance[0, 30] = balance[0, 29] * 1.5  # one abnormal jump
    panel = tiny_panel(close=np.ones((4, 40)), extra={"margin_balance": balance})
    params = StyleFactor.Params(margin_change_window=20, margin_breadth_window=20, margin_abnormal_z=2.0,
                                min_valid_fraction=1.0)
    result = StyleFactor(params).compute(panel)
    breadth = result.components["margin_breadth"]
    assert breadth[30] == pytest.approx(0.25)
    assert "margin_breadth" not in result.missing


# -- warm-up, look-ahead, halts ---------------------------------------------------------------


@pytest.mark.parametrize("factor", factor_classes(), ids=lambda f: f.name)
def test_no_score_before_warmup_and_values_after(sample_panel, factor):
    warmup = factor.warmup_days(factor.Params())
    score = factor().compute(sample_panel).score
    assert np.isnan(score[:, :warmup]).all()
    assert np.isfinite(score[:, warmup:warmup + 30]).any()


def test_252_day_zscore_has_no_value_before_its_history(sample_panel):
    z = CycleFactor().compute(sample_panel).components["lac_deviation_z"]
    first = np.flatnonzero(np.isfinite(z).any(axis=0))[0]
    assert first == 60 + 252 - 2


PER_SYMBOL_COMPONENTS = {
    CycleFactor: ("lac", "lac_deviation", "lac_deviation_z"),
    MicrostructureFactor: ("volume_spike", "signed_volume_spike", "vwap_deviation", "micro_reversal"),
    CrossMarketFactor: ("market_beta",),
}


@pytest.mark.parametrize("factor", factor_classes(), ids=lambda f: f.name)
def test_every_builtin_factor_meets_the_kit_factor_contract(sample_panel, factor):
    """check_factor: shapes, warm-up NaN, no look-ahead (data after t perturbed), per-symbol independence."""
    outputs = {"score", *factor().compute(sample_panel).components}
    cross_sectional = outputs - set(PER_SYMBOL_COMPONENTS.get(factor, ()))  # z-scores, exposures, group means
    report = check_factor(factor, sample_panel, cut=500, cross_sectional=cross_sectional)
    assert report.cut == 500 and report.warmup == factor.warmup_days(factor.Params())
    assert set(report.outputs) - set(report.changed_after_cut) <= {"regime"}  # the perturbation reached them
    assert set(report.per_symbol_checked) == set(PER_SYMBOL_COMPONENTS.get(factor, ()))


@pytest.mark.parametrize("keep", [slice(0, 11), slice(5, 6), slice(1, 12, 2)], ids=["11", "1", "6-odd-positions"])
def test_per_symbol_components_do_not_depend_on_the_other_symbols(sample_panel, keep):
    rows = list(range(len(sample_panel.symbols)))[keep]
    subset = Panel(tuple(sample_panel.symbols[i] for i in rows), sample_panel.dates,
                   {k: np.ascontiguousarray(v[rows]) for k, v in sample_panel.fields.items()}, sample_panel.series,
                   {k: v[rows] for k, v in sample_panel.attributes.items()}, sample_panel.missing)
    for factor, names in PER_SYMBOL_COMPONENTS.items():
        full, part = factor().compute(sample_panel), factor().compute(subset)
        for name in names:
            assert np.isfinite(part.components[name]).any(), name
            np.testing.assert_array_equal(part.components[name], full.components[name][rows], err_msg=name)


def test_halt_blanks_strict_windows_but_not_tolerant_ones(sample_panel):
    i = sample_panel.symbols.index("2474")
    j = int(np.flatnonzero(sample_panel.dates == np.datetime64("2020-08-18"))[0])
    assert sample_panel.fields["halted"][i, j] == 1.0
    strict = CycleFactor(CycleFactor.Params(min_valid_fraction=1.0)).compute(sample_panel).components["lac"][i]
    tolerant = CycleFactor().compute(sample_panel).components["lac"][i]
    assert np.isnan(strict[j:j + 60]).all() and np.isfinite(strict[j + 60])
    assert np.isfinite(tolerant[j + 1:j + 60]).all()


# -- inputs shared through the panel ----------------------------------------------------------


def _new_instance(panel: Panel) -> Panel:
    return Panel(panel.symbols, panel.dates, panel.fields, panel.series, panel.attributes, panel.missing)


def test_factors_sharing_one_panel_equal_each_factor_on_its_own_panel(sample_panel):
    shared = _new_instance(sample_panel)
    strict = {"min_valid_fraction": 1.0}  # other params: shared inputs are keyed by them
    together = [f(f.Params(**p)).compute(shared) for p in ({}, strict) for f in reversed(factor_classes())]
    alone = [f(f.Params(**p)).compute(_new_instance(sample_panel)) for p in ({}, strict) for f in reversed(factor_classes())]
    for a, b in zip(together, alone):
        assert a.components.keys() == b.components.keys()
        np.testing.assert_array_equal(a.score, b.score, err_msg=a.factor)
        for name in a.components:
            np.testing.assert_array_equal(a.components[name], b.components[name], err_msg=f"{a.factor}.{name}")


def test_shared_inputs_are_computed_once_per_panel_instance_and_read_only(sample_panel):
    panel = _new_instance(sample_panel)
    params = CrossMarketFactor.Params()
    inputs = factor_inputs(panel)
    assert factor_inputs(panel) is inputs
    assert beta_zscore(panel, params) is beta_zscore(panel, params)
    assert factor_inputs(_new_instance(sample_panel)) is not inputs
    assert factor_inputs(panel.window(0, 100)) is not inputs
    for arr in (inputs.close, inputs.volume, inputs.returns, typical_price(panel),
                stock_beta_to_taiex(panel, params), beta_zscore(panel, params)):
        with pytest.raises(ValueError, match="read-only"):
            arr[0, 0] = 1.0
    market_beta = CrossMarketFactor().compute(panel).components["market_beta"]
    market_beta[0, -1] = 123.0  # a factor's output is its own: writing it leaves the shared beta alone
    assert stock_beta_to_taiex(panel, params)[0, -1] != 123.0


# -- missing inputs -----------------------------------------------------------------------------


def test_components_without_their_input_are_missing_with_reason_never_filled(sample_panel):
    bare = Panel(sample_panel.symbols, sample_panel.dates, sample_panel.fields, {}, sample_panel.attributes,
                 {"vix_close": "VIX source not configured"})
    results = {f.name: f().compute(bare) for f in factor_classes()}
    expected_missing = {
        "f_c": ["regime", "regime_exposure"],
        "f_s": ["vix_zscore", "vix_slope", "vix_exposure", "margin_breadth", "news_sentiment"],
        "f_d": ["dupont_roe"],
        "f_exec": ["basis", "basis_residual", "futures_lead", "global_beta_residual", "market_beta"],
        "f_stat": ["book_imbalance"],
    }
    for factor, names in expected_missing.items():
        for name in names:
            assert name in results[factor].missing, (factor, name)
            assert name not in results[factor].components, (factor, name)
    assert "VIX source not configured" in results["f_s"].missing["vix_zscore"]
    assert np.isfinite(results["f_c"].score).any()  # what the data supports is still computed


def test_global_beta_residual_falls_back_to_sp500_when_es_absent(sample_panel):
    series = dict(sample_panel.series)
    series["sp500_close"] = series.pop("es_close")
    panel = Panel(sample_panel.symbols, sample_panel.dates, sample_panel.fields, series, sample_panel.attributes)
    assert np.isfinite(CrossMarketFactor().compute(panel).components["global_beta_residual"]).any()


def test_flow_etf_absent_from_universe_is_missing(sample_panel):
    result = CrossMarketFactor(CrossMarketFactor.Params(flow_etf="0056")).compute(sample_panel)
    assert "0056" in result.missing["etf_flow_volume_z"]


def test_factor_result_long_format_marks_market_components(sample_panel):
    long = CycleFactor().compute(sample_panel).to_long(sample_panel)
    assert set(long.loc[long.component == "regime", "symbol"]) == {"*"}
    assert long["value"].notna().all()


# -- registration and params ---------------------------------------------------------------------


def test_all_five_factors_are_registered_by_short_name(jgod_kernel):
    names = set(jgod_kernel.registry.names(ComponentKind.FACTOR))
    assert {"f_c", "f_s", "f_d", "f_stat", "f_exec"} <= names


@pytest.mark.parametrize("bad", [
    (MicrostructureFactor, {"spike_window": 25}),
    (MicrostructureFactor, {"small_ratio": 1.0, "large_ratio": 0.5}),
    (CycleFactor, {"min_valid_fraction": 0.2}),
    (DriveFactor, {"theme_groups": {"AI Hardware": ["半導體業"]}}),
    (CycleFactor, {"lac_windw": 60}),
])
def test_out_of_bounds_or_unknown_params_are_rejected(bad):
    cls, params = bad
    with pytest.raises(ValidationError):
        cls.Params(**params)


def test_every_params_field_has_a_description():
    for factor in factor_classes():
        for name, field in factor.Params.model_fields.items():
            assert field.description, f"{factor.name}.{name}"
