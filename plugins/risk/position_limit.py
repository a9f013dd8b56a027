"""Position limits: per-symbol position and gross exposure as fractions of equity."""

from __future__ import annotations

from pydantic import Field

from jgod_core import Params, RiskRule
from jgod_core.execution.orders import Order, Verdict
from jgod_core.risk.engine import PARENT
from jgod_plugins.risk._common import fmt_twd
from jgod_plugins.tw_market.instruments import floor_to_lots


class PositionLimitParams(Params):
    max_position_fraction: float = Field(0.15, gt=0, le=2, description="Largest |position| × price of one symbol, "
                                                                        "as a fraction of equity.")
    max_gross_exposure: float = Field(1.0, gt=0, le=4, description="Largest Σ |position| × price, fraction of equity.")


class PositionLimitRule(RiskRule):
    """Reduces (whole lots) or denies exposure-increasing orders that would breach either limit.

    Values positions at ``mark_prices`` × their multiplier (the order's limit price for its own
    symbol); caps are whole lots of the order's instrument (1,000 shares, or 1 contract).
    """

    name = "position_limit"
    version = "1.0.0"
    Params = PositionLimitParams
    stages = (PARENT,)

    def check(self, order: Order, context) -> Verdict:
        if not context.increases_exposure(order):
            return Verdict.approve(self.name, order)
        equity = context.equity
        price = float(order.limit_price) * order.multiplier  # NT$ per unit
        if equity <= 0:
            return Verdict.deny(self.name, f"position_limit: equity {fmt_twd(equity)} is not positive", equity=equity)
        position = context.position(order.symbol)
        post = position + order.signed_quantity
        cap = floor_to_lots(order, self.params.max_position_fraction * equity / price)
        gross_now = context.gross_exposure()
        own_now = abs(position) * context.mark_prices.get(order.symbol, float(order.limit_price)) * order.multiplier
        room = self.params.max_gross_exposure * equity - (gross_now - own_now)
        gross_cap = floor_to_lots(order, max(0.0, room) / price)
        allowed_abs_post = min(cap, gross_cap)
        if abs(post) <= allowed_abs_post:
            return Verdict.approve(self.name, order)
        allowed_q = order.quantity - (abs(post) - allowed_abs_post)
        binding = "max_position_fraction" if cap <= gross_cap else "max_gross_exposure"
        return Verdict.reduce(
            self.name, allowed_q,
            f"position_limit: post-trade position {abs(post)} {'contracts' if order.is_future else 'shares'} of {order.symbol} exceeds {allowed_abs_post} "
            f"allowed by {binding} (position cap {cap}, gross-exposure room {fmt_twd(room)}); "
            f"quantity {order.quantity} → {max(0, allowed_q)}",
            post_position=post, position_cap=cap, gross_cap=gross_cap, equity=equity, gross_exposure=gross_now)
