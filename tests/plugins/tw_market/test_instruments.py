"""Instruments: futures orders are judged by TAIFEX contract rules (tick, band, whole contracts, NT$ value)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jgod_core.execution.orders import Order, Side
from jgod_core.risk.engine import RiskContext
from jgod_plugins.risk.board_lot import BoardLotRule
from jgod_plugins.risk.portfolio_stress import shock_loss_per_share
from jgod_plugins.risk.position_limit import PositionLimitParams, PositionLimitRule
from jgod_plugins.risk.price_band import PriceBandRule
from jgod_plugins.risk.tick_ladder import TickLadderRule
from jgod_plugins.tw_market import instruments
from jgod_plugins.tw_market.instruments import AssetClass, UnknownContractError, futures_contract
from jgod_plugins.tw_market.rules import futures_tax

NOW = dt.datetime(2026, 5, 28, 9, 0)


def tx(quantity=1, price="45022", reference="44798", symbol="TX", side=Side.BUY):
    return Order("f1", symbol, side, quantity, Decimal(price), Decimal(reference), asset=AssetClass.FUTURE)


@pytest.mark.parametrize("symbol, root, multiplier", [("TX", "TX", 200), ("TXF", "TX", 200), ("TXF202606", "TX", 200),
                                                      ("TXFF6", "TX", 200), ("MTX", "MTX", 50), ("MXF", "MTX", 50)])
def test_taifex_codes_resolve_to_their_product_and_multiplier(symbol, root, multiplier):
    contract = futures_contract(symbol)
    assert contract.root == root and contract.multiplier == multiplier and contract.tick == 1.0


def test_stock_codes_are_not_futures_and_a_futures_order_needs_a_known_contract():
    assert futures_contract("2330") is None and instruments.asset_class_of("2330") is AssetClass.STOCK
    with pytest.raises(UnknownContractError):
        Order("x", "2330", Side.BUY, 1, Decimal("600"), Decimal("600"), asset=AssetClass.FUTURE)


def test_futures_order_value_is_price_times_multiplier_per_contract():
    order = tx(quantity=2)
    assert order.lot_size == 1 and order.lots == 2 and order.multiplier == 200
    assert order.notional == Decimal("45022") * 200 * 2  # NT$18,008,800
    stock = Order("s", "2330", Side.BUY, 2000, Decimal("600"), Decimal("600"))
    assert stock.lot_size == 1000 and stock.lots == 2 and stock.notional == Decimal("1200000")


def test_futures_transaction_tax_is_0_002_percent_of_contract_value_rounded_to_the_dollar():
    assert futures_tax(45015 * 200) == 180  # 180.06
    assert futures_tax(45022 * 200 * 2) == 360  # 360.176
    assert futures_tax(20_000 * 50) == 20  # MTX
    assert futures_tax(43_837.5 * 200) == 175  # 175.35


def test_tick_ladder_judges_futures_on_the_one_point_tick_not_the_stock_ladder():
    rule, ctx = TickLadderRule(), RiskContext(NOW)
    assert not rule.check(tx(price="45022"), ctx).denied  # the stock ladder (tick 5 above 1000) would deny it
    denied = rule.check(tx(price="45022.5"), ctx)
    assert denied.denied and "TX futures" in denied.reason and denied.numbers["tick"] == 1.0


def test_price_band_of_tx_is_ten_percent_of_the_reference_on_whole_points():
    down, up = instruments.price_band(tx(), 44798.0)
    assert (down, up) == (40319.0, 49277.0)  # ceil(40318.2), floor(49277.8)
    rule, ctx = PriceBandRule(), RiskContext(NOW)
    assert not rule.check(tx(price="49277"), ctx).denied
    assert rule.check(tx(price="49278"), ctx).denied


@pytest.mark.parametrize("quantity, denied", [(1, False), (100, False), (101, True), (0, True)])
def test_board_lot_takes_whole_contracts_for_futures(quantity, denied):
    assert BoardLotRule().check(tx(quantity=quantity), RiskContext(NOW)).denied is denied


def test_position_limit_values_a_contract_at_price_times_multiplier():
    # equity NT$20m, 50 % per symbol → NT$10m → floor(10m / (45,022 × 200)) = 1 contract
    ctx = RiskContext(NOW, equity=20_000_000.0)
    verdict = PositionLimitRule(PositionLimitParams(max_position_fraction=0.5)).check(tx(quantity=3), ctx)
    assert verdict.quantity == 1 and verdict.numbers["position_cap"] == 1


def test_limit_shock_loss_of_a_long_tx_contract_is_the_band_in_points_times_200():
    assert shock_loss_per_share(45000.0, True, symbol="TX") == (45000 - 40500) * 200
    assert shock_loss_per_share(45000.0, False, symbol="MTX") == (49500 - 45000) * 50


def test_gross_exposure_of_the_context_applies_the_multiplier():
    ctx = RiskContext(NOW, positions={"TX": 2, "2330": 1000}, mark_prices={"TX": 45000.0, "2330": 600.0},
                      multipliers={"TX": 200})
    assert ctx.gross_exposure() == 2 * 45000 * 200 + 1000 * 600
