"""Order models: exact money, the order state machine, fills' cash flows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jgod_core.execution.orders import (
    ALLOWED_TRANSITIONS,
    Fill,
    InvalidTransition,
    Order,
    OrderStatus,
    Side,
    Verdict,
    next_status,
    whole_lots,
)


def test_prices_are_exact_decimals_with_two_places():
    o = Order("a", "2330", Side.BUY, 1000, 600.1 + 0.2, 600)
    assert o.limit_price == Decimal("600.30") and o.reference_price == Decimal("600.00")
    assert o.notional == Decimal("600300.00")


def test_quantity_must_be_whole_shares():
    with pytest.raises(TypeError):
        Order("a", "2330", Side.BUY, 1000.0, Decimal("600"), Decimal("600"))


@pytest.mark.parametrize("path", [
    ["submitted", "accepted", "partially_filled", "partially_filled", "filled"],
    ["submitted", "rejected"],
    ["submitted", "accepted", "cancelled"],
    ["submitted", "accepted", "partially_filled", "expired"],
    ["rejected"],
])
def test_lifecycle_paths_allowed(path):
    status = OrderStatus.NEW
    for step in path:
        status = next_status(status, OrderStatus(step), "o1")
    assert status.is_terminal


@pytest.mark.parametrize("current, new", [("filled", "cancelled"), ("cancelled", "filled"), ("new", "filled"),
                                          ("accepted", "submitted"), ("rejected", "accepted")])
def test_lifecycle_forbidden_transitions_raise(current, new):
    with pytest.raises(InvalidTransition, match=f"{current} → {new}"):
        next_status(OrderStatus(current), OrderStatus(new), "o1")


def test_terminal_states_have_no_exit():
    assert all(not ALLOWED_TRANSITIONS[s] for s in OrderStatus if s.is_terminal)


def test_fill_cash_flow_includes_commission_and_tax():
    buy = Fill("a", "2330", Side.BUY, 2000, Decimal("600"), 1710, 0)
    sell = Fill("b", "2330", Side.SELL, 2000, Decimal("600"), 1710, 3600)
    assert buy.cash_flow == Decimal("-1201710")
    assert sell.cash_flow == Decimal("1194690")


def test_whole_lots_rounds_towards_zero():
    assert whole_lots(2999.9) == 2000 and whole_lots(-2999.9) == -2000 and whole_lots(999) == 0


def test_reduce_to_zero_is_a_denial():
    v = Verdict.reduce("x", 0, "x: nothing fits")
    assert v.denied and v.quantity == 0
