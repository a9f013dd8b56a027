"""T+2 settlement: the shared ledger, and the paper loop's settled / unsettled cash against hand-computed NT$."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from jgod_core.data.panel import Panel
from jgod_core.execution.paper import PaperSettings, run_paper
from jgod_plugins.execution.paper import PaperBroker
from jgod_plugins.execution.slicer import SlicerRouter
from jgod_plugins.tw_market.settlement import SettlementLedger, settle_due, unsettled_after


def test_amounts_settle_two_trading_days_later_and_buying_power_nets_them():
    ledger = SettlementLedger(1_000_000.0, n_days=5)
    ledger.start_day(0)
    ledger.book(0, -500_712.0)  # a buy on day 0: paid on day 2
    ledger.start_day(1)
    ledger.book(1, 497_788.0)  # a sell on day 1: received on day 3
    assert ledger.cash == 1_000_000.0 and ledger.unsettled(1) == -2_924.0
    assert ledger.buying_power(1) == 997_076.0
    assert ledger.start_day(2) == -500_712.0 and ledger.cash == 499_288.0 and ledger.unsettled(2) == 497_788.0
    ledger.start_day(3)
    assert ledger.cash == 997_076.0 and ledger.unsettled(3) == 0.0


def test_same_day_settlement_books_straight_into_cash():
    ledger = SettlementLedger(100.0, n_days=3)
    ledger.book(0, -40.0, days=0)  # futures: daily mark-to-market
    assert ledger.cash == 60.0 and ledger.pending.sum() == 0.0


def test_kernels_settle_and_sum_only_the_window():
    pending = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    assert unsettled_after(pending, 1, 2) == 12.0  # days 2 and 3
    assert unsettled_after(pending, 3, 2) == 16.0  # the window is clipped at the end of the axis
    assert settle_due(pending, 2) == 4.0 and pending[2] == 0.0


DATES = ["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]


def _flat_panel() -> Panel:
    # test-stated bars: both names at NT$50 all day (open = high = low = close), so every fill is at 50
    rows = [{"date": d, "symbol": s, "open": 50.0, "high": 50.0, "low": 50.0, "close": 50.0, "volume": 10e6}
            for d in DATES for s in ("1101", "1102")]
    return Panel.from_long(pd.DataFrame(rows), ["open", "high", "low", "close", "volume"])


def test_paper_cash_settles_t_plus_2_and_same_day_sales_fund_buys(tmp_path):
    targets = pd.DataFrame({"1101": [0.5, 0.0, 0.0], "1102": [0.0, 0.9, 0.9]},
                           index=pd.to_datetime(DATES[:3]))
    result = run_paper(_flat_panel(), targets, dt.date(2024, 3, 4), dt.date(2024, 3, 8), tmp_path, rules=[],
                       router=SlicerRouter(), broker=PaperBroker(), settings=PaperSettings(initial_cash=1_000_000.0))
    fills = result.fills
    assert list(zip(fills["symbol"], fills["side"], fills["quantity"], fills["price"])) == [
        ("1101", "buy", 10_000, 50.0), ("1101", "sell", 10_000, 50.0), ("1102", "buy", 17_000, 50.0)]
    # 03-04 buy 1101: 500,000 + floor(712.5) = −500,712, paid 03-06
    # 03-05 sell 1101: 500,000 − 712 − floor(1,500 tax) = +497,788, received 03-07;
    #       buy 1102: 0.9 × equity 999,288 / 50 = 17,987 → 17 lots; buying power 1,000,000 − 500,712 + 497,788
    #       = 997,076 covers 850,000 + 1,211 (settled cash less the unpaid buy, 499,288, would cover only 9 lots)
    equity = result.equity.set_index(result.equity["date"].astype(str))
    expected = {"2024-03-04": (1_000_000, -500_712, 999_288), "2024-03-05": (1_000_000, -854_135, 995_865),
                "2024-03-06": (499_288, -353_423, 995_865), "2024-03-07": (145_865, 0, 995_865),
                "2024-03-08": (145_865, 0, 995_865)}
    for day, (cash, unsettled, total) in expected.items():
        assert (equity.loc[day, "cash"], equity.loc[day, "unsettled"], equity.loc[day, "equity"]) == \
            (cash, unsettled, total), day
