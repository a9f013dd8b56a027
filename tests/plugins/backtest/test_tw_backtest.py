"""tw_backtest: a hand-computed case with exact NT$ figures, and each Taiwan rule on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from jgod_core.data.panel import Panel
from jgod_plugins.backtest.tw_backtest import TaiwanBacktest, TaiwanBacktestParams
from jgod_plugins.tw_market import rules as market_rules

NAN = np.nan
DATES = np.array(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"], dtype="datetime64[D]")


def hand_panel() -> Panel:
    """1101 (stock) and 0050 (ETF, halted on day 1) over five trading days.

    Day 2: 1101 opens at limit-down (ref 42.00 → 37.80), 0050 opens at limit-up (ref 12.00
    carried over the halt → 13.20).
    """
    open_ = np.array([[40.0, 41.0, 37.8, 38.0, 38.5],
                      [12.0, NAN, 13.2, 12.5, 12.6]])
    close = np.array([[40.0, 42.0, 38.0, 38.5, 39.0],
                      [12.0, NAN, 13.2, 12.6, 12.7]])
    halted = np.array([[0.0, 0, 0, 0, 0], [0.0, 1, 0, 0, 0]])
    return Panel(("1101", "0050"), DATES, {"open": open_, "close": close, "halted": halted},
                 attributes={"security_type": np.array(["stock", "ETF"], dtype=object)})


def hand_targets() -> np.ndarray:
    w = np.full((2, 5), NAN)
    w[:, 0] = [0.5, 0.012]   # 1101: 0.5 × 1,000,000 / 40 = 12.5 lots → 12 lots; 0050: 1 lot
    w[:, 1] = [0.0, NAN]     # sell 1101; 0050 has no price (halted) → keeps its standing target
    w[:, 3] = [0.0, 0.0]     # sell everything
    return w


def run(panel=None, targets=None, **params):
    bt = TaiwanBacktest(TaiwanBacktestParams(initial_cash=1_000_000, **params))
    return bt.run(panel or hand_panel(), hand_targets() if targets is None else targets)


def test_hand_computed_three_rule_case_matches_exact_nt_dollars():
    result = run()
    trades = result.trades
    expected = pd.DataFrame({
        "date": pd.to_datetime(["2024-01-03", "2024-01-05", "2024-01-05", "2024-01-08"]),
        "symbol": ["1101", "1101", "0050", "0050"],
        "side": ["buy", "sell", "buy", "sell"],
        "shares": [12000, 12000, 1000, 1000],
        "price": [41.0, 38.0, 12.5, 12.6],
        # 492,000 × 0.1425 % = 701.1 → 701; 456,000 → 649.8 → 649; 12,500 and 12,600 → floor NT$20
        "commission": [701.0, 649.0, 20.0, 20.0],
        # stock tax 0.3 % of 456,000 = 1,368; ETF tax 0.1 % of 12,600 = 12.6 → 12
        "tax": [0.0, 1368.0, 0.0, 12.0],
    })
    pd.testing.assert_frame_equal(trades.reset_index(drop=True), expected, check_dtype=False)

    eq = result.equity.set_index("date")
    # day 1: paid 492,701 due T+2 (day 3); 12,000 × 42 = 504,000 held
    # day 3: cash 1,000,000 − 492,701 = 507,299 settles; sells 453,983 and buys −12,520 pending
    # day 4: + 12,600 − 20 − 12 = 12,568 pending
    assert eq["equity"].tolist() == [1_000_000.0, 1_011_299.0, 963_299.0, 961_362.0, 961_330.0]
    assert eq["cash"].tolist() == [1_000_000.0, 1_000_000.0, 1_000_000.0, 507_299.0, 507_299.0]
    assert eq["unsettled"].tolist() == [0.0, -492_701.0, -492_701.0, 441_463.0, 454_031.0]
    assert eq["gross"].iloc[1] == pytest.approx(504_000 / 1_011_299)
    assert eq["net"].iloc[-1] == 0.0


def test_buy_at_limit_up_does_not_fill():
    trades = run().trades
    assert not ((trades["symbol"] == "0050") & (trades["date"] == "2024-01-04")).any()


def test_sell_at_limit_down_does_not_fill():
    trades = run().trades
    assert not ((trades["symbol"] == "1101") & (trades["date"] == "2024-01-04")).any()


def test_halted_day_does_not_trade():
    trades = run().trades
    assert not ((trades["symbol"] == "0050") & (trades["date"] == "2024-01-03")).any()


def test_signal_at_close_t_never_trades_at_t():
    for lag in (1, 2, 3):
        trades = run(execution_lag_days=lag).trades
        first_trade = trades["date"].min()
        assert first_trade >= pd.Timestamp(DATES[lag])


def test_execution_lag_zero_is_rejected():
    with pytest.raises(ValidationError):
        TaiwanBacktestParams(execution_lag_days=0)


def test_lag_two_moves_the_first_fill_to_day_two():
    trades = run(execution_lag_days=2).trades
    # 1101's buy decided on day 0 fills on day 2 at 37.80 (a buy at limit-down is allowed)
    first = trades.iloc[0]
    assert (first["date"], first["symbol"], first["side"], first["shares"], first["price"]) == \
        (pd.Timestamp("2024-01-04"), "1101", "buy", 12000, 37.8)


def test_odd_lot_mode_trades_single_shares():
    trades = run(odd_lot=True).trades
    assert trades.iloc[0]["shares"] == 12500  # 500,000 / 40


def test_commission_discount_and_floor():
    trades = run(commission_discount=0.28).trades
    # 492,000 × 0.1425 % × 0.28 = 196.308 → 196; small trades stay at the NT$20 floor
    assert trades["commission"].tolist() == [196.0, 181.0, 20.0, 20.0]


def test_costs_equal_market_rules_functions():
    trades = run(commission_discount=0.5).trades
    notional = trades["shares"] * trades["price"]
    etf = trades["symbol"].str.startswith("00")
    np.testing.assert_array_equal(trades["commission"], market_rules.commission(notional, discount=0.5))
    sells = trades["side"] == "sell"
    np.testing.assert_array_equal(trades.loc[sells, "tax"], market_rules.sell_tax(notional[sells], etf[sells]))
    assert (trades.loc[~sells, "tax"] == 0).all()


def test_buy_never_exceeds_buying_power():
    w = np.full((2, 5), NAN)
    w[:, 0] = [1.0, 0.0]  # 25 lots at 40 on day 0, but day 1 opens at 41: 25 lots cost 1,026,461
    result = run(targets=w)
    buy = result.trades.iloc[0]
    assert buy["shares"] == 24000  # the largest whole-lot order the cash covers
    assert (result.equity["cash"] + result.equity["unsettled"] >= 0).all()


def test_fill_price_on_the_tick_ladder():
    panel = hand_panel()
    panel.fields["open"][0, 1] = 41.013  # off the ladder (tick 0.05 between 10 and 50)
    trades = run(panel=panel).trades
    assert trades.iloc[0]["price"] == 41.0
    assert market_rules.is_on_tick(trades["price"].to_numpy(), trades["symbol"].str.startswith("00").to_numpy()).all()


def test_short_sale_pays_tax_and_is_credited():
    w = np.full((2, 5), NAN)
    w[:, 0] = [-0.5, 0.0]
    result = run(targets=w)
    sale = result.trades.iloc[0]
    assert (sale["side"], sale["shares"], sale["price"]) == ("sell", 12000, 41.0)
    assert sale["tax"] == 1476.0  # 0.3 % of 492,000
    assert result.equity["net"].iloc[1] < 0


def test_in_loop_ladder_equals_market_rules_on_every_real_price_and_a_dense_grid():
    from importlib.resources import files

    from jgod_plugins.backtest.tw_backtest import LADDER, _on_ladder

    sample = files("jgod_plugins.data") / "sample_data" / "daily" / \
        "twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz"
    real = pd.read_csv(sample, usecols=["close"])["close"].dropna().unique()
    grid = np.round(np.arange(1.0, 2100.0, 0.007), 3)
    for prices in (real, grid, real * 1.1, real * 0.9):
        for etf in (False, True):
            flags = np.full(prices.shape, etf)
            for mode, expected in ((0, market_rules.round_to_tick(prices, flags)),
                                   (1, market_rules.round_to_tick(prices, flags, mode="down")),
                                   (2, market_rules.round_to_tick(prices, flags, mode="up"))):
                got = np.array([_on_ladder(p, etf, mode, LADDER) for p in prices])
                np.testing.assert_array_equal(got, expected)
    refs = real[:2000]
    np.testing.assert_array_equal(np.array([_on_ladder(r * 1.1, False, 1, LADDER) for r in refs]),
                                  market_rules.limit_up(refs))
    np.testing.assert_array_equal(np.array([_on_ladder(r * 0.9, False, 2, LADDER) for r in refs]),
                                  market_rules.limit_down(refs))


def test_price_limit_is_the_one_in_force_on_the_day():
    """1101 opens 7 % above its reference: limit-up before 2015-06-01 (±7 %), tradable after (±10 %)."""
    open_ = np.array([[100.0, 107.0]])
    close = np.array([[100.0, 107.0]])
    targets = np.array([[0.5, NAN]])  # 0.5 × 1,000,000 / 100 = 5 lots

    def buys(dates: list[str]) -> pd.DataFrame:
        panel = Panel(("1101",), np.array(dates, dtype="datetime64[D]"), {"open": open_, "close": close},
                      attributes={"security_type": np.array(["stock"], dtype=object)})
        return run(panel, targets).trades

    assert buys(["2015-05-28", "2015-05-29"]).empty
    after = buys(["2015-06-01", "2015-06-02"])
    assert list(after["price"]) == [107.0] and list(after["shares"]) == [5000]


def test_execution_assumptions_state_the_configured_lag_and_fill_price():
    from jgod_core.plugin.components import ExecutionAssumptions
    from jgod_plugins.backtest.tw_backtest import TaiwanBacktest

    backtester = TaiwanBacktest(TaiwanBacktest.Params(execution_lag_days=2, fill_price="close"))
    assert backtester.execution_assumptions() == ExecutionAssumptions(lag_days=2, fill_price="close")
    assert TaiwanBacktest().execution_assumptions() == ExecutionAssumptions(lag_days=1, fill_price="open")
