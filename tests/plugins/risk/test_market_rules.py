"""Market-rule components not covered by the engine tests: order size and the submit throttle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jgod_core.orders import Order, Side
from jgod_core.risk_engine import CHILD, PARENT, RiskContext
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
