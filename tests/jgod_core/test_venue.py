"""The kernel asks the venue: a fake venue registered by a test plugin changes what orders use."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest

from jgod_core import hookimpl
from jgod_core.execution.orders import Order, Side, whole_lots
from jgod_core.plugin.components import ComponentKind, NoParams, Venue
from jgod_core.plugin.registry import ComponentRegistry
from jgod_core.venue import AssetClass, Instrument, VenueError, default_venue, resolve_venue, use_venue, venue_for


class HundredShareVenue(Venue[NoParams]):
    """A test venue (not a real market): 100-share lots, a 0.5 tick, no fees, T+1."""

    name = "hundred"
    Params = NoParams

    @property
    def timezone(self) -> str:
        return "Europe/London"

    def trading_days(self, start, end):
        return np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)

    def is_trading_day(self, day) -> bool:
        return True

    def session_hours(self, day):
        return dt.time(8, 0), dt.time(16, 30)

    def instrument(self, symbol, asset_class=None):
        asset = AssetClass(asset_class) if asset_class is not None else AssetClass.STOCK
        if asset is AssetClass.FUTURE:
            return Instrument(symbol, asset, lot_size=1, multiplier=10)
        return Instrument(symbol, asset, lot_size=100)

    def tick_size(self, instrument, price, as_of=None):
        return 0.5

    def round_price(self, instrument, price, mode="nearest", as_of=None):
        return round(price * 2) / 2

    def price_band(self, instrument, reference, as_of=None):
        return reference * 0.8, reference * 1.2

    commission_rate = 0.0

    def commission(self, notional):
        return 0.0

    def tax(self, instrument, side, notional):
        return 0.0

    def settlement_days(self, instrument):
        return 1

    def daily_bar_slippage(self, instrument, quantity, price, closes, volumes, impact_coef=0.5):
        raise ValueError("no cost model")


class _Plugin:
    @hookimpl
    def jgod_register_components(self, register):
        register(HundredShareVenue)


def _order(**kwargs) -> Order:
    return Order("o1", "ABC", Side.BUY, 300, Decimal("10.5"), Decimal("10"), **kwargs)


@pytest.fixture(scope="module")
def kernel_with_fake_venue():
    from jgod_core.plugin.manager import PluginPolicy, load_kernel

    return load_kernel(PluginPolicy(), extra_plugins=[("hundred_venue", _Plugin())])


def test_a_fake_venue_registered_by_a_plugin_sets_the_lot_size_orders_use(kernel_with_fake_venue):
    venue = resolve_venue(kernel_with_fake_venue.registry, "hundred")
    assert isinstance(venue, HundredShareVenue)
    with use_venue(venue):
        order = _order()
        assert default_venue() is venue
        assert order.lot_size == 100 and order.lots == 3.0 and order.multiplier == 1
        assert whole_lots(250) == 200 and whole_lots(-250) == -200
        future = _order(asset=AssetClass.FUTURE)
        assert (future.lot_size, future.multiplier, future.notional) == (1, 10, Decimal("31500.00"))
    assert _order().lot_size == 1000  # outside the block: the installed Taiwan venue
    assert whole_lots(2500) == 2000
    assert order.lot_size == 100  # an order keeps the venue's answer from when it was built


def test_several_venues_and_none_named_is_a_located_error(kernel_with_fake_venue):
    registry = kernel_with_fake_venue.registry
    assert registry.names(ComponentKind.VENUE) == ["hundred", "tw"]
    with pytest.raises(VenueError, match=r"^p\.yaml:3:1: error: several venues are installed \(hundred, tw\): "
                                         r"name one with `venue: hundred`"):
        resolve_venue(registry, where="p.yaml:3:1")


def test_an_unknown_venue_name_is_an_error_with_a_hint(kernel_with_fake_venue):
    with pytest.raises(VenueError, match=r"no venue 'hundrd' is installed \(installed: hundred, tw\); "
                                         r"did you mean 'hundred'\?"):
        resolve_venue(kernel_with_fake_venue.registry, "hundrd")


def test_no_venue_installed_is_an_error():
    with pytest.raises(VenueError, match="no venue is installed"):
        resolve_venue(ComponentRegistry())


def test_venue_for_a_pipeline_uses_its_named_venue_and_locates_a_bad_name(kernel_with_fake_venue):
    def pipeline(name, text):
        return SimpleNamespace(config=SimpleNamespace(venue=name), kernel=kernel_with_fake_venue,
                               path="p.yaml", text=text)

    assert isinstance(venue_for(pipeline("hundred", "version: 1\nvenue: hundred\n")), HundredShareVenue)
    with pytest.raises(VenueError, match=r"^p\.yaml:2:1: error: venue: no venue 'nasdaq'"):
        venue_for(pipeline("nasdaq", "version: 1\nvenue: nasdaq\n"))
    with pytest.raises(VenueError, match=r"^p\.yaml: error: several venues are installed"):
        venue_for(pipeline(None, "version: 1\n"))
