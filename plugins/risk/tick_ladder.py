"""Tick ladder: the limit price must lie on the TWSE tick ladder (stock or ETF ladder)."""

from __future__ import annotations

from jgod_core import NoParams, RiskRule
from jgod_core.market_rules import is_on_tick, round_to_tick, tick_size
from jgod_core.orders import Order, Verdict


class TickLadderRule(RiskRule):
    """Denies a limit price that is not a multiple of the tick of its price band.

    Stock ladder <10: 0.01, 10–50: 0.05, 50–100: 0.1, 100–500: 0.5, 500–1000: 1, ≥1000: 5;
    ETF ladder <50: 0.01, ≥50: 0.05 (:mod:`jgod_core.market_rules`). No data, no warm-up.
    """

    name = "tick_ladder"
    version = "1.0.0"
    Params = NoParams

    def check(self, order: Order, context) -> Verdict:
        price = float(order.limit_price)
        if price > 0 and is_on_tick(price, order.is_etf):
            return Verdict.approve(self.name, order)
        ladder = "ETF" if order.is_etf else "stock"
        tick = tick_size(price, order.is_etf)
        below = round_to_tick(price, order.is_etf, "down")
        above = round_to_tick(price, order.is_etf, "up")
        return Verdict.deny(
            self.name,
            f"tick_ladder: price {order.limit_price} is not on the {ladder} tick ladder (tick {tick:g} at this "
            f"price); nearest valid prices {below:.2f} and {above:.2f}",
            price=price, tick=tick, nearest_below=below, nearest_above=above)
