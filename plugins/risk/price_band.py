"""Price band: the limit price must lie within ±10 % of the reference price (limit down … limit up)."""

from __future__ import annotations

from jgod_core import NoParams, RiskRule
from jgod_core.execution.orders import Order, Verdict
from jgod_plugins.tw_market import instruments


class PriceBandRule(RiskRule):
    """Denies a limit price above limit-up or below limit-down of the order's reference price.

    Limits are ±10 % of the reference (previous close; for futures the previous settlement),
    rounded inward onto the instrument's tick (the ladder in force on the decision date).
    """

    name = "price_band"
    version = "1.1.0"
    Params = NoParams

    def check(self, order: Order, context) -> Verdict:
        reference = float(order.reference_price)
        price = float(order.limit_price)
        if reference <= 0:
            return Verdict.deny(self.name, f"price_band: reference price {order.reference_price} is not positive",
                                reference=reference)
        as_of = context.now.date() if context is not None and context.now is not None else None
        down, up = instruments.price_band(order, reference, as_of)
        if down - 1e-9 <= price <= up + 1e-9:
            return Verdict.approve(self.name, order)
        return Verdict.deny(
            self.name,
            f"price_band: price {price:.2f} is outside the band {down:.2f}–{up:.2f} (±10 % of reference {reference:.2f})",
            price=price, limit_down=down, limit_up=up, reference=reference)
