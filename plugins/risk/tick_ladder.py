"""Tick ladder: the limit price must lie on the instrument's tick grid (TWSE stock or ETF ladder, or the futures tick)."""

from __future__ import annotations

from jgod_core import NoParams, RiskRule
from jgod_core.execution.orders import Order, Verdict
from jgod_plugins.tw_market import instruments


class TickLadderRule(RiskRule):
    """Denies a limit price that is not a multiple of the tick of its price band.

    Stocks and ETFs: the TWSE ladder version in force on the decision date (``context.now``;
    :data:`jgod_plugins.tw_market.rules.STOCK_LADDERS` / ``ETF_LADDERS``) — stock <10: 0.01, 10–50:
    0.05, 50–100: 0.1, 100–500: 0.5, 500–1000: 1, ≥1000: 5; ETF <50: 0.01, ≥50: 0.05. Futures:
    the contract's tick (TX, MTX: 1 index point). No data, no warm-up.
    """

    name = "tick_ladder"
    version = "1.1.0"
    Params = NoParams

    def check(self, order: Order, context) -> Verdict:
        price = float(order.limit_price)
        as_of = context.now.date() if context is not None and context.now is not None else None
        if price > 0 and instruments.on_tick(order, price, as_of):
            return Verdict.approve(self.name, order)
        ladder = order.symbol + " futures" if order.is_future else ("ETF" if order.is_etf else "stock")
        tick = instruments.tick_at(order, price, as_of)
        below = instruments.round_price(order, price, "down", as_of)
        above = instruments.round_price(order, price, "up", as_of)
        return Verdict.deny(
            self.name,
            f"tick_ladder: price {order.limit_price} is not on the {ladder} tick ladder (tick {tick:g} at this "
            f"price); nearest valid prices {below:.2f} and {above:.2f}",
            price=price, tick=tick, nearest_below=below, nearest_above=above)
