"""The risk engine is the only way to an execution component; trading states; the property test."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from jgod_core import Broker, NoParams, hookimpl
from jgod_core.execution.orders import Order, Side, TradingState
from jgod_core.risk.engine import (
    ApprovedOrder,
    MemoryStateStore,
    RiskContext,
    RiskEngine,
    TradingStateStore,
    UnapprovedOrderError,
)
from jgod_core.storage.models import Base, TradingStateChange
from jgod_plugins.execution.paper import PaperBroker
from jgod_plugins.execution.slicer import SlicerParams, SlicerRouter
from jgod_plugins.risk.board_lot import BoardLotRule
from jgod_plugins.risk.daily_loss import DailyLossParams, DailyLossRule
from jgod_plugins.risk.duplicate_order import DuplicateOrderRule
from jgod_plugins.risk.price_band import PriceBandRule
from jgod_plugins.risk.tick_ladder import TickLadderRule
from jgod_plugins.tw_market.rules import is_on_tick, limit_down, limit_up, round_to_tick

NOW = dt.datetime(2024, 3, 1, 9, 0)


def order(cid="o1", symbol="2330", side=Side.BUY, quantity=2000, price="600", reference="600", etf=False):
    return Order(cid, symbol, side, quantity, Decimal(price), Decimal(reference), is_etf=etf)


def market_rules_engine(**kwargs) -> RiskEngine:
    return RiskEngine([TickLadderRule(), PriceBandRule(), BoardLotRule(), DuplicateOrderRule()], **kwargs)


class RecordingBroker(Broker):
    """A broker that only records what reaches it."""

    name = "recording"
    Params = NoParams

    def __init__(self, params=None):
        super().__init__(params)
        self.received = []

    def submit(self, approved):
        self.received.append(approved.order)
        return []

    def cancel_all(self, reason=""):
        return []


def route(engine, parent, ctx, broker, router=None):
    """Strategy → engine → router → engine (children) → broker; returns the parent decision."""
    decision = engine.check(parent, ctx)
    if decision.approved is None:
        return decision
    for child in (router or SlicerRouter()).schedule(decision.approved):
        child_decision = engine.check_child(decision.approved, child, ctx)
        if child_decision.approved is not None:
            broker.submit(child_decision.approved)
    return decision


# -- one gate -----------------------------------------------------------------------------------


def test_submit_plain_order_to_broker_then_refused():
    with pytest.raises(UnapprovedOrderError):
        PaperBroker().submit(order())


def test_third_party_broker_subclass_is_guarded_without_opting_in():
    with pytest.raises(UnapprovedOrderError):
        RecordingBroker().submit(order())


def test_router_refuses_unapproved_parent():
    with pytest.raises(UnapprovedOrderError):
        SlicerRouter().schedule(order())


def test_approved_order_cannot_be_constructed_mutated_or_pickled():
    with pytest.raises(UnapprovedOrderError):
        ApprovedOrder(order(), (), "child", 1)
    decision = market_rules_engine().check(order(), RiskContext(NOW))
    with pytest.raises(AttributeError):
        decision.approved.order = order(quantity=999_000)
    with pytest.raises(TypeError):
        pickle.dumps(decision.approved)


def test_forged_or_altered_approval_is_refused_by_broker():
    engine = market_rules_engine()
    ctx = RiskContext(NOW)
    parent = engine.check(order(), ctx).approved
    child = SlicerRouter().schedule(parent)[0]
    approved_child = engine.check_child(parent, child, ctx).approved
    object.__setattr__(approved_child, "order", child.with_quantity(3000))  # tamper after approval
    with pytest.raises(UnapprovedOrderError, match="forged or was altered"):
        PaperBroker().submit(approved_child)
    forged = object.__new__(ApprovedOrder)
    for name, value in (("order", child), ("stage", "child"), ("_serial", 1), ("_seal", b"x" * 32)):
        object.__setattr__(forged, name, value)
    with pytest.raises(UnapprovedOrderError):
        PaperBroker().submit(forged)


def test_parent_approval_cannot_be_sent_to_broker_directly():
    parent = market_rules_engine().check(order(), RiskContext(NOW)).approved
    with pytest.raises(UnapprovedOrderError, match="parent"):
        PaperBroker().submit(parent)


# -- boundaries ---------------------------------------------------------------------------------

ON_TICK = [("9.99", False), ("10", False), ("49.95", False), ("50", False), ("99.9", False), ("100", False),
           ("499.5", False), ("500", False), ("999", False), ("1000", False), ("49.99", True), ("50.05", True)]
OFF_TICK = [("10.01", False, "0.05"), ("50.05", False, "0.1"), ("100.1", False, "0.5"), ("500.5", False, "1"),
            ("1001", False, "5"), ("50.01", True, "0.05")]


@pytest.mark.parametrize("price, etf", ON_TICK)
def test_tick_ladder_accepts_prices_on_the_ladder_at_band_boundaries(price, etf):
    verdict = TickLadderRule().check(order(price=price, reference=price, etf=etf), RiskContext(NOW))
    assert not verdict.denied


@pytest.mark.parametrize("price, etf, tick", OFF_TICK)
def test_tick_ladder_denies_prices_off_the_ladder_and_names_the_tick(price, etf, tick):
    o = Order("x", "2330", Side.BUY, 1000, Decimal(price), Decimal("100"), is_etf=etf)
    verdict = TickLadderRule().check(o, RiskContext(NOW))
    assert verdict.denied and verdict.rule == "tick_ladder"
    assert f"tick {tick}" in verdict.reason


# (reference, limit-up, limit-down) computed by hand: ±10 %, rounded inward onto the ladder
BAND = [("9.99", "10.95", "9.00"), ("10", "11.00", "9.00"), ("49.95", "54.90", "45.00"), ("50", "55.00", "45.00"),
        ("99.9", "109.50", "90.00"), ("100", "110.00", "90.00"), ("499.5", "549.00", "450.00"),
        ("500", "550.00", "450.00"), ("999", "1095.00", "900.00"), ("1000", "1100.00", "900.00")]


@pytest.mark.parametrize("reference, up, down", BAND)
def test_price_band_limits_at_ladder_boundaries(reference, up, down):
    assert f"{limit_up(float(reference)):.2f}" == up
    assert f"{limit_down(float(reference)):.2f}" == down
    rule = PriceBandRule()
    ctx = RiskContext(NOW)
    assert not rule.check(order(price=up, reference=reference), ctx).denied
    assert not rule.check(order(price=down, reference=reference), ctx).denied


def test_price_band_denial_names_band_and_reference():
    verdict = PriceBandRule().check(order(price="661", reference="600"), RiskContext(NOW))
    assert verdict.denied
    assert verdict.reason == "price_band: price 661.00 is outside the band 540.00–660.00 (±10 % of reference 600.00)"
    assert verdict.numbers["limit_up"] == 660.0


def test_board_lot_denies_broken_lots_and_odd_lots_unless_enabled():
    ctx = RiskContext(NOW)
    assert BoardLotRule().check(order(quantity=1500), ctx).reason == \
        "board_lot: 1500 shares is not a whole number of 1000-share lots"
    odd = Order("x", "2330", Side.BUY, 300, Decimal("600"), Decimal("600"), odd_lot=True)
    assert BoardLotRule().check(odd, ctx).denied
    from jgod_plugins.risk.board_lot import BoardLotParams
    assert not BoardLotRule(BoardLotParams(odd_lot_enabled=True)).check(odd, ctx).denied


# -- property: nothing broken reaches a broker ----------------------------------------------------

cents = st.integers(min_value=1, max_value=400_000).map(lambda c: Decimal(c) / 100)
on_ladder = cents.map(lambda p: Decimal(f"{max(0.01, float(round_to_tick(float(p)))):.2f}"))
prices = st.one_of(cents, on_ladder)  # half the prices on the ladder, so many orders do reach the broker
orders = st.builds(
    lambda cid, side, qty, price, drift, etf: Order(
        f"p{cid}", "9999", side, qty, price,
        max(Decimal("0.01"), (price * Decimal(1 + drift)).quantize(Decimal("0.01"))), is_etf=etf),
    st.integers(0, 10**12), st.sampled_from([Side.BUY, Side.SELL]),
    st.one_of(st.integers(1, 300_000), st.integers(1, 300).map(lambda lots: lots * 1000)), prices,
    st.one_of(st.floats(-0.25, 0.25), st.floats(-0.09, 0.09)), st.booleans())


def _assert_nothing_broken_reaches_broker(batch) -> int:
    engine = market_rules_engine()
    broker = RecordingBroker()
    ctx = RiskContext(NOW)
    for parent in batch:
        route(engine, parent, ctx, broker, SlicerRouter(SlicerParams(max_slice_lots=50)))
    for child in broker.received:
        price, ref = float(child.limit_price), float(child.reference_price)
        assert is_on_tick(price, child.is_etf), child
        assert float(limit_down(ref, child.is_etf)) - 1e-9 <= price <= float(limit_up(ref, child.is_etf)) + 1e-9, child
        assert child.quantity > 0 and child.quantity % 1000 == 0, child
        assert child.quantity <= 50_000
    return len(broker.received)


def test_property_harness_is_not_vacuous():
    valid = [Order(f"v{k}", "2330", Side.BUY, 1000 * (k + 1), Decimal("600"), Decimal("600")) for k in range(60)]
    broken = [Order("b1", "2330", Side.BUY, 1500, Decimal("600"), Decimal("600")),
              Order("b2", "2330", Side.BUY, 1000, Decimal("600.5"), Decimal("600")),
              Order("b3", "2330", Side.BUY, 1000, Decimal("661"), Decimal("600"))]
    assert _assert_nothing_broken_reaches_broker(valid + broken) == sum(-(-(k + 1) // 50) for k in range(60))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.lists(orders, min_size=50, max_size=50, unique_by=lambda o: o.client_order_id))
def test_random_orders_never_reach_broker_off_tick_outside_band_or_in_broken_lots(batch):
    _assert_nothing_broken_reaches_broker(batch)  # 100 × 50 = 5,000 orders


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.lists(orders, min_size=50, max_size=50, unique_by=lambda o: o.client_order_id))
def test_random_orders_never_reach_broker_full_100k(batch):
    _assert_nothing_broken_reaches_broker(batch)  # 2,000 × 50 = 100,000 orders


# -- trading states -----------------------------------------------------------------------------


def test_reducing_state_allows_only_exposure_reducing_orders():
    engine = market_rules_engine()
    engine.transition(TradingState.REDUCING, "test")
    ctx = RiskContext(NOW, positions={"2330": 5000})
    assert engine.check(order("a", side=Side.SELL, quantity=3000), ctx).approved is not None
    buy = engine.check(order("b", side=Side.BUY, quantity=1000), ctx)
    assert buy.denied and "REDUCING" in buy.reason
    flip = engine.check(order("c", side=Side.SELL, quantity=6000), ctx)  # would cross zero
    assert flip.denied
    assert engine.check(order("d", symbol="2317", side=Side.SELL, quantity=1000), ctx).denied  # opens a short


def test_halted_state_denies_every_order_and_names_the_reason():
    engine = market_rules_engine()
    engine.transition(TradingState.HALTED, "operator pressed the kill switch")
    ctx = RiskContext(NOW, positions={"2330": 5000})
    decision = engine.check(order(side=Side.SELL, quantity=1000), ctx)
    assert decision.denied
    assert decision.reason == "trading_state: HALTED (operator pressed the kill switch); only cancels are accepted"


def test_halt_cancels_every_open_order_and_flattens_when_configured():
    engine = market_rules_engine()
    broker = PaperBroker()
    broker.set_day({})  # no bar today: submitted orders stay working
    ctx = RiskContext(NOW, positions={"2330": 3000})
    route(engine, order("w1", quantity=120_000), ctx, broker)
    assert len(broker.open_orders()) == 3
    def flatten(symbol, position):
        return Order(f"flat-{symbol}", symbol, Side.SELL if position > 0 else Side.BUY, abs(position),
                     Decimal("600"), Decimal("600"))

    engine.halt("test halt", brokers=[broker], flatten=True, context=ctx, flatten_order=flatten)
    assert engine.state is TradingState.HALTED
    assert broker.open_orders() == [o for o in broker.open_orders() if o.client_order_id == "flat-2330"]
    assert all(broker.working[f"w1-00{k}"].status.value == "cancelled" for k in (1, 2, 3))
    assert engine.check(order("after"), ctx).denied


def test_trading_state_survives_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine, tables=[TradingStateChange.__table__])
    TradingStateStore(engine).set(TradingState.HALTED, "halted from another terminal", "cli")
    engine.dispose()
    restarted = RiskEngine([], state_store=TradingStateStore(create_engine(url)))
    assert restarted.state is TradingState.HALTED
    restarted.resume()
    assert TradingStateStore(create_engine(url)).current().state is TradingState.ACTIVE


def test_daily_loss_limit_moves_to_reducing_and_denies_new_exposure():
    engine = RiskEngine([DailyLossRule(DailyLossParams(max_daily_loss_fraction=0.02))],
                        on_daily_loss_limit=TradingState.REDUCING)
    ctx = RiskContext(NOW, equity=9_700_000, day_start_equity=10_000_000, positions={"2330": 2000})
    decision = engine.check(order("buy"), ctx)
    assert decision.denied
    assert "daily_loss: loss 3.00% (NT$300,000) reached the limit 2.00%; trading state → REDUCING" == decision.reason
    assert engine.state is TradingState.REDUCING
    assert engine.check(order("sell", side=Side.SELL, quantity=1000), ctx).approved is not None


def test_pretrade_hook_is_consulted_after_rules(make_kernel):
    calls = []

    class Plugin:
        @hookimpl
        def jgod_pretrade_check(self, order, context):
            calls.append(order.client_order_id)
            return "no trading 2330 on Fridays" if order.symbol == "2330" else None

    kernel = make_kernel(("friday", Plugin()))
    engine = RiskEngine([TickLadderRule()], pretrade_hook=kernel.pm.hook.jgod_pretrade_check)
    ctx = RiskContext(NOW)
    decision = engine.check(order("a"), ctx)
    assert decision.denied and decision.reason == "jgod_pretrade_check: no trading 2330 on Fridays"
    assert engine.check(order("b", symbol="2317", price="100", reference="100"), ctx).approved is not None
    engine.check(order("c", price="600.3"), ctx)  # off tick: the rule denies first, the hook is not asked
    assert calls == ["a", "b"]


def test_duplicate_client_order_id_is_denied():
    engine = market_rules_engine()
    ctx = RiskContext(NOW)
    assert engine.check(order("same"), ctx).approved is not None
    assert engine.check(order("same"), ctx).reason == "duplicate_order: client order id same was already approved"


def test_memory_state_store_timeline_records_each_change_once():
    store = MemoryStateStore()
    engine = RiskEngine([], state_store=store)
    engine.transition(TradingState.REDUCING, "a")
    engine.transition(TradingState.REDUCING, "again")
    engine.transition(TradingState.ACTIVE, "b")
    assert [c.state for c in store.timeline()] == [TradingState.REDUCING, TradingState.ACTIVE]
