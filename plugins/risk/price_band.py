"""Price band: the limit price must lie within ±10 % of the reference price (limit down … limit up)."""

from __future__ import annotations

from jgod_core import NoParams, RiskRule
from jgod_core.market_rules import limit_down, limit_up
from jgod_core.orders import Order, Verdict


class PriceBandRule(RiskRule):
    """Denies a limit price above limit-up or below limit-down of the order's reference price.

    Limits are ±10 % of the reference (previous close), rounded inward onto the ladder.
    """

    name = "price_band"
    version = "1.0.0"
    Params = NoParams

    def check(self, order: Order, context) -> Verdict:
        reference = float(order.reference_price)
        price = float(order.limit_price)
        if reference <= 0:
            return Verdict.deny(self.name, f"price_band: reference price {order.reference_price} is not positive",
                                reference=reference)
        up = float(limit_up(reference, order.is_etf))
        down = float(limit_down(reference, order.is_etf))
        if down - 1e-9 <= price <= up + 1e-9:
            return Verdict.approve(self.name, order)
        return Verdict.deny(
            self.name,
            f"price_band: price {price:.2f} is outside the band {down:.2f}–{up:.2f} (±10 % of reference {reference:.2f})",
            price=price, limit_down=down, limit_up=up, reference=reference)
