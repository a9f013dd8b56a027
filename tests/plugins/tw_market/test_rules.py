"""Versioned tick ladders: the version in force on ``as_of`` prices the order; boundary tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from jgod_core.execution.orders import Order, Side
from jgod_core.risk.engine import RiskContext
from jgod_plugins.risk.tick_ladder import TickLadderRule
from jgod_plugins.tw_market import rules as mr
from jgod_plugins.tw_market.rules import TickLadder, ladder_in_force

# price, stock tick, ETF tick (the tick of the band the price lies in)
BOUNDARIES = [(9.99, 0.01, 0.01), (10.0, 0.05, 0.01), (49.95, 0.05, 0.01), (50.0, 0.1, 0.05), (99.9, 0.1, 0.05),
              (100.0, 0.5, 0.05), (499.5, 0.5, 0.05), (500.0, 1.0, 0.05), (999.0, 1.0, 0.05), (1000.0, 5.0, 0.05)]


@pytest.mark.parametrize("as_of", [None, dt.date(2024, 1, 2), dt.datetime(2026, 5, 28, 9, 0)])
@pytest.mark.parametrize("price, stock_tick, etf_tick", BOUNDARIES)
def test_boundary_table_of_the_ladder_in_force(price, stock_tick, etf_tick, as_of):
    assert mr.tick_size(price, False, as_of) == stock_tick
    assert mr.tick_size(price, True, as_of) == etf_tick
    assert mr.is_on_tick(price, False, as_of)


def test_every_ladder_version_names_its_source_and_the_flat_arrays_are_the_latest():
    for versions in (mr.STOCK_LADDERS, mr.ETF_LADDERS):
        assert all(v.source for v in versions)
        starts = [v.effective_from or dt.date.min for v in versions]
        assert starts == sorted(starts)
    np.testing.assert_array_equal(mr.STOCK_LADDER_TICKS, mr.STOCK_LADDERS[-1].ticks)
    np.testing.assert_array_equal(mr.ETF_LADDER_BOUNDS, mr.ETF_LADDERS[-1].bounds)


def test_a_new_ladder_version_applies_from_its_effective_date(monkeypatch):
    # a test-only version (not a real rule): 50–100 quoted in 0.05 from 2030-01-01
    future = TickLadder(dt.date(2030, 1, 1), (10.0, 50.0, 100.0, 500.0, 1000.0, np.inf),
                        (0.01, 0.05, 0.05, 0.5, 1.0, 5.0), "test fixture")
    monkeypatch.setattr(mr, "STOCK_LADDERS", mr.STOCK_LADDERS + (future,))
    assert mr.tick_size(60.0, as_of=dt.date(2029, 12, 31)) == 0.1
    assert mr.tick_size(60.0, as_of=dt.date(2030, 1, 1)) == 0.05
    assert mr.tick_size(60.0) == 0.05  # default: the latest version
    assert mr.limit_up(55.5, as_of=dt.date(2029, 12, 31)) == 61.0  # 61.05 rounded down on the 0.1 grid
    assert mr.limit_up(55.5, as_of=dt.date(2030, 1, 2)) == 61.05  # on the new 0.05 grid
    order = Order("o", "2317", Side.BUY, 1000, Decimal("60.05"), Decimal("60"))
    rule = TickLadderRule()
    assert rule.check(order, RiskContext(dt.datetime(2029, 12, 31, 9))).denied
    assert not rule.check(order, RiskContext(dt.datetime(2030, 1, 2, 9))).denied


def test_a_date_before_the_first_recorded_version_is_a_clear_error():
    only = (TickLadder(dt.date(2020, 1, 1), (np.inf,), (0.01,), "test fixture"),)
    with pytest.raises(mr.MarketRulesError, match="first version takes effect 2020-01-01"):
        ladder_in_force(only, dt.date(2019, 12, 31))
    assert ladder_in_force(only, dt.date(2020, 1, 1)) is only[0]


def test_a_malformed_ladder_version_is_refused():
    with pytest.raises(ValueError):
        TickLadder(None, (10.0, 5.0), (0.01, 0.05), "bad: bounds fall and stop short of inf")
