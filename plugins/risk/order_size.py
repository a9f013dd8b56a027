"""Order size: at most ``max_child_lots`` per order sent to the exchange and ``max_parent_notional_twd`` per parent."""

from __future__ import annotations

from pydantic import Field

from jgod_core import Params, RiskRule
from jgod_core.execution.orders import Order, Verdict
from jgod_core.risk.engine import CHILD
from jgod_plugins.risk._common import fmt_twd


class OrderSizeParams(Params):
    max_child_lots: int = Field(499, ge=1, le=10_000, description="Largest order sent to the exchange, lots "
                                                                   "(TWSE accepts at most 499 lots per order).")
    max_parent_notional_twd: int = Field(200_000_000, ge=1, description="Largest parent order, quantity × limit, NT$.")


class OrderSizeRule(RiskRule):
    """Denies child orders above the lot cap and parent orders above the notional cap."""

    name = "order_size"
    version = "1.0.0"
    Params = OrderSizeParams

    def check(self, order: Order, context) -> Verdict:
        p = self.params
        if context.stage == CHILD:
            lots = order.lots  # board lots, or contracts
            if lots > p.max_child_lots:
                return Verdict.deny(self.name, f"order_size: {lots:g} lots exceeds max_child_lots {p.max_child_lots}",
                                    lots=lots, max_child_lots=p.max_child_lots)
            return Verdict.approve(self.name, order)
        notional = float(order.notional)
        if notional > p.max_parent_notional_twd:
            return Verdict.deny(self.name, f"order_size: notional {fmt_twd(notional)} exceeds max_parent_notional_twd "
                                           f"{fmt_twd(p.max_parent_notional_twd)}",
                                notional=notional, max_parent_notional_twd=p.max_parent_notional_twd)
        return Verdict.approve(self.name, order)
