"""The ``tw`` venue answers the kernel's questions with Taiwan's rules: hand-computed cases.

Each figure is worked out by hand from :mod:`jgod_plugins.tw_market.rules` (tick ladder,
±10 % / ±7 % limits, commission 0.1425 % with a NT$20 minimum, sell tax 0.3 % / 0.1 %, futures
tax 0.002 %) and :mod:`jgod_plugins.tw_market.instruments` (1,000-share lots, TX NT$200 / MTX NT$50).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from jgod_core.execution.orders import Side
from jgod_core.plugin.components import ComponentKind
from jgod_core.venue import AssetClass, default_venue, resolve_venue
from jgod_plugins.tw_market import impact
from jgod_plugins.tw_market.instruments import UnknownContractError
from jgod_plugins.tw_market.venue import TaiwanVenue

TW = TaiwanVenue()
STOCK = TW.instrument("2330", AssetClass.STOCK)
ETF = TW.instrument("0050", AssetClass.ETF)
TX = TW.instrument("TXF202606")


def test_tw_is_the_installed_venue_resolved_through_the_registry(jgod_kernel):
    assert jgod_kernel.registry.get(ComponentKind.VENUE, "tw").cls is TaiwanVenue
    assert isinstance(resolve_venue(jgod_kernel.registry), TaiwanVenue)
    assert isinstance(default_venue(), TaiwanVenue)


def test_instruments_lots_and_multipliers():
    assert (STOCK.asset_class, STOCK.lot_size, STOCK.multiplier) == (AssetClass.STOCK, 1000, 1)
    assert (ETF.asset_class, ETF.lot_size, ETF.multiplier, ETF.is_etf) == (AssetClass.ETF, 1000, 1, True)
    assert (TX.asset_class, TX.lot_size, TX.multiplier, TX.is_future) == (AssetClass.FUTURE, 1, 200, True)
    assert TW.instrument("MXF").multiplier == 50
    assert TW.instrument("2330").asset_class is AssetClass.STOCK  # inferred: not a TAIFEX code


def test_an_unknown_futures_contract_is_an_error():
    with pytest.raises(UnknownContractError, match="'2330' is not a known TAIFEX futures contract"):
        TW.instrument("2330", AssetClass.FUTURE)


@pytest.mark.parametrize("instrument, price, tick", [
    (STOCK, 49.95, 0.05), (STOCK, 50.0, 0.1), (STOCK, 9.99, 0.01), (STOCK, 1000.0, 5.0),
    (ETF, 49.99, 0.01), (ETF, 50.0, 0.05), (TX, 20000.0, 1.0),
])
def test_tick_at_the_band_boundaries(instrument, price, tick):
    assert TW.tick_size(instrument, price, dt.date(2024, 1, 2)) == tick


@pytest.mark.parametrize("price, mode, rounded", [
    (49.97, "nearest", 49.95),  # 49.97 / 0.05 = 999.4 → 999 ticks
    (49.98, "up", 50.0),  # the 0.05 band up to the 50 boundary
    (50.03, "nearest", 50.0),  # from 50 the tick is 0.1: 500.3 → 500
    (50.07, "nearest", 50.1),
    (50.07, "down", 50.0),
])
def test_round_price_on_the_stock_ladder(price, mode, rounded):
    assert TW.round_price(STOCK, price, mode) == pytest.approx(rounded, abs=1e-12)


def test_is_on_tick():
    assert TW.is_on_tick(STOCK, 49.95) and not TW.is_on_tick(STOCK, 49.97)
    assert TW.is_on_tick(ETF, 49.97) and not TW.is_on_tick(ETF, 50.01)


@pytest.mark.parametrize("instrument, reference, as_of, band", [
    # +10 %: 61.05 rounded down on the 0.1 grid; −10 %: 49.95 is on the 0.05 grid
    (STOCK, 55.5, dt.date(2024, 1, 2), (49.95, 61.0)),
    # before 2015-06-01, ±7 %: 35.631 → 35.60 (down, 0.05 grid); 30.969 → 31.00 (up, 0.05 grid)
    (STOCK, 33.3, dt.date(2015, 5, 29), (31.0, 35.6)),
    # ETF: 56.353 → 56.35 (0.05 grid from 50); 46.107 → 46.11 (0.01 grid below 50)
    (ETF, 51.23, dt.date(2024, 1, 2), (46.11, 56.35)),
    # TX: ±10 % of 20,000.5 → 18,000.45 up to 18,001; 22,000.55 down to 22,000
    (TX, 20000.5, dt.date(2024, 1, 2), (18001.0, 22000.0)),
])
def test_price_band_is_the_limit_rounded_inward(instrument, reference, as_of, band):
    assert TW.price_band(instrument, reference, as_of) == pytest.approx(band, abs=1e-9)


@pytest.mark.parametrize("notional, fee", [(1_000_000, 1425.0), (50_000, 71.0), (10_000, 20.0), (0, 0.0)])
def test_commission_is_0_1425_percent_floored_with_a_nt20_minimum(notional, fee):
    assert TW.commission_rate == 0.001425
    assert TW.commission(notional) == fee


def test_tax_on_sells_only_for_stocks_and_etfs_both_sides_for_futures():
    assert TW.tax(STOCK, Side.SELL, 1_000_000) == 3000.0  # 0.3 %
    assert TW.tax(STOCK, Side.SELL, 123_456) == 370.0  # 370.368 floored
    assert TW.tax(ETF, Side.SELL, 1_000_000) == 1000.0  # 0.1 %
    assert TW.tax(ETF, Side.SELL, 123_456) == 123.0
    assert TW.tax(STOCK, Side.BUY, 1_000_000) == 0.0
    # TX at 20,000 points: contract value NT$4,000,000 × 0.002 % = NT$80, on each side
    assert TW.tax(TX, Side.BUY, 4_000_000) == TW.tax(TX, Side.SELL, 4_000_000) == 80.0


def test_settlement_is_t_plus_2_for_securities_and_same_day_for_futures():
    assert TW.settlement_days(STOCK) == TW.settlement_days(ETF) == 2
    assert TW.settlement_days(TX) == 0


def test_calendar_zone_days_and_session_hours():
    assert TW.timezone == "Asia/Taipei"
    days = TW.trading_days(dt.date(2024, 1, 1), dt.date(2024, 1, 5))  # 1 January is a holiday
    assert [str(d) for d in days] == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert TW.is_trading_day(dt.date(2026, 5, 28)) and not TW.is_trading_day(dt.date(2026, 6, 19))
    assert TW.session_hours(dt.date(2024, 1, 2)) == (dt.time(9, 0), dt.time(13, 30))
    # 2016-01-30, a make-up Saturday session in the sample that XTAI does not list: the regular hours
    assert TW.session_hours(dt.date(2016, 1, 30)) == (dt.time(9, 0), dt.time(13, 30))


def test_daily_bar_slippage_is_the_impact_model_with_the_instrument_ladder():
    closes = np.array([100.0, 101.0, 99.5, 100.5, 102.0])
    volumes = np.array([1e6, 2e6, 1.5e6, 1e6, 1.2e6])
    got = TW.daily_bar_slippage(ETF, 50_000, 60.0, closes, volumes, 0.5)
    assert got == impact.daily_bar_slippage(50_000, 60.0, closes, volumes, True, 0.5)
    assert got.half_spread == pytest.approx(0.5 * 0.05 / 60.0)
