"""Predictive risk rules against hand-computed cases and the real recorded order book."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from decimal import Decimal
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from jgod_core.execution.orders import Action, Order, Side, TradingState
from jgod_core.risk.engine import RiskContext, RiskEngine
from jgod_core.risk.market_view import StaticMarketView
from jgod_plugins.risk.circuit_breaker import CircuitBreakerRule
from jgod_plugins.risk.fragility import FragilityRule
from jgod_plugins.risk.macro_exposure import MacroExposureParams, MacroExposureRule, macro_score, macro_terms
from jgod_plugins.risk.portfolio_stress import PortfolioStressRule
from jgod_plugins.risk.position_limit import PositionLimitRule
from jgod_plugins.risk.predicted_slippage import PredictedSlippageParams, PredictedSlippageRule
from jgod_plugins.tw_market.impact import Book5, daily_bar_slippage, walk_book, walk_books

NOW = dt.datetime(2024, 8, 9, 9, 0)
BTC_UNITS = 100_000  # order quantities in 0.00001 BTC; 1,000 units = 0.01 BTC plays the "lot"


def _btc_book_frame() -> pd.DataFrame:
    root = files("jgod_plugins.data") / "sample_data" / "intraday"
    folder = next(p for p in root.iterdir() if p.name.startswith("binance_spot_btcusdt"))
    return pd.read_csv(folder / "spot_btcusdt_book5.csv.gz")


@pytest.fixture(scope="module")
def btc_books() -> pd.DataFrame:
    return _btc_book_frame()


def _book(row: pd.Series, scale: float = 1.0) -> Book5:
    def side(name, what):
        return np.array([row[f"{name}_{what}_{k}"] for k in range(1, 6)], dtype=float) * (scale if what == "qty" else 1)
    return Book5(side("bid", "px"), side("bid", "qty"), side("ask", "px"), side("ask", "qty"))


def btc_order(quantity_btc: float, side=Side.BUY, price="70000") -> Order:
    return Order("btc1", "BTCUSDT", side, int(round(quantity_btc * BTC_UNITS)), Decimal(price), Decimal(price))


# -- predicted slippage ---------------------------------------------------------------------------


def test_walk_of_real_book_matches_hand_computation(btc_books):
    book = _book(btc_books.iloc[0])  # asks 61837.64 × 1.60520, 61837.65 × 0.00843, …
    walk = walk_book(book, 1.61, buy=True)
    expected = (1.60520 * 61837.64 + 0.00480 * 61837.65) / 1.61
    assert walk.filled == pytest.approx(1.61)
    assert walk.average_price == pytest.approx(expected, rel=1e-12)
    assert walk.slippage == pytest.approx((expected - 61837.64) / 61837.64, rel=1e-9)
    assert walk.levels == 2


def test_walk_of_every_recorded_snapshot_matches_an_independent_cumsum(btc_books):
    asks_px = btc_books[[f"ask_px_{k}" for k in range(1, 6)]].to_numpy(float)
    asks_qty = btc_books[[f"ask_qty_{k}" for k in range(1, 6)]].to_numpy(float)
    quantity = 0.5
    filled, average = walk_books(asks_px, asks_qty, quantity)
    # independent: cumulative depth, clipped take per level
    cum = np.cumsum(asks_qty, axis=1)
    take = np.clip(quantity - np.hstack([np.zeros((len(cum), 1)), cum[:, :-1]]), 0, asks_qty)
    expected_filled = take.sum(axis=1)
    expected_avg = (take * asks_px).sum(axis=1) / expected_filled
    assert len(btc_books) == 6493
    np.testing.assert_allclose(filled, expected_filled, rtol=1e-12)
    np.testing.assert_allclose(average, expected_avg, rtol=1e-12)


def test_predicted_slippage_slices_an_order_deeper_than_the_book(btc_books):
    book = _book(btc_books.iloc[0], BTC_UNITS)
    ctx = RiskContext(NOW, market=StaticMarketView(books={"BTCUSDT": book}))
    verdict = PredictedSlippageRule().check(btc_order(2.0), ctx)
    # 5 ask levels hold 1.61547 BTC, all within 0.05 % of the touch → slices of at most 1.61 BTC
    assert verdict.action is Action.APPROVE and verdict.numbers["model"] == "book"
    assert verdict.numbers["predicted_slippage"] == math.inf
    assert verdict.max_slice_shares == 161_000
    assert "sliced to at most 161 lots per slice" in verdict.reason


def test_predicted_slippage_rejects_when_one_lot_walks_past_tolerance():
    book = Book5(np.array([99.0] * 5), np.array([1000.0] * 5), np.array([100.0, 101.0, 102.0, 103.0, 104.0]),
                 np.array([500.0, 500.0, 500.0, 500.0, 500.0]))
    ctx = RiskContext(NOW, market=StaticMarketView(books={"X": book}))
    order = Order("x", "X", Side.BUY, 1000, Decimal("104"), Decimal("100"))
    verdict = PredictedSlippageRule(PredictedSlippageParams(max_slippage=0.001)).check(order, ctx)
    # 1,000 shares: 500 @ 100 + 500 @ 101 → average 100.5, slippage 0.005 > 0.001; largest within: 500 + x
    assert verdict.denied and verdict.numbers["predicted_slippage"] == pytest.approx(0.005)
    assert "even one lot exceeds the tolerance" in verdict.reason


def test_daily_bar_model_against_hand_computation():
    closes = np.array([100.0, 101.0, 99.0, 100.0])
    volumes = np.array([1e6, 1e6, 1e6, 1e6])
    est = daily_bar_slippage(10_000, 100.0, closes, volumes)
    sigma = statistics.stdev([math.log(101 / 100), math.log(99 / 101), math.log(100 / 99)])
    assert est.sigma_daily == pytest.approx(sigma)
    assert est.half_spread == pytest.approx(0.25 / 100)  # tick 0.5 at 100
    assert est.impact == pytest.approx(0.5 * sigma * math.sqrt(10_000 / 1e6))
    ctx = RiskContext(NOW, market=StaticMarketView(daily={"2330": {"close": closes, "volume": volumes}}))
    verdict = PredictedSlippageRule().check(Order("o", "2330", Side.BUY, 10_000, Decimal("100"), Decimal("100")), ctx)
    cap = 1e6 * (0.0005 / (0.5 * sigma)) ** 2  # impact ≤ tol ⇔ Q ≤ ADV (tol / (c σ))²
    assert verdict.numbers["model"] == "daily_bar_estimate"
    assert verdict.max_slice_shares == int(cap // 1000) * 1000 == 3000


def test_predicted_slippage_blocks_without_data():
    ctx = RiskContext(NOW, market=StaticMarketView())
    verdict = PredictedSlippageRule().check(Order("o", "2330", Side.BUY, 1000, Decimal("100"), Decimal("100")), ctx)
    assert verdict.denied and "no daily bars for 2330" in verdict.reason


# -- fragility ------------------------------------------------------------------------------------

BARS = {"open": np.array([100.0, 101.0]), "high": np.array([102.0, 101.5]), "low": np.array([99.0, 100.5]),
        "close": np.array([101.0, 101.0]), "volume": np.array([10_000.0, 20_000.0])}


def test_fragility_cost_per_tick_hand_computed_and_size_halved():
    # day 1: shortest path O→L→H→C = 1 + 3 + 1 = 5 points = 10 ticks of 0.5; day 2: 2 points = 4 ticks
    ctx = RiskContext(NOW, market=StaticMarketView(daily={"1101": BARS}))
    verdict = FragilityRule().check(Order("o", "1101", Side.BUY, 4000, Decimal("101"), Decimal("101")), ctx)
    assert verdict.numbers["cost_per_tick"] == pytest.approx(30_000 / 14)
    assert verdict.action is Action.REDUCE and verdict.quantity == 2000 and verdict.slice_factor == 0.5
    assert verdict.reason == ("fragility: cost per tick 2,143 < 5,000; size × 0.5 (4000 → 2000 shares), slices × 0.5")


def test_fragility_passes_liquid_names_and_reducing_orders():
    liquid = {**BARS, "volume": BARS["volume"] * 10}
    ctx = RiskContext(NOW, market=StaticMarketView(daily={"1101": liquid}))
    assert not FragilityRule().check(Order("o", "1101", Side.BUY, 4000, Decimal("101"), Decimal("101")), ctx).denied
    thin = RiskContext(NOW, market=StaticMarketView(daily={"1101": BARS}), positions={"1101": 4000})
    verdict = FragilityRule().check(Order("s", "1101", Side.SELL, 4000, Decimal("101"), Decimal("101")), thin)
    assert verdict.action is Action.APPROVE and verdict.quantity == 4000


# -- macro exposure -------------------------------------------------------------------------------


@pytest.mark.parametrize("terms, score", [
    ({"basis_residual": -60, "global_beta_residual": 0.06, "vix_slope": 0.6, "vix_z": 1.0}, 0.4 + 0.3 + 0.3 + 0.3),
    ({"basis_residual": -50, "global_beta_residual": 0.05, "vix_slope": 0.5, "vix_z": 0.0}, 0.0),  # thresholds strict
    ({"basis_residual": -51, "vix_z": -2.0}, 0.4 - 0.6),
    ({"vix_z": 1.0}, 0.3),
])
def test_macro_score_hand_computed(terms, score):
    assert macro_score(terms, MacroExposureParams(vix_risk_beta=0.3)) == pytest.approx(score)


def test_macro_terms_from_series_hand_computed():
    p = MacroExposureParams(basis_window=5, beta_window=10, vix_slope_window=5, vix_z_window=25)
    taiex = np.full(30, 10_000.0)
    tx = taiex.copy()
    tx[-1] = 9_900.0  # basis over the last 5: 0, 0, 0, 0, −100 → mean −20 → residual −80
    vix = np.arange(25.0) + 10  # slope 1.0; z = (34 − 22) / stdev(10..34)
    es = np.exp(np.cumsum(np.r_[0.0, np.tile([0.01, -0.005], 15)[:29]])) * 5000
    view = StaticMarketView(market_series={"taiex_close": taiex, "tx_close": tx, "vix_close": vix, "es_close": es})
    terms, missing = macro_terms(view, p)
    assert terms["basis_residual"] == pytest.approx(-80.0)
    assert terms["vix_slope"] == pytest.approx(1.0)
    assert terms["vix_z"] == pytest.approx((34 - 22) / statistics.stdev(range(10, 35)))
    assert missing == {}
    rule = MacroExposureRule(p)
    ctx = RiskContext(NOW, market=view)
    verdict = rule.check(Order("o", "2330", Side.BUY, 10_000, Decimal("600"), Decimal("600")), ctx)
    expected_score = 0.4 + 0.3 + terms["vix_z"] * 0.3 + (0.3 if terms["global_beta_residual"] > 0.05 else 0)
    assert verdict.numbers["score"] == pytest.approx(expected_score)
    assert verdict.denied  # exposure clip(1 − score) = 0 → nothing fits


def test_macro_exposure_names_missing_inputs():
    view = StaticMarketView(market_series={"vix_close": np.full(30, 15.0)}, missing={"tx_close": "no TX loaded"})
    verdict = MacroExposureRule().check(Order("o", "2330", Side.BUY, 10_000, Decimal("600"), Decimal("600")),
                                        RiskContext(NOW, market=view))
    assert "missing basis_residual (no TX loaded)" in verdict.reason
    assert verdict.quantity == 10_000  # vix flat: slope 0, z undefined (std 0) → score 0


# -- portfolio stress -----------------------------------------------------------------------------


def test_portfolio_stress_reduces_to_the_single_name_limit():
    ctx = RiskContext(NOW, positions={"2317": 10_000}, mark_prices={"2317": 100.0}, equity=10_000_000)
    verdict = PortfolioStressRule().check(Order("o", "2330", Side.BUY, 30_000, Decimal("600"), Decimal("600")), ctx)
    # 2330 limit-down from 600 is 540: 60 NT$/share; 0.02 × 10M / 60 = 3,333 → 3,000 shares
    assert verdict.numbers["loss_per_share"] == pytest.approx(60.0)
    assert verdict.numbers["single_name_drawdown"] == pytest.approx(30_000 * 60 / 10_000_000)
    assert verdict.action is Action.REDUCE and verdict.quantity == 3000


def test_portfolio_stress_book_limit_binds_when_other_holdings_already_lose():
    positions = {f"S{k}": 10_000 for k in range(11)}  # each 10,000 @ 100 → 100,000 at limit-down, 1.1M in all
    ctx = RiskContext(NOW, positions=positions, mark_prices={s: 100.0 for s in positions}, equity=10_000_000)
    verdict = PortfolioStressRule().check(Order("o", "2330", Side.BUY, 3000, Decimal("600"), Decimal("600")), ctx)
    # book room: 0.12 × 10M − 1.1M = 100,000 → 100,000 / 60 = 1,666 → 1,000 shares
    assert verdict.quantity == 1000


# -- position limit -------------------------------------------------------------------------------


def test_position_limit_reduces_to_the_symbol_cap():
    ctx = RiskContext(NOW, positions={"2330": 1000}, mark_prices={"2330": 600.0}, equity=10_000_000)
    verdict = PositionLimitRule().check(Order("o", "2330", Side.BUY, 5000, Decimal("600"), Decimal("600")), ctx)
    # cap: 0.15 × 10M / 600 = 2,500 → 2,000 shares; position 1,000 → buy 1,000
    assert verdict.quantity == 1000 and "max_position_fraction" in verdict.reason


# -- circuit breaker ------------------------------------------------------------------------------


def _stream(values, minutes_ago):
    return pd.Series(values, index=[NOW - dt.timedelta(minutes=m) for m in minutes_ago])


def test_circuit_breaker_halts_on_five_minute_sharpe():
    window = [-0.001, -0.002, 0.0005, -0.0015, -0.001, -0.002]
    stream = _stream([0.01, 0.02] + window, [10, 9, 4.5, 4, 3, 2, 1, 0])
    ctx = RiskContext(NOW, return_stream=stream)
    engine = RiskEngine([CircuitBreakerRule()])
    decision = engine.check(Order("o", "2330", Side.BUY, 1000, Decimal("600"), Decimal("600")), ctx)
    sharpe = statistics.mean(window) / statistics.stdev(window)
    assert decision.denied and decision.verdicts[-1].numbers["sharpe"] == pytest.approx(sharpe)
    assert engine.state is TradingState.HALTED


def test_circuit_breaker_halts_on_mean_residual_above_three_sigma():
    stream = _stream([0.004, 0.0035, 0.0045, 0.004, 0.004], [4, 3, 2, 1, 0])
    ctx = RiskContext(NOW, residual_stream=stream, residual_sigma=0.001)
    verdict = CircuitBreakerRule().check(Order("o", "2330", Side.BUY, 1000, Decimal("600"), Decimal("600")), ctx)
    assert verdict.denied and verdict.state_request is TradingState.HALTED
    assert verdict.numbers["mean_residual"] == pytest.approx(0.004)


def test_circuit_breaker_without_intraday_stream_says_it_is_inactive():
    verdict = CircuitBreakerRule().check(Order("o", "2330", Side.BUY, 1000, Decimal("600"), Decimal("600")),
                                         RiskContext(NOW))
    assert not verdict.denied and "inactive" in verdict.reason


def test_engine_monitor_trips_the_breaker_between_orders_and_cancels_working_orders():
    from jgod_plugins.execution.paper import PaperBroker
    from jgod_plugins.execution.slicer import SlicerRouter

    engine = RiskEngine([CircuitBreakerRule()])
    broker = PaperBroker()
    broker.set_day({})  # nothing fills: the order keeps working
    ctx = RiskContext(NOW)
    parent = engine.check(Order("w", "2330", Side.BUY, 1000, Decimal("600"), Decimal("600")), ctx).approved
    child = SlicerRouter().schedule(parent)[0]
    engine.send(engine.check_child(parent, child, ctx).approved, broker)
    assert engine.monitor(ctx, [broker]) is None  # no stream yet: nothing to judge
    ctx.return_stream = _stream([-0.001, -0.002, 0.0005, -0.0015, -0.001, -0.002], [4.5, 4, 3, 2, 1, 0])
    verdict = engine.monitor(ctx, [broker])
    assert verdict is not None and engine.state is TradingState.HALTED
    assert broker.open_orders() == []
    assert engine.state_store.current().reason.startswith("circuit_breaker: 5-minute Sharpe")
