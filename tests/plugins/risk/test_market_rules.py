"""Market-rule components not covered by the engine tests: order size and the submit throttle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jgod_core.execution.orders import Order, Side
from jgod_core.risk.engine import CHILD, PARENT, RiskContext
from jgod_plugins.risk.order_size import OrderSizeParams, OrderSizeRule
from jgod_plugins.risk.submit_throttle import SubmitThrottleParams, SubmitThrottleRule

NOW = dt.datetime(2024, 3, 1, 9, 0)


def order(quantity, price="600"):
    return Order("o", "2330", Side.BUY, quantity, Decimal(price), Decimal(price))


def test_order_size_caps_child_lots_and_parent_notional():
    rule = OrderSizeRule(OrderSizeParams(max_child_lots=499, max_parent_notional_twd=100_000_000))
    assert rule.check(order(500_000), RiskContext(NOW, stage=CHILD)).reason == \
        "order_size: 500 lots exceeds max_child_lots 499"
    assert not rule.check(order(499_000), RiskContext(NOW, stage=CHILD)).denied
    parent = rule.check(order(200_000), RiskContext(NOW, stage=PARENT))  # 200,000 × 600 = 120M
    assert parent.denied and parent.reason == \
        "order_size: notional NT$120,000,000 exceeds max_parent_notional_twd NT$100,000,000"


def test_submit_throttle_denies_the_excess_in_the_window_and_forgets_old_submits():
    rule = SubmitThrottleRule(SubmitThrottleParams(max_submits=3, window_seconds=1.0))
    ctx = RiskContext(NOW, stage=CHILD)
    base = NOW.timestamp()
    ctx.submit_times.extend([base - 5.0, base - 0.9, base - 0.5, base - 0.1])
    verdict = rule.check(order(1000), ctx)
    assert verdict.denied and verdict.numbers["recent"] == 3
    ctx.now = NOW + dt.timedelta(seconds=0.5)  # window (−0.5 s, +0.5 s]: only the submit 0.1 s ago remains
    assert not rule.check(order(1000), ctx).denied
    ctx.submit_times.extend([base + 0.2, base + 0.3])  # now three in the window again
    assert rule.check(order(1000), ctx).denied


# -- the daily price limit is versioned: ±7 % before 2015-06-01, ±10 % from then --------------------

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from jgod_plugins.risk.price_band import PriceBandRule  # noqa: E402
from jgod_plugins.tw_market.rules import PRICE_LIMITS, limit_down, limit_up, price_limit  # noqa: E402


@pytest.mark.parametrize("day, up, down", [
    (dt.date(2015, 5, 29), 107.0, 93.0),  # last day of ±7 %
    (dt.date(2015, 6, 1), 110.0, 90.0),  # first day of ±10 %
    (dt.datetime(2015, 5, 31, 23, 59), 107.0, 93.0),
    (dt.datetime(2015, 6, 1, 9, 0), 110.0, 90.0),
    (None, 110.0, 90.0),  # default: the latest rule
])
def test_limit_up_and_down_follow_the_rule_in_force_around_2015_06_01(day, up, down):
    assert (limit_up(100.0, as_of=day), limit_down(100.0, as_of=day)) == (up, down)


def test_seven_percent_limits_round_inward_onto_the_ladder():
    # 2015-05-29, reference 47.3: +7 % = 50.611 → 50.6 (tick 0.1 from 50); −7 % = 43.989 → 44.00 (tick 0.05)
    assert limit_up(47.3, as_of=dt.date(2015, 5, 29)) == 50.6 and limit_down(47.3, as_of=dt.date(2015, 5, 29)) == 44.0


def test_every_price_limit_version_names_its_source():
    assert [v.fraction for v in PRICE_LIMITS] == [0.07, 0.10] and all("2015-06-01" in v.source for v in PRICE_LIMITS)
    assert price_limit(dt.date(2015, 5, 29)) == 0.07 and price_limit(dt.date(2015, 6, 1)) == 0.10


def test_price_band_rule_denies_a_9_percent_order_before_the_change_and_passes_it_after():
    rule = PriceBandRule()
    order = Order("B1", "2330", Side.BUY, 1000, Decimal("109"), Decimal("100"))
    before = rule.check(order, RiskContext(dt.datetime(2015, 5, 29, 9, 0)))
    after = rule.check(order, RiskContext(dt.datetime(2015, 6, 1, 9, 0)))
    assert before.denied and not after.denied


def test_the_real_sample_moves_within_7_percent_before_the_change_and_up_to_10_after():
    from importlib.resources import files

    path = files("jgod_plugins.data") / "sample_data" / "daily" / "twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz"
    bars = pd.read_csv(path, dtype={"symbol": str}, parse_dates=["date"], usecols=["date", "symbol", "high", "low", "close"])
    bars = bars[bars["date"] < "2015-07-01"].sort_values(["symbol", "date"])
    bars["prev"] = bars.groupby("symbol")["close"].shift()
    bars = bars.dropna(subset=["prev"])
    before, after = bars[bars["date"] < "2015-06-01"], bars[bars["date"] >= "2015-06-01"]
    assert (before["high"] <= limit_up(before["prev"].to_numpy(), as_of=dt.date(2015, 5, 29)) + 1e-9).all()
    assert (before["low"] >= limit_down(before["prev"].to_numpy(), as_of=dt.date(2015, 5, 29)) - 1e-9).all()
    assert ((after["high"] / after["prev"]) - 1 > 0.07 + 1e-9).any()  # the ±10 % band was used at once
